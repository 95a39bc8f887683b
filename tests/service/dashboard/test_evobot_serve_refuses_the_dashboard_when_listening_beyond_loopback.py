"""`evobot serve` builds the dashboard from its settings and the address it listens on: on
127.0.0.1 it is open to this machine; on 0.0.0.0 with no EVOBOT_DASHBOARD_AUTH it refuses
even a local browser; with basic auth it asks for the password."""

from __future__ import annotations

import base64
from pathlib import Path

from dashboard_support import local_client
from service_support import settings_for

from bot.service import Service

PASSWORD = "a long dashboard password"


def test_the_listening_address_decides_whether_the_dashboard_is_open(
    sqlite_url: str, tmp_path: Path
) -> None:
    service = Service.build(settings_for(sqlite_url, tmp_path / "state"))
    try:
        local = local_client(service.web_app("127.0.0.1")).get("/dashboard/")
        assert local.status_code == 200
        assert "No rollout is stored yet" in local.text

        exposed = local_client(service.web_app("0.0.0.0")).get("/dashboard/")
        assert exposed.status_code == 403
        assert "the service listens on 0.0.0.0" in exposed.text
        assert local_client(service.web_app("0.0.0.0")).get("/healthz").status_code == 200
    finally:
        service.store.close()


def test_basic_auth_settings_reach_the_dashboard(sqlite_url: str, tmp_path: Path) -> None:
    settings = settings_for(
        sqlite_url,
        tmp_path / "state",
        dashboard_auth="basic",
        dashboard_user="platform",
        dashboard_password=PASSWORD,
    )
    service = Service.build(settings)
    try:
        client = local_client(service.web_app("0.0.0.0"), ("198.51.100.9", 4000))
        assert client.get("/dashboard/").status_code == 401
        token = base64.b64encode(f"platform:{PASSWORD}".encode()).decode()
        answer = client.get("/dashboard/", headers={"Authorization": f"Basic {token}"})
        assert answer.status_code == 200
    finally:
        service.store.close()
