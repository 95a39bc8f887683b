"""The GitHub sign-in (EVOBOT_DASHBOARD_AUTH=github) against an Enterprise Server address: the
browser is sent to GHE's authorize page with an unguessable state, the code is exchanged there,
and only an active member of the configured team gets a session. GitHub is an
`httpx.MockTransport` here, answering as GitHub documents (the emulator serves no OAuth)."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import httpx
from dashboard_support import Fleet
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.clock import ManualClock
from bot.service.dashboard import DashboardAccess, DashboardDeps, dashboard_router
from bot.store import Store

API = "https://ghe.example.com/api/v3"
ACCESS = DashboardAccess(
    auth="github",
    github_client_id="Iv1.dashboard",
    github_client_secret="client-secret-for-tests",
    github_org="acme",
    github_team="platform",
    github_url=API,
    bind_host="0.0.0.0",
)
MEMBERS = {"mona": "active", "hubot": "pending"}


def _github(requests: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        url = str(request.url)
        if url == "https://ghe.example.com/login/oauth/access_token":
            form = parse_qs(request.content.decode())
            if form["client_secret"] != ["client-secret-for-tests"] or form["code"][0] not in {
                "code-mona",
                "code-hubot",
                "code-octocat",
            }:
                return httpx.Response(200, json={"error": "bad_verification_code"})
            login = form["code"][0].removeprefix("code-")
            return httpx.Response(200, json={"access_token": f"token-{login}", "scope": "read:org"})
        login = request.headers.get("authorization", "").removeprefix("Bearer token-")
        if url == f"{API}/user":
            return httpx.Response(200, json={"login": login})
        if url == f"{API}/orgs/acme/teams/platform/memberships/{login}":
            if login in MEMBERS:
                return httpx.Response(200, json={"state": MEMBERS[login], "role": "member"})
            return httpx.Response(404, json={"message": "Not Found"})
        return httpx.Response(404, json={"message": "Not Found"})

    return httpx.MockTransport(answer)


def _client(store: Store, requests: list[httpx.Request], clock: ManualClock) -> TestClient:
    app = FastAPI()
    deps = DashboardDeps(store, ACCESS, clock=clock, sign_in_transport=_github(requests))
    app.include_router(dashboard_router(deps))
    return TestClient(app, base_url="https://evobot.example.com", client=("203.0.113.7", 1))


def _sign_in(client: TestClient, code: str) -> httpx.Response:
    login = client.get("/dashboard/login", follow_redirects=False)
    assert login.status_code == 303
    target = urlsplit(login.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == (
        "https://ghe.example.com/login/oauth/authorize"
    )
    query = parse_qs(target.query)
    assert query["client_id"] == ["Iv1.dashboard"]
    assert query["scope"] == ["read:org"]
    assert query["redirect_uri"] == ["https://evobot.example.com/dashboard/oauth/callback"]
    state = query["state"][0]
    assert len(state) >= 32
    return client.get(
        "/dashboard/oauth/callback", params={"code": code, "state": state}, follow_redirects=False
    )


def test_a_team_member_signs_in_and_sees_the_dashboard(fleet_store: tuple[Store, Fleet]) -> None:
    store, _ = fleet_store
    requests: list[httpx.Request] = []
    clock = ManualClock(1_800_000_000)
    client = _client(store, requests, clock)

    before = client.get("/dashboard/", follow_redirects=False)
    assert before.status_code == 303
    assert before.headers["location"] == "/dashboard/login"

    back = _sign_in(client, "code-mona")
    assert back.status_code == 303
    assert back.headers["location"] == "/dashboard/"
    cookie = back.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "token-mona" not in cookie
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert "fastapi-service" in page.text
    assert "mona" in page.text
    assert [str(r.url) for r in requests] == [
        "https://ghe.example.com/login/oauth/access_token",
        f"{API}/user",
        f"{API}/orgs/acme/teams/platform/memberships/mona",
    ]

    clock.advance(9 * 3600)  # the session lasts eight hours
    assert client.get("/dashboard/", follow_redirects=False).status_code == 303


def test_people_outside_the_team_or_not_yet_active_are_refused(
    fleet_store: tuple[Store, Fleet],
) -> None:
    store, _ = fleet_store
    for code, login in (("code-octocat", "octocat"), ("code-hubot", "hubot")):
        client = _client(store, [], ManualClock(1_800_000_000))
        refused = _sign_in(client, code)
        assert refused.status_code == 403
        assert f"{login} is not an active member of the team acme/platform" in refused.text
        assert client.get("/dashboard/", follow_redirects=False).status_code == 303


def test_a_callback_without_the_browsers_state_or_with_a_bad_code_signs_nobody_in(
    fleet_store: tuple[Store, Fleet],
) -> None:
    store, _ = fleet_store
    requests: list[httpx.Request] = []
    client = _client(store, requests, ManualClock(1_800_000_000))

    forged = client.get(
        "/dashboard/oauth/callback",
        params={"code": "code-mona", "state": "guessed"},
        follow_redirects=False,
    )
    assert forged.status_code == 400
    assert "could not be matched to this browser" in forged.text
    assert requests == []  # nothing was sent to GitHub

    bad = _sign_in(client, "code-stolen")
    assert bad.status_code == 403
    assert "GitHub did not accept the sign-in code (HTTP 200: bad_verification_code)" in bad.text


def test_a_forged_session_cookie_is_not_a_session(fleet_store: tuple[Store, Fleet]) -> None:
    store, _ = fleet_store
    client = _client(store, [], ManualClock(1_800_000_000))
    payload = json.dumps({"login": "mallory", "exp": 9_999_999_999}).encode()
    forged = base64.urlsafe_b64encode(payload).decode() + "." + "0" * 64
    client.cookies.set("evobot_dashboard", forged, domain="evobot.example.com", path="/dashboard")
    assert client.get("/dashboard/", follow_redirects=False).status_code == 303
