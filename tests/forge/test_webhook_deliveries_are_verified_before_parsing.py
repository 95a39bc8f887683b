"""Webhook deliveries: GitHub's real payloads, signed, parse into events; anything unsigned,
badly signed, oversized, too deep or not a JSON object is refused with a WebhookError naming
what is wrong, and random input never raises anything else."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from webhook_support import SECRET, delivery, examples, sign, signature_vector

from bot.errors import WebhookError
from bot.forge.webhook import WebhookEvent, parse_event, verify_signature

EXAMPLES = list(examples())


def test_github_s_published_signature_vector_verifies() -> None:
    vector = signature_vector()
    verify_signature(vector["body"].encode(), vector["X-Hub-Signature-256"], vector["secret"])
    with pytest.raises(WebhookError, match="does not match the body"):
        verify_signature(b"Hello, World?", vector["X-Hub-Signature-256"], vector["secret"])


def test_every_real_payload_parses_into_an_event() -> None:
    assert len(EXAMPLES) > 100
    for event, payload in EXAMPLES:
        headers, body = delivery(event, payload)
        parsed = parse_event(headers, body, SECRET)
        assert parsed.event == event
        assert parsed.delivery_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
        assert parsed.payload == payload
        assert parsed.action == payload.get("action")
        if isinstance(payload.get("installation"), dict):
            assert parsed.installation_id == payload["installation"]["id"]
        if isinstance(payload.get("repository"), dict):
            assert parsed.repository == payload["repository"]["full_name"]
        if isinstance(payload.get("sender"), dict):
            assert parsed.sender == payload["sender"]["login"]


def test_a_pull_request_event_names_what_evobot_routes_on() -> None:
    event, payload = next(
        (e, p) for e, p in EXAMPLES if e == "pull_request" and "installation" in p
    )
    headers, body = delivery(event, payload)
    parsed = parse_event({k.lower(): v for k, v in headers.items()}, body, SECRET.decode())
    assert isinstance(parsed, WebhookEvent)
    assert parsed.repository and "/" in parsed.repository
    assert isinstance(parsed.installation_id, int)


@pytest.mark.parametrize(
    ("header", "message", "status"),
    [
        (None, "header is missing: the delivery is not signed", 401),
        ("", "header is missing", 401),
        ("sha1=" + "0" * 40, "its scheme is 'sha1'", 401),
        ("0" * 64, "its scheme is 'none'", 401),
        ("sha256=xyz", "the digest is not 64 hex digits", 401),
        ("sha256=" + "0" * 64, "does not match the body", 401),
    ],
)
def test_a_bad_signature_is_refused_naming_what_is_wrong(
    header: str | None, message: str, status: int
) -> None:
    with pytest.raises(WebhookError, match=message) as caught:
        verify_signature(b"{}", header, SECRET)
    assert caught.value.status == status


def test_an_empty_secret_trusts_nothing() -> None:
    with pytest.raises(WebhookError, match="secret is empty"):
        verify_signature(b"{}", sign(b"{}", b""), b"")


def test_a_wrong_secret_fails() -> None:
    headers, body = delivery("ping", {"zen": "hi"}, secret=b"another")
    with pytest.raises(WebhookError, match="does not match"):
        parse_event(headers, body, SECRET)


def test_the_signature_is_checked_before_the_body_is_parsed() -> None:
    headers, _ = delivery("ping", {"zen": "hi"})
    headers["X-Hub-Signature-256"] = sign(b"{}")
    with pytest.raises(WebhookError, match="does not match"):
        parse_event(headers, b"not json at all", SECRET)  # not a JSON error: never parsed


def _signed(body: bytes, **extra: str) -> dict[str, str]:
    return {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "d-1",
        "X-Hub-Signature-256": sign(body),
        **extra,
    }


@pytest.mark.parametrize(
    ("body", "extra", "message", "status"),
    [
        (b"[1, 2]", {}, "the payload is a JSON list, not an object", 400),
        (b"{nope", {}, "the payload is not JSON", 400),
        (b'{"a": NaN}', {}, "the payload is not JSON", 400),
        (b"\xff{}", {}, "the payload is not UTF-8", 400),
        (b"[" * 100_000 + b"]" * 100_000, {}, "nests deeper than 64 levels", 400),
        (b'{"a": "' + b"[" * 1000 + b'"}', {}, None, 0),  # brackets inside a string do not nest
        (b"{}", {"Content-Type": "application/x-www-form-urlencoded"}, "not application/json", 415),
        (b'{"action": 5}', {}, "the payload's action is int, expected str", 400),
        (b'{"installation": {"id": "7"}}', {}, "installation.id is str, expected int", 400),
    ],
)
def test_malformed_payloads_are_refused(
    body: bytes, extra: dict[str, str], message: str | None, status: int
) -> None:
    if message is None:
        parse_event(_signed(body, **extra), body, SECRET)
        return
    with pytest.raises(WebhookError, match=message) as caught:
        parse_event(_signed(body, **extra), body, SECRET)
    assert caught.value.status == status


@pytest.mark.parametrize(
    ("drop", "value", "message"),
    [
        ("X-GitHub-Event", None, "X-GitHub-Event header is missing"),
        ("X-GitHub-Event", "Push Event!", "not an event name"),
        ("X-GitHub-Delivery", None, "X-GitHub-Delivery header is missing"),
        ("X-GitHub-Delivery", "a b\n", "not a delivery id"),
    ],
)
def test_missing_or_bad_headers_are_refused(drop: str, value: str | None, message: str) -> None:
    headers = _signed(b"{}")
    del headers[drop]
    if value is not None:
        headers[drop] = value
    with pytest.raises(WebhookError, match=message):
        parse_event(headers, b"{}", SECRET)


def test_an_oversized_body_is_refused_before_hashing() -> None:
    body = b"{}" + b" " * 2000
    with pytest.raises(WebhookError, match="more than 1000") as caught:
        parse_event(_signed(body), body, SECRET, max_body_bytes=1000)
    assert caught.value.status == 413


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256", "Content-Type"]
        )
        | st.text(max_size=20),
        st.text(max_size=80),
        max_size=6,
    ),
    st.binary(max_size=2048),
    st.binary(max_size=32),
)
def test_random_headers_and_bodies_raise_only_webhook_errors(
    headers: dict[str, str], body: bytes, secret: bytes
) -> None:
    try:
        parse_event(headers, body, secret)
    except WebhookError as exc:
        assert exc.message
    signed = {**headers, "X-Hub-Signature-256": sign(body, secret)}  # reaches the parser
    try:
        parse_event(signed, body, secret)
    except WebhookError as exc:
        assert exc.message


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=40,
)


@settings(max_examples=200, deadline=None)
@given(_json, st.integers(0, 200))
def test_signed_random_json_parses_or_is_refused_cleanly(payload: object, nest: int) -> None:
    body = json.dumps({"action": "x", "data": payload}).encode()
    body = b'{"deep": ' + b"[" * nest + b"1" + b"]" * nest + b", " + body[1:]
    depth = max(nest + 1, 1 + _depth(payload))
    try:
        event = parse_event(_signed(body), body, SECRET)
    except WebhookError as exc:
        assert "nests deeper than 64" in exc.message and depth > 64
    else:
        assert event.action == "x" and depth <= 64


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(EXAMPLES), st.data())
def test_one_flipped_byte_fails_verification(
    example: tuple[str, dict[str, object]], data: st.DataObject
) -> None:
    event, payload = example
    headers, body = delivery(event, payload)
    at = data.draw(st.integers(0, len(body) - 1))
    flipped = bytearray(body)
    flipped[at] ^= data.draw(st.integers(1, 255))
    with pytest.raises(WebhookError, match="does not match the body"):
        parse_event(headers, bytes(flipped), SECRET)
