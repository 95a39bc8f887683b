"""The FastAPI application: authentication, limits, faults, counters and ETags in one middleware.

Routes live in ``api_*`` modules (one concern each); this module composes them.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import compile_path

from bot.emulator import api_apps, api_checks, api_git, api_pulls, api_repos, control, githttp
from bot.emulator._http import Auth
from bot.emulator.core import ApiError, Emulator
from bot.emulator.gitstore import GitCommandError

__all__ = ["API_MODULES", "api_endpoints", "create_app", "verify_app_jwt"]

API = "/api/v3"
_INSTALLATION_LOOKUP = re.compile(r"/(repos/[^/]+/[^/]+|orgs/[^/]+|users/[^/]+)/installation")
JWT_MAX_LIFETIME = 600
# Checks before repos: `commits/{ref:path}` would otherwise swallow `commits/{ref}/check-runs`.
API_MODULES = (api_apps, api_checks, api_git, api_pulls, api_repos)


def verify_app_jwt(emu: Emulator, token: str, *, now: float | None = None) -> None:
    """Check a GitHub App JWT as GitHub does; raise a 401 ApiError with its message if bad.

    Time is the wall clock: clients sign JWTs with their own clock, not the emulator's.
    """
    now = time.time() if now is None else now
    undecodable = ApiError(
        401,
        "A JSON web token could not be decoded",
        doc="https://docs.github.com/rest",
    )
    try:
        claims = jwt.decode(
            token,
            emu.public_key_pem,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError as exc:
        raise undecodable from exc
    iss = claims.get("iss")
    if str(iss) not in (str(emu.app["id"]), emu.app["client_id"]):
        raise ApiError(401, "'Issuer' claim ('iss') must be an Integer")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int | float) or iat > now + 60:
        raise ApiError(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the "
            "assertion was issued.",
        )
    if not isinstance(exp, int | float) or exp <= now:
        raise ApiError(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires.",
        )
    if exp - iat > JWT_MAX_LIFETIME:
        raise ApiError(401, "'Expiration time' claim ('exp') is too far in the future.")


def _credential(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if not value:
        return None
    return scheme.lower(), value


_Table = list[tuple[frozenset[str], re.Pattern[str], str]]


def _route_table(routers: list[APIRouter]) -> _Table:
    """(methods, path regex, template) for every API route, to name requests before routing."""
    table: _Table = []
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                regex, _fmt, _conv = compile_path(route.path)
                template = re.sub(r":\w+}", "}", route.path)
                table.append((frozenset(route.methods or ()), regex, template))
    return table


def api_endpoints() -> list[str]:
    """Every emulated REST operation as ``"METHOD /route"`` (the keys of the counters)."""
    table = _route_table([m.router for m in API_MODULES])
    return sorted({f"{m} {t}" for methods, _r, t in table for m in methods})


def _route_template(table: _Table, request: Request) -> str:
    path = request.url.path.removeprefix(API)
    for methods, regex, template in table:
        if request.method in methods and regex.match(path):
            return f"{request.method} {template}"
    return f"{request.method} (unmatched)"


def _rate_headers(limit: int, remaining: int, reset: float, used: int) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(reset)),
        "X-RateLimit-Used": str(used),
        "X-RateLimit-Resource": "core",
    }


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


def create_app(emu: Emulator) -> FastAPI:
    """The ASGI app serving ``emu`` (REST under ``/api/v3``, git over HTTP, control API)."""
    app = FastAPI(title="evobot GitHub emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emulator = emu
    for module in API_MODULES:
        app.include_router(module.router, prefix=API)
    table = _route_table([m.router for m in API_MODULES])
    app.include_router(control.router)
    app.include_router(githttp.router)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc)

    @app.exception_handler(GitCommandError)
    async def _git_error(_request: Request, exc: GitCommandError) -> JSONResponse:
        return _error(ApiError(422, "Validation Failed: " + exc.stderr.strip()[:300]))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"resource": "Request", "code": "invalid", "message": str(e.get("msg"))}
            for e in exc.errors()
        ]
        return _error(ApiError(422, "Validation Failed", errors=errors))

    @app.middleware("http")
    async def _gate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if not path.startswith(API + "/") and path != API:
            return await call_next(request)
        return await _api_gate(table, emu, request, call_next)

    return app


async def _api_gate(
    table: _Table,
    emu: Emulator,
    request: Request,
    call_next: Callable[[Request], Awaitable[Response]],
) -> Response:
    endpoint = _route_template(table, request)
    path = request.url.path.removeprefix(API)
    credential = _credential(request)
    is_app_route = (
        path == "/app" or path.startswith("/app/") or bool(_INSTALLATION_LOOKUP.fullmatch(path))
    )
    auth: Auth
    try:
        if is_app_route:
            if credential is None or credential[0] != "bearer":
                raise ApiError(
                    401,
                    "A JSON web token could not be decoded",
                )
            verify_app_jwt(emu, credential[1])
            auth = Auth("app")
            bucket = "app"
        elif credential is not None:
            info = emu.token_info(credential[1])
            login = None if info else emu.token_user(credential[1])
            if info is not None:
                auth = Auth("installation", info[0], info[1])
                bucket = f"installation:{info[0]}"
            elif login is not None:
                auth = Auth("user", login=login)
                bucket = f"user:{login}"
            else:
                raise ApiError(401, "Bad credentials")
        else:
            auth = Auth("anonymous")
            bucket = f"anon:{request.client.host if request.client else '-'}"
    except ApiError as exc:
        emu.counters.add(endpoint, None)
        return _error(exc)
    request.state.auth = auth
    request.state.bucket = bucket
    emu.counters.add(endpoint, auth.installation_id)
    if path == "/rate_limit":  # GitHub does not count this one against the limit
        return await call_next(request)

    content_creating = request.method in ("POST", "PATCH", "PUT", "DELETE") and not is_app_route
    refusal, state, retry_after = emu.limiter.acquire(bucket, content_creating=content_creating)
    headers = _rate_headers(state.limit, state.remaining, state.reset, state.used)
    headers["Date"] = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(emu.clock.now()))
    headers["X-GitHub-Media-Type"] = "github.v3; format=json"
    headers["X-GitHub-Request-Id"] = f"EMU:{emu.id_rng.getrandbits(48):012X}"
    if refusal == "primary":
        message = (
            f"API rate limit exceeded for installation ID {auth.installation_id}."
            if auth.installation_id
            else "API rate limit exceeded."
        )
        headers["X-RateLimit-Remaining"] = "0"
        headers["Retry-After"] = str(int(retry_after + 0.999))
        return _error(
            ApiError(
                emu.limiter.limits.refusal_status,
                message,
                headers=headers,
                doc="https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            )
        )
    if refusal == "secondary":
        headers["Retry-After"] = str(int(retry_after + 0.999))
        return _error(
            ApiError(
                emu.limiter.limits.refusal_status,
                "You have exceeded a secondary rate limit. Please wait a few minutes before "
                "you try again. If you reach out to GitHub Support for help, please include "
                "the request ID emulator.",
                headers=headers,
                doc="https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                "#about-secondary-rate-limits",
            )
        )
    try:
        if emu.faults.latency:
            await asyncio.sleep(emu.faults.latency)
        fault = emu.faults.decide(endpoint)
        if fault is not None and fault.after:
            # The work happens (a PR is created, a ref moves) but the answer is lost, as when
            # GitHub times out or a proxy fails after the write: retries must be idempotent.
            await call_next(request)
        if fault is not None:
            if fault.kind == "timeout":
                await asyncio.sleep(fault.delay)
                return _error(
                    ApiError(504, "We couldn't respond to your request in time.", headers=headers)
                )
            message = {502: "Server Error", 503: "Service Unavailable"}.get(
                fault.status, "Internal Server Error"
            )
            return _error(ApiError(fault.status, message, headers=headers))
        response = await call_next(request)
    finally:
        emu.limiter.release(bucket)
    for key, value in headers.items():
        response.headers.setdefault(key, value)
    if request.method == "GET" and response.status_code == 200:
        response = await _with_etag(request, response)
        if response.status_code == 304:
            emu.limiter.refund(bucket)
            state = emu.limiter.peek(bucket)
            response.headers["X-RateLimit-Remaining"] = str(state.remaining)
            response.headers["X-RateLimit-Used"] = str(state.used)
    return response


async def _with_etag(request: Request, response: Response) -> Response:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return response
    chunks: list[bytes] = []
    body_iterator: Any = getattr(response, "body_iterator", None)
    if body_iterator is None:
        return response
    async for chunk in body_iterator:
        chunks.append(chunk if isinstance(chunk, bytes) else chunk.encode())
    body = b"".join(chunks)
    etag = f'W/"{hashlib.sha256(body).hexdigest()[:40]}"'
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    headers["ETag"] = etag
    wanted = request.headers.get("if-none-match", "")
    if wanted and etag in [tag.strip() for tag in wanted.split(",")]:
        headers.pop("content-type", None)
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=200, headers=headers, media_type="application/json")
