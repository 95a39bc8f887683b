"""The dashboard's routes under ``/dashboard``: server-rendered, read-only pages (no script),
each one behind the access decision of `bot.service.dashboard.access`.

Pages: the rollouts with a progress bar per wave and the outcome metrics per template version;
a rollout with each consumer's PR, checks, churn, conflicts and revert; a consumer with its
version history. Jinja2 renders them with autoescape on, so stored names are text, never HTML.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.clock import Clock, SystemClock
from bot.service.dashboard.access import (
    SESSION_SECONDS,
    DashboardAccess,
    check_basic,
    github_web_url,
    local_decision,
    new_state,
    read_session,
    sign_session,
)
from bot.service.dashboard.oauth import GitHubSignIn, SignInError
from bot.service.dashboard.queries import consumer_page, rollout_page, rollout_summaries
from bot.store import Store

__all__ = ["PREFIX", "DashboardDeps", "dashboard_router"]

log = structlog.get_logger("bot.service.dashboard")
PREFIX = "/dashboard"
SESSION_COOKIE = "evobot_dashboard"
STATE_COOKIE = "evobot_dashboard_oauth"
STATE_SECONDS = 600
SECURITY_HEADERS = {
    # No script at all; styles and images only from here; never framed.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class DashboardDeps:
    """What the dashboard reads (the store) and who may read it (``access``).
    ``sign_in_transport`` replaces the HTTP transport of the GitHub sign-in (tests)."""

    store: Store
    access: DashboardAccess
    clock: Clock = field(default_factory=SystemClock)
    sign_in_transport: httpx.BaseTransport | None = None


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "—"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h"


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.0f}%"


def _checks(passed: bool | None) -> str:
    return "pending" if passed is None else "passed" if passed else "failed"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot.service.dashboard", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=_when, duration=_duration, percent=_percent, checks=_checks)
    env.globals.update(
        prefix=PREFIX,
        rollout_url=lambda key: f"{PREFIX}/rollouts/{quote(key, safe='/@')}",
        consumer_url=lambda repo: f"{PREFIX}/consumers/{quote(repo, safe='/')}",
    )
    return env


def dashboard_router(deps: DashboardDeps) -> APIRouter:
    """The dashboard's routes (mount with ``app.include_router``)."""
    router = APIRouter(prefix=PREFIX)
    env = _environment()
    access = deps.access
    web = github_web_url(access.github_url)
    sign_in = GitHubSignIn(access, deps.sign_in_transport)
    css = resources.files("bot.service.dashboard").joinpath("static/dashboard.css").read_bytes()

    def pr_url(repo: str, number: int) -> str:
        return f"{web}/{quote(repo, safe='/')}/pull/{number}"

    def page(template: str, status: int = 200, **values: Any) -> HTMLResponse:
        values.setdefault("signed_in", None)
        html = env.get_template(template).render(pr_url=pr_url, **values)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def message(status: int, title: str, text: str, **values: Any) -> HTMLResponse:
        return page("message.html.jinja", status, title=title, message=text, **values)

    def guard(request: Request) -> tuple[Response | None, str | None]:
        """(a response refusing the request, or None; the signed-in GitHub login)."""
        if access.auth == "basic":
            if check_basic(access, request.headers.get("authorization")):
                return None, None
            refusal = message(
                401,
                "Sign-in needed",
                "The dashboard needs the user name and password set for it "
                "(EVOBOT_DASHBOARD_USER, EVOBOT_DASHBOARD_PASSWORD).",
            )
            refusal.headers["WWW-Authenticate"] = 'Basic realm="evobot dashboard", charset="UTF-8"'
            return refusal, None
        if access.auth == "github":
            session = read_session(
                access.session_key(), request.cookies.get(SESSION_COOKIE), deps.clock.now()
            )
            login = session.get("login") if session else None
            if isinstance(login, str):
                return None, login
            return RedirectResponse(f"{PREFIX}/login", status_code=303), None
        client = request.client.host if request.client else None
        decision = local_decision(access, client, request.headers)
        if decision.allowed:
            return None, None
        log.warning("dashboard.refused", reason=decision.title, client=client)
        return message(decision.status, decision.title, decision.message), None

    @router.get("/static/dashboard.css", include_in_schema=False)
    def stylesheet() -> Response:
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=300"})

    @router.get("", include_in_schema=False)
    @router.get("/", include_in_schema=False)
    def index(request: Request) -> Response:
        refusal, login = guard(request)
        if refusal is not None:
            return refusal
        return page("index.html.jinja", rollouts=rollout_summaries(deps.store), signed_in=login)

    @router.get("/rollouts/{key:path}", include_in_schema=False)
    def rollout(request: Request, key: str) -> Response:
        refusal, login = guard(request)
        if refusal is not None:
            return refusal
        found = rollout_page(deps.store, key)
        if found is None:
            return message(404, "No such rollout", f"No rollout {key} is stored.", signed_in=login)
        return page("rollout.html.jinja", rollout=found, signed_in=login)

    @router.get("/consumers/{repo:path}", include_in_schema=False)
    def consumer(request: Request, repo: str) -> Response:
        refusal, login = guard(request)
        if refusal is not None:
            return refusal
        found = consumer_page(deps.store, repo)
        if found is None:
            text = f"The store knows nothing of the consumer {repo}."
            return message(404, "No such consumer", text, signed_in=login)
        return page("consumer.html.jinja", consumer=found, signed_in=login)

    def callback_url(request: Request) -> str:
        if access.public_url:
            return f"{access.public_url}{PREFIX}/oauth/callback"
        return str(request.url_for("dashboard_oauth_callback"))

    def secure(request: Request) -> bool:
        return (access.public_url or str(request.base_url)).startswith("https://")

    @router.get("/login", include_in_schema=False)
    def login(request: Request) -> Response:
        if access.auth != "github":
            return RedirectResponse(f"{PREFIX}/", status_code=303)
        state = new_state()
        cookie = sign_session(
            access.session_key(), {"state": state, "exp": deps.clock.now() + STATE_SECONDS}
        )
        answer = RedirectResponse(sign_in.authorize_url(state, callback_url(request)), 303)
        answer.set_cookie(
            STATE_COOKIE,
            cookie,
            max_age=STATE_SECONDS,
            path=PREFIX,
            httponly=True,
            samesite="lax",
            secure=secure(request),
        )
        return answer

    @router.get("/oauth/callback", name="dashboard_oauth_callback", include_in_schema=False)
    def oauth_callback(request: Request, code: str = "", state: str = "") -> Response:
        if access.auth != "github":
            return RedirectResponse(f"{PREFIX}/", status_code=303)
        saved = read_session(
            access.session_key(), request.cookies.get(STATE_COOKIE), deps.clock.now()
        )
        expected = saved.get("state") if saved else None
        if not (code and state and isinstance(expected, str)) or not _same(state, expected):
            return message(
                400,
                "Sign-in not completed",
                "The sign-in could not be matched to this browser (it expired, or started "
                "elsewhere). Start again from the dashboard.",
            )
        try:
            who = sign_in.sign_in(code, callback_url(request))
        except SignInError as exc:
            log.info("dashboard.sign_in_refused", reason=exc.message)
            return message(403, "Not allowed", exc.message)
        log.info("dashboard.signed_in", login=who)
        session = sign_session(
            access.session_key(), {"login": who, "exp": deps.clock.now() + SESSION_SECONDS}
        )
        answer = RedirectResponse(f"{PREFIX}/", status_code=303)
        answer.delete_cookie(STATE_COOKIE, path=PREFIX)
        answer.set_cookie(
            SESSION_COOKIE,
            session,
            max_age=SESSION_SECONDS,
            path=PREFIX,
            httponly=True,
            samesite="lax",
            secure=secure(request),
        )
        return answer

    @router.post("/logout", include_in_schema=False)
    def logout() -> Response:
        answer = message(200, "Signed out", "You are signed out of the dashboard.")
        answer.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return answer

    return router


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
