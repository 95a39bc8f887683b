"""Webhooks: signed like GitHub (checked against GitHub's test vector), shaped like its schema,
logged, never retried on their own, redelivered on request with the same delivery id."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from tests_emulator_support import load_json

from bot.emulator import sign
from bot.emulator.testing import EmulatorHandle, running_emulator

SECRET = "emulator webhook secret"


class Receiver:
    """A real HTTP server on loopback that records what it gets and can play 'service down'."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()


@pytest.fixture
def hooked(seed: dict[str, Any], tmp_path: Path, receiver: Receiver) -> Iterator[EmulatorHandle]:
    seed["webhook"] = {"url": receiver.url, "secret": SECRET}
    with running_emulator(seed, tmp_path / "state") as handle:
        yield handle


@pytest.fixture
def webhook_schema(fixtures_dir: Path) -> dict[str, Any]:
    return load_json(fixtures_dir / "webhooks" / "schema.json")


def _validate(schema: dict[str, Any], event: str, payload: dict[str, Any]) -> None:
    action = payload.get("action")
    name = f"{event}${action}" if action else f"{event}$event"
    definition = {"$ref": f"#/definitions/{name}", "definitions": schema["definitions"]}
    jsonschema.Draft7Validator(definition).validate(payload)


def test_signing_matches_githubs_published_vector(fixtures_dir: Path) -> None:
    vector = yaml.safe_load((fixtures_dir / "webhooks" / "signature-vector.yml").read_text())
    assert sign(vector["secret"], vector["body"].encode()) == vector["X-Hub-Signature-256"]


def _drive_everything(handle: EmulatorHandle) -> None:
    """Push, open/sync/merge a PR, comment, set a status, run CI: every event we emulate."""
    token = handle.installation_token("acme")
    api = httpx.Client(
        base_url=handle.api_url, headers={"Authorization": f"token {token}"}, trust_env=False
    )
    main = api.get("/repos/acme/svc/branches/main").json()["commit"]["sha"]
    head = handle.push_commit("acme/svc", "main", {"src/app.py": "print(2)\n"}, author="alice")
    assert head != main
    api.post("/repos/acme/svc/git/refs", json={"ref": "refs/heads/feature", "sha": head})
    handle.push_commit("acme/svc", "feature", {"new.txt": "x\n"}, author="alice")
    pr = api.post("/repos/acme/svc/pulls", json={"title": "T", "head": "feature", "base": "main"})
    number = pr.json()["number"]
    handle.push_commit("acme/svc", "feature", {"new.txt": "y\n"}, author="alice")
    comment = handle.comment("acme/svc", number, "/evobot status", user="alice")
    api.patch(f"/repos/acme/svc/issues/comments/{comment}", json={"body": "/evobot help"})
    api.patch(f"/repos/acme/svc/pulls/{number}", json={"title": "T2", "body": "report"})
    api.patch(f"/repos/acme/svc/pulls/{number}", json={"state": "closed"})
    api.patch(f"/repos/acme/svc/pulls/{number}", json={"state": "open"})
    api.post(
        f"/repos/acme/svc/statuses/{head}",
        json={"state": "success", "context": "lint", "description": "ok"},
    )
    handle.settle()
    handle.merge("acme/svc", number, by="alice")
    handle.settle()
    handle.emulator.webhooks.emit_installation(77, "created")
    handle.emulator.webhooks.emit_installation_repositories(77, ["acme/svc"], [])
    handle.settle()


def test_every_emitted_payload_is_valid_against_the_webhook_schema(
    hooked: EmulatorHandle, receiver: Receiver, webhook_schema: dict[str, Any]
) -> None:
    _drive_everything(hooked)
    seen = {(d.event, d.action) for d in hooked.deliveries}
    expected = {
        ("push", None),
        ("pull_request", "opened"),
        ("pull_request", "synchronize"),
        ("pull_request", "closed"),
        ("issue_comment", "created"),
        ("issue_comment", "edited"),
        ("pull_request", "edited"),
        ("pull_request", "reopened"),
        ("status", None),
        ("check_run", "created"),
        ("check_run", "completed"),
        ("check_suite", "completed"),
        ("installation", "created"),
        ("installation_repositories", "added"),
    }
    assert expected <= seen
    for delivery in hooked.deliveries:
        _validate(webhook_schema, delivery.event, delivery.payload)
    closed = [
        d.payload for d in hooked.deliveries if (d.event, d.action) == ("pull_request", "closed")
    ]
    assert [c["pull_request"]["merged"] for c in closed] == [False, True]
    edited = next(
        d.payload for d in hooked.deliveries if d.action == "edited" and d.event == "pull_request"
    )
    assert edited["changes"] == {"title": {"from": "T"}, "body": {"from": ""}}
    comment = next(d.payload for d in hooked.deliveries if d.event == "issue_comment")
    assert "pull_request" in comment["issue"]
    assert comment["sender"]["login"] == "alice"


