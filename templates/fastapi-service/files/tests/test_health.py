"""The orchestrator's view of the service: liveness and readiness."""

from fastapi import FastAPI
from fastapi.testclient import TestClient


def test_healthz_reports_ok(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_ready_with_every_check(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert all(result == "ok" for result in body["checks"].values())


def test_readyz_is_unavailable_when_a_check_fails(client: TestClient) -> None:
    async def broken() -> None:
        raise ConnectionError("downstream is down")

    app = client.app
    assert isinstance(app, FastAPI)
    app.state.readiness_checks["downstream"] = broken

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["downstream"] == "failed"


def test_unknown_route_is_404(client: TestClient) -> None:
    assert client.get("/no-such-route").status_code == 404
