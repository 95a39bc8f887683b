"""heal_once over the recording App port (no HTTP): the deliveries the store lacks are asked for
again, each redelivery reaches the web edge with its original id, and a second pass asks for
nothing."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from service_support import settings_for, signed

from bot.forge.fake_app import RecordingApp
from bot.forge.port import HookDelivery
from bot.service import Service
from bot.service.healing import heal_once


def test_missing_deliveries_are_redelivered_once(tmp_path: Path, sqlite_url: str) -> None:
    service = Service.build(settings_for(sqlite_url, tmp_path / "state"))
    client = TestClient(service.web_app())
    bodies = {f"g-{i}": {"zen": str(i)} for i in range(4)}

    def resend(attempt: HookDelivery) -> None:  # GitHub POSTs the same delivery again
        response = client.post("/webhook", **_request(attempt.guid, bodies))  # type: ignore[arg-type]
        assert response.status_code == 202

    app = RecordingApp(on_redeliver=resend)
    try:
        for guid in bodies:
            app.log_delivery(guid, "ping", status_code=0)  # never reached the service
        client.post("/webhook", **_request("g-0", bodies))  # type: ignore[arg-type]
        report = heal_once(app, service.store, now=1_900_000_000.0, window_seconds=1e12)
        assert sorted(report.redelivered) == ["g-1", "g-2", "g-3"]
        assert sorted(d.delivery_id for d in service.store.deliveries()) == sorted(bodies)
        assert (
            heal_once(app, service.store, now=1_900_000_000.0, window_seconds=1e12).redelivered
            == ()
        )
    finally:
        service.store.close()


def _request(guid: str, bodies: dict[str, dict[str, str]]) -> dict[str, object]:
    headers, body = signed("ping", bodies[guid], delivery_id=guid)
    return {"content": body, "headers": headers}
