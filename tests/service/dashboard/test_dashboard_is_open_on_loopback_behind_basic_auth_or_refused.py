"""Who sees the dashboard: without sign-in only on loopback (bound there, asked from there, not
through a proxy); with EVOBOT_DASHBOARD_AUTH=basic only with the right user and password,
compared in constant time; exposed without either it refuses with a page saying what to set."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from dashboard_support import LOOPBACK, Fleet, dashboard_app, local_client
from service_support import settings_for

from bot.service import SettingsError
from bot.service.dashboard import DashboardAccess
from bot.service.dashboard import access as access_module
from bot.service.dashboard.access import check_basic, github_web_url, is_loopback
from bot.store import Store

REMOTE = ("203.0.113.7", 50000)
PASSWORD = "correct horse battery staple"
BASIC = DashboardAccess(auth="basic", user="platform", password=PASSWORD, bind_host="0.0.0.0")


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_without_auth_the_dashboard_is_open_to_loopback(fleet_store: tuple[Store, Fleet]) -> None:
    store, _ = fleet_store
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        app = dashboard_app(store, DashboardAccess(bind_host="127.0.0.1"))
        assert local_client(app).get("/dashboard/", headers={"Host": host}).status_code == 200
    client = local_client(dashboard_app(store, DashboardAccess(bind_host="127.0.0.1")))

    assert client.get("/dashboard/").status_code == 200


@pytest.mark.parametrize(
    ("bind_host", "client", "headers", "why"),
    [
        ("0.0.0.0", LOOPBACK, {}, "the service listens on 0.0.0.0"),
        ("::", LOOPBACK, {}, "the service listens on ::"),
        ("127.0.0.1", REMOTE, {}, "this request did not come from this machine"),
        ("127.0.0.1", LOOPBACK, {"X-Forwarded-For": "198.51.100.4"}, "came through a proxy"),
        ("127.0.0.1", LOOPBACK, {"Forwarded": "for=198.51.100.4"}, "came through a proxy"),
        ("127.0.0.1", LOOPBACK, {"Host": "rebound.example:8000"}, "names another host"),
    ],
)
def test_exposed_without_auth_the_dashboard_refuses_with_a_page_saying_what_to_set(
    fleet_store: tuple[Store, Fleet],
    bind_host: str,
    client: tuple[str, int],
    headers: dict[str, str],
    why: str,
) -> None:
    store, fleet = fleet_store
    app = dashboard_app(store, DashboardAccess(bind_host=bind_host))
    web = local_client(app, client)

    for path in (
        "/dashboard/",
        f"/dashboard/rollouts/{fleet.new_key}",
        "/dashboard/consumers/acme/search",
    ):
        answer = web.get(path, headers=headers)
        assert answer.status_code == 403
        assert "The dashboard is not open to the network" in answer.text
        assert why in answer.text
        assert "EVOBOT_DASHBOARD_AUTH=basic" in answer.text
        assert "acme/search" not in answer.text
    assert web.get("/healthz").status_code == 200


def test_basic_auth_answers_401_until_the_right_user_and_password(
    fleet_store: tuple[Store, Fleet],
) -> None:
    store, _ = fleet_store
    client = local_client(dashboard_app(store, BASIC), REMOTE)

    missing = client.get("/dashboard/")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Basic realm="evobot dashboard", charset="UTF-8"'
    assert "fastapi-service" not in missing.text
    for user, password in [
        ("platform", "wrong password!"),
        ("someone", PASSWORD),
        ("platform", PASSWORD + "x"),
        ("", ""),
    ]:
        assert client.get("/dashboard/", headers=_basic(user, password)).status_code == 401
    assert client.get("/dashboard/", headers={"Authorization": "Basic !!!"}).status_code == 401
    assert client.get("/dashboard/", headers={"Authorization": "Bearer x"}).status_code == 401

    allowed = client.get("/dashboard/", headers=_basic("platform", PASSWORD))
    assert allowed.status_code == 200
    assert "fastapi-service" in allowed.text


def test_basic_auth_compares_user_and_password_in_constant_time_always_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = access_module.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(access_module.hmac, "compare_digest", spy)
    assert not check_basic(BASIC, _basic("intruder", "guess")["Authorization"])
    # A wrong user does not stop the password from being compared (no early exit).
    assert compared == [(b"intruder", b"platform"), (b"guess", PASSWORD.encode())]
    compared.clear()
    assert check_basic(BASIC, _basic("platform", PASSWORD)["Authorization"])
    assert len(compared) == 2


def test_basic_auth_without_a_configured_password_lets_nobody_in() -> None:
    empty = DashboardAccess(auth="basic", user="", password="")
    assert not check_basic(empty, _basic("", "")["Authorization"])


def test_the_settings_refuse_basic_or_github_auth_that_is_not_set_up(tmp_path: Path) -> None:
    url = f"sqlite+pysqlite:///{tmp_path}/e.db"
    with pytest.raises(SettingsError) as error:
        settings_for(url, tmp_path, dashboard_auth="basic", dashboard_user="platform")
    assert error.value.message == (
        "EVOBOT_DASHBOARD_PASSWORD is not set (EVOBOT_DASHBOARD_AUTH=basic needs it)"
    )
    with pytest.raises(SettingsError) as error:
        settings_for(
            url, tmp_path, dashboard_auth="basic", dashboard_user="p", dashboard_password="short"
        )
    assert error.value.message == "EVOBOT_DASHBOARD_PASSWORD: must be at least 12 characters long"
    assert "short" not in error.value.message
    with pytest.raises(SettingsError) as error:
        settings_for(
            url,
            tmp_path,
            dashboard_auth="github",
            dashboard_github_client_id="Iv1.abc",
            dashboard_github_client_secret="s3cr3t-client-secret",
            dashboard_github_org="acme",
        )
    assert error.value.message == (
        "EVOBOT_DASHBOARD_GITHUB_TEAM is not set (EVOBOT_DASHBOARD_AUTH=github needs it)"
    )
    with pytest.raises(SettingsError) as error:
        settings_for(url, tmp_path, dashboard_auth="everyone")
    assert error.value.message.startswith("EVOBOT_DASHBOARD_AUTH: input should be 'none', 'basic'")

    settings = settings_for(
        url,
        tmp_path,
        dashboard_auth="basic",
        dashboard_user="platform",
        dashboard_password=PASSWORD,
    )
    access = settings.dashboard_access("0.0.0.0")
    assert (access.auth, access.user, access.password, access.bind_host) == (
        "basic",
        "platform",
        PASSWORD,
        "0.0.0.0",
    )
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in repr(access)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("example.org", False),
        ("", False),
        (None, False),
    ],
)
def test_what_counts_as_loopback(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("api", "web"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com"),
        ("https://api.acme.ghe.com", "https://acme.ghe.com"),
        ("http://127.0.0.1:8123/api/v3", "http://127.0.0.1:8123"),
    ],
)
def test_the_github_web_address_follows_the_api_address(api: str, web: str) -> None:
    assert github_web_url(api) == web