def test_deliveries_carry_githubs_headers_and_a_valid_signature(
    hooked: EmulatorHandle, receiver: Receiver
) -> None:
    hooked.push_commit("acme/svc", "main", {"x.txt": "x\n"}, author="alice")
    hooked.settle()
    assert receiver.received
    headers, body = receiver.received[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-hub-signature-256"] == expected
    assert headers["x-github-event"] == "push"
    assert headers["user-agent"].startswith("GitHub-Hookshot/")
    assert headers["x-github-hook-installation-target-type"] == "integration"
    assert headers["x-github-hook-installation-target-id"] == str(hooked.app_id)
    assert headers["x-github-hook-id"]
    assert len(headers["x-github-delivery"]) == 36
    assert json.loads(body)["installation"]["id"] == 77


def test_failed_delivery_is_logged_not_retried_and_redelivery_keeps_the_guid(
    hooked: EmulatorHandle, receiver: Receiver
) -> None:
    hooked.set_webhook(down=True)
    hooked.push_commit("acme/svc", "main", {"x.txt": "x\n"}, author="alice")
    hooked.settle()
    failed = [d for d in hooked.deliveries if d.event == "push"]
    assert len(failed) == 1 and not failed[0].ok
    assert receiver.received == []

    hooked.set_webhook(down=False)
    receiver.status = 500
    again = hooked.redeliver(failed[0].id)
    assert again.status_code == 500 and not again.ok
    receiver.status = 200

    # Through the REST API, as the app itself would ask (JWT auth).
    import time

    import jwt

    now = int(time.time())
    app_jwt = jwt.encode(
        {"iat": now - 60, "exp": now + 540, "iss": str(hooked.app_id)},
        hooked.private_key_pem,
        algorithm="RS256",
    )
    app_api = httpx.Client(
        base_url=hooked.api_url, headers={"Authorization": f"Bearer {app_jwt}"}, trust_env=False
    )
    listed = app_api.get("/app/hook/deliveries").json()
    assert {d["id"] for d in listed} >= {failed[0].id, again.id}
    detail = app_api.get(f"/app/hook/deliveries/{failed[0].id}").json()
    assert detail["request"]["headers"]["X-GitHub-Event"] == "push"
    assert app_api.post(f"/app/hook/deliveries/{failed[0].id}/attempts").status_code == 202
    hooked.wait_for_deliveries()
    redelivered = [d for d in hooked.deliveries if d.redelivery and d.ok]
    assert redelivered and redelivered[-1].guid == failed[0].guid
    headers, _body = receiver.received[-1]
    assert headers["x-github-delivery"] == failed[0].guid
    pushes = [d for d in hooked.deliveries if d.event == "push"]
    assert len(pushes) == 3  # the original and two redeliveries requested; nothing automatic


def test_payloads_carry_every_field_of_githubs_examples(
    hooked: EmulatorHandle, fixtures_dir: Path
) -> None:
    examples = {
        e["name"]: e["examples"] for e in load_json(fixtures_dir / "webhooks" / "examples.json")
    }
    # Only GitHub Actions' check runs belong to a deployment.
    optional = {("check_run", "deployment")}
    _drive_everything(hooked)
    compared = 0
    for delivery in hooked.deliveries:
        candidates = [
            e for e in examples[delivery.event] if e.get("action") == delivery.action
        ] or examples[delivery.event]
        example, ours = candidates[0], delivery.payload
        assert set(example) - set(ours) <= {"enterprise"}, (delivery.event, delivery.action)
        for key, value in example.items():
            if isinstance(value, dict) and isinstance(ours.get(key), dict):
                missing = {k for k in set(value) - set(ours[key]) if (key, k) not in optional}
                assert not missing, (delivery.event, delivery.action, key, missing)
        compared += 1
    assert compared >= 14
