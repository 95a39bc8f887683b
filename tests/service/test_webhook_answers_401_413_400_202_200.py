"""POST /webhook: a missing or bad signature is 401, an oversized body 413, malformed JSON or
missing GitHub headers 400; a new delivery is stored and answered 202 before any work; the same
delivery id again is 200 and nothing is stored or queued twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_support import SECRET, settings_for, signed
from sqlalchemy import create_engine

from bot.forge.webhook import sign
from bot.service import Service
from bot.service.web import WebDeps, create_app

PING = {"zen": "Keep it logically awesome.", "hook_id": 1, "repository": {"full_name": "acme/svc"}}


@pytest.fixture
def service(db_url: str, tmp_path: Path) -> Service:
    built = Service.build(settings_for(db_url, tmp_path / "state"))
    yield built
    built.store.close()


@pytest.fixture
def client(service: Service) -> TestClient:
    return TestClient(service.web_app())


def test_a_new_delivery_is_stored_and_queued_and_answered_202(
    service: Service, client: TestClient
) -> None:
    headers, body = signed("ping", PING, delivery_id="d-1")
    response = client.post("/webhook", content=body, headers=headers)
    assert response.status_code == 202
    stored = service.store.delivery("d-1")
    assert stored is not None and stored.event == "ping" and stored.processed_at is None
    assert json.loads(stored.payload) == PING
    jobs = service.store.jobs(state="queued")
    assert [(j.delivery_id, j.key) for j in jobs] == [("d-1", "repo:acme/svc")]


def test_the_same_delivery_again_is_200_and_nothing_is_done_twice(
    service: Service, client: TestClient
) -> None:
    headers, body = signed("ping", PING, delivery_id="d-2")
    assert client.post("/webhook", content=body, headers=headers).status_code == 202
    for _ in range(2):
        assert client.post("/webhook", content=body, headers=headers).status_code == 200
    assert len(service.store.jobs(limit=10)) == 1
    assert len(service.store.deliveries(limit=10)) == 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda h: h.pop("X-Hub-Signature-256"), id="missing"),
        pytest.param(
            lambda h: h.update({"X-Hub-Signature-256": sign(b"{}", SECRET)}), id="other-body"
        ),
        pytest.param(
            lambda h: h.update({"X-Hub-Signature-256": "sha256=" + "0" * 64}), id="wrong-digest"
        ),
        pytest.param(lambda h: h.update({"X-Hub-Signature-256": "sha1=abc"}), id="sha1"),
    ],
)
def test_a_missing_or_bad_signature_is_401_and_nothing_is_stored(
    service: Service, client: TestClient, change: object
) -> None:
    headers, body = signed("ping", PING, delivery_id="d-3")
    change(headers)  # type: ignore[operator]
    response = client.post("/webhook", content=body, headers=headers)
    assert response.status_code == 401
    assert SECRET not in response.text
    assert service.store.delivery("d-3") is None


def test_a_delivery_signed_with_another_secret_is_401(service: Service, client: TestClient) -> None:
    headers, body = signed("ping", PING, secret="not-the-service-secret")
    assert client.post("/webhook", content=body, headers=headers).status_code == 401
    assert service.store.deliveries() == []


def test_a_body_over_the_limit_is_413_before_it_is_read(
    service: Service, client: TestClient
) -> None:
    headers, _ = signed("ping", PING)
    headers["Content-Length"] = str(25 * 1024 * 1024 + 1)
    response = client.post("/webhook", content=b"{}", headers=headers)
    assert response.status_code == 413


def test_a_streamed_body_over_the_limit_is_413(service: Service) -> None:
    small = TestClient(
        create_app(
            WebDeps(
                store=service.store,
                secret=SECRET,
                metrics=service.metrics,
                readiness=service.readiness,
                max_body_bytes=1024,
            )
        )
    )
    headers, body = signed("ping", {"padding": "x" * 4096})

    def chunks() -> object:
        for i in range(0, len(body), 512):
            yield body[i : i + 512]

    response = small.post("/webhook", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert service.store.deliveries() == []


@pytest.mark.parametrize(
    ("event", "body", "drop"),
    [
        pytest.param("ping", b"{not json", None, id="malformed-json"),
        pytest.param("ping", b"[1, 2]", None, id="not-an-object"),
        pytest.param("ping", json.dumps(PING).encode(), "X-GitHub-Event", id="no-event"),
        pytest.param("ping", json.dumps(PING).encode(), "X-GitHub-Delivery", id="no-delivery"),
    ],
)
def test_malformed_json_or_missing_github_headers_are_400(
    service: Service, client: TestClient, event: str, body: bytes, drop: str | None
) -> None:
    headers, body = signed(event, body)
    if drop:
        headers.pop(drop)
    response = client.post("/webhook", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert service.store.deliveries() == []


def test_healthz_and_readyz_answer_without_github(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text


def test_readyz_is_503_when_the_database_is_unreachable(
    service: Service, client: TestClient
) -> None:
    service.store.close()
    # The database goes away under the running service (a path no one can create).
    service.store._db.engine = create_engine("sqlite:////nonexistent/dir/evobot.db")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "database" in response.text


def test_a_delivery_id_longer_than_the_store_keeps_is_400(
    service: Service, client: TestClient
) -> None:
    headers, body = signed("ping", PING, delivery_id="d" * 65)
    response = client.post("/webhook", content=body, headers=headers)
    assert response.status_code == 400
    assert service.store.deliveries() == []
