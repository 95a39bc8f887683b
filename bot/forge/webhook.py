"""Webhook deliveries from GitHub, checked and parsed without I/O (sans-I/O, like gidgethub).

The ``X-Hub-Signature-256`` HMAC is checked on the raw body before anything of it is parsed;
the body's size and its JSON nesting depth are bounded first, so a hostile request costs little
and never raises anything but :class:`~bot.errors.WebhookError`, whose ``status`` is the HTTP
answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import WebhookError

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "SIGNATURE_HEADER",
    "WebhookEvent",
    "parse_event",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
MAX_JSON_DEPTH = 64  # GitHub's payloads nest about 6 deep

_EVENT = re.compile(r"[a-z][a-z0-9_]{0,63}")
_DELIVERY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
# JSON strings (skipped whole) and the brackets that nest. Possessive quantifiers: an
# unterminated string cannot make the match backtrack.
_NESTING = re.compile(rb'"(?:[^"\\]++|\\.)*+"|[\[\]{}]', re.DOTALL)


@dataclass(frozen=True)
class WebhookEvent:
    """One verified delivery: the names evobot routes on, and the whole payload."""

    event: str  # X-GitHub-Event
    delivery_id: str  # X-GitHub-Delivery, the idempotency key
    action: str | None
    installation_id: int | None
    repository: str | None  # full name, OWNER/NAME
    sender: str | None  # login
    payload: dict[str, Any]


def sign(body: bytes, secret: bytes | str) -> str:
    """The ``X-Hub-Signature-256`` value for ``body``: what GitHub (and the emulator) send."""
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, signature_header: str | None, secret: bytes | str) -> None:
    """Raise :class:`WebhookError` unless ``signature_header`` is the HMAC-SHA256 of ``body``.

    Compared in constant time; the message names what is wrong, never the expected value.
    """
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    if not key:
        raise WebhookError(
            "the webhook secret is empty; refusing to trust any delivery",
            status=500,
            hint="set the same secret on the GitHub App's webhook and in evobot's settings",
        )
    if signature_header is None or not signature_header.strip():
        raise WebhookError(
            f"the {SIGNATURE_HEADER} header is missing: the delivery is not signed",
            status=401,
            hint="set a secret on the webhook in the GitHub App's settings",
        )
    scheme, sep, digest = signature_header.strip().partition("=")
    if not sep or scheme.lower() != "sha256":
        shown = scheme[:16] if sep and scheme.isalnum() else "none"
        raise WebhookError(
            f"{SIGNATURE_HEADER} must be 'sha256=<64 hex digits>'; its scheme is {shown!r}",
            status=401,
        )
    if not _HEX64.fullmatch(digest):
        raise WebhookError(f"{SIGNATURE_HEADER}: the digest is not 64 hex digits", status=401)
    expected = sign(body, key).partition("=")[2]
    if not hmac.compare_digest(expected, digest.lower()):
        raise WebhookError(
            f"{SIGNATURE_HEADER} does not match the body: a wrong secret, or a changed body",
            status=401,
        )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _check_depth(body: bytes, max_depth: int) -> None:
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return
    depth = 0
    for match in _NESTING.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                raise WebhookError(f"the payload nests deeper than {max_depth} levels")
        elif token in (b"]", b"}"):
            depth -= 1


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _optional(payload: Mapping[str, Any], path: str, kind: type) -> Any:
    """``payload[a][b]`` for ``path`` "a.b"; None when absent; an error when of the wrong type."""
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
        if value is None:
            return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise WebhookError(
            f"the payload's {path} is {type(value).__name__}, expected {kind.__name__}"
        )
    return value


def parse_event(
    headers: Mapping[str, str],
    body: bytes,
    secret: bytes | str,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> WebhookEvent:
    """Verify and parse one delivery: size, then signature, then headers, then JSON."""
    if len(body) > max_body_bytes:
        raise WebhookError(
            f"the delivery is {len(body)} bytes, more than {max_body_bytes}", status=413
        )
    verify_signature(body, _header(headers, SIGNATURE_HEADER), secret)
    event = _header(headers, "X-GitHub-Event")
    if event is None or not _EVENT.fullmatch(event):
        what = "missing" if event is None else f"not an event name: {event[:64]!r}"
        raise WebhookError(f"the X-GitHub-Event header is {what}")
    delivery = _header(headers, "X-GitHub-Delivery")
    if delivery is None or not _DELIVERY.fullmatch(delivery):
        what = "missing" if delivery is None else f"not a delivery id: {delivery[:64]!r}"
        raise WebhookError(f"the X-GitHub-Delivery header is {what}")
    content_type = _header(headers, "Content-Type")
    if content_type is not None:
        media = content_type.split(";", 1)[0].strip().lower()
        if media != "application/json":
            raise WebhookError(
                f"the delivery is {media[:64]!r}, not application/json",
                status=415,
                hint="set the webhook's content type to application/json",
            )
    _check_depth(body, max_depth)
    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise WebhookError(f"the payload is not UTF-8 (byte {exc.start})") from None
    except RecursionError:
        raise WebhookError(f"the payload nests deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise WebhookError(f"the payload is not JSON: {str(exc)[:200]}") from None
    if not isinstance(payload, dict):
        raise WebhookError(f"the payload is a JSON {type(payload).__name__}, not an object")
    return WebhookEvent(
        event=event,
        delivery_id=delivery,
        action=_optional(payload, "action", str),
        installation_id=_optional(payload, "installation.id", int),
        repository=_optional(payload, "repository.full_name", str),
        sender=_optional(payload, "sender.login", str),
        payload=payload,
    )
