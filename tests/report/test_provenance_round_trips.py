"""Provenance is an in-toto Statement v1 / SLSA v1 document that round-trips byte for byte."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from bot.report.provenance import (
    PROVENANCE_PATH,
    ProvenanceError,
    Statement,
    answers_digest,
    build_provenance,
    dump_statement,
    equivalent,
    parse_statement,
)
from bot.tree import File

COMMIT = "0123456789abcdef0123456789abcdef01234567"
TREE = {
    "src/app.py": File(b"print('hi')\n"),
    "README.md": File(b"# svc\n"),
    PROVENANCE_PATH: File(b"{}"),
}


FIXED = datetime(2026, 11, 23, 9, 30, tzinfo=UTC).timestamp()


def _build(**overrides: object) -> Statement:
    args: dict[str, object] = {
        "tree": TREE,
        "template": "https://github.com/acme/fastapi-template",
        "ref": "v1.2.0",
        "commit": COMMIT,
        "answers": {"service_name": "billing", "port": 8080},
        "consumer": "acme/billing",
        "clock": ManualClock(FIXED),
        "new_id": lambda: "inv-1",
    }
    args.update(overrides)
    return build_provenance(**args)  # type: ignore[arg-type]


def test_statement_shape() -> None:
    data = json.loads(dump_statement(_build()))
    assert data["_type"] == "https://in-toto.io/Statement/v1"
    assert data["predicateType"] == "https://slsa.dev/provenance/v1"
    assert [s["name"] for s in data["subject"]] == ["README.md", "src/app.py"]
    assert data["subject"][1]["digest"] == {"sha256": hashlib.sha256(b"print('hi')\n").hexdigest()}
    build = data["predicate"]["buildDefinition"]
    assert build["buildType"].startswith("https://evobot.dev/evolution/v1?version=")
    ext = build["externalParameters"]
    assert ext == {
        "template": "https://github.com/acme/fastapi-template",
        "ref": "v1.2.0",
        "commit": COMMIT,
        "answersDigest": answers_digest({"port": 8080, "service_name": "billing"}),
        "consumer": "acme/billing",
    }
    deps = {d["name"]: d for d in build["resolvedDependencies"]}
    assert deps["template"] == {
        "name": "template",
        "uri": "git+https://github.com/acme/fastapi-template@v1.2.0",
        "digest": {"gitCommit": COMMIT},
    }
    assert deps["evobot"]["uri"].startswith("pkg:pypi/evobot@")
    run = data["predicate"]["runDetails"]
    assert run["builder"]["id"].startswith("https://")
    assert run["metadata"] == {
        "invocationId": "inv-1",
        "startedOn": "2026-11-23T09:30:00Z",
        "finishedOn": "2026-11-23T09:30:00Z",
    }


def test_json_keys_are_sorted_and_round_trip_is_byte_identical() -> None:
    raw = dump_statement(_build())
    text = raw.decode()
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"
    parsed = parse_statement(raw)
    assert parsed == _build()
    assert dump_statement(parsed) == raw


def test_identical_inputs_give_identical_bytes_except_metadata() -> None:
    assert dump_statement(_build()) == dump_statement(_build())
    later = _build(
        clock=ManualClock(FIXED + 3600),
        new_id=lambda: "inv-2",
    )
    assert dump_statement(later) != dump_statement(_build())
    assert equivalent(later, _build())
    assert not equivalent(_build(answers={"service_name": "other", "port": 8080}), _build())


def test_answers_digest_ignores_key_order() -> None:
    assert answers_digest({"a": 1, "b": [1, 2]}) == answers_digest({"b": [1, 2], "a": 1})
    assert answers_digest({"a": 1}) != answers_digest({"a": 2})


def test_unparseable_or_foreign_statements_are_refused_with_a_reason() -> None:
    with pytest.raises(ProvenanceError, match="not valid JSON"):
        parse_statement(b"{nope")
    data = json.loads(dump_statement(_build()))
    data["predicateType"] = "https://example.com/other"
    with pytest.raises(ProvenanceError, match="predicateType"):
        parse_statement(json.dumps(data))


def test_credentials_in_the_template_url_are_never_recorded() -> None:
    statement = _build(template="https://x-access-token:ghs_TOKEN123@github.com/acme/t.git")
    raw = dump_statement(statement).decode()
    assert "ghs_TOKEN123" not in raw and "x-access-token" not in raw
    assert statement.external.template == "https://github.com/acme/t.git"
    assert "git+https://github.com/acme/t.git@v1.2.0" in raw


def test_a_rerun_keeps_the_existing_provenance_file() -> None:
    from bot.report.provenance import provenance_file

    first = provenance_file(_build())
    rerun = _build(clock=ManualClock(FIXED + 86400), new_id=lambda: "inv-9")
    assert provenance_file(rerun, first) is first
    changed = _build(answers={"service_name": "other", "port": 8080})
    assert provenance_file(changed, first).data == dump_statement(changed)
    assert provenance_file(rerun, File(b"garbage")).data == dump_statement(rerun)
