"""Helpers every route module shares: who is calling, repository access, JSON bodies, paging."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from bot.emulator.core import ApiError, Emulator, not_found

__all__ = [
    "Auth",
    "JsonBody",
    "auth_of",
    "emulator",
    "json_body",
    "page_params",
    "paged",
    "read_repo",
    "respond",
    "write_repo",
]

J = dict[str, Any]


@dataclass(frozen=True)
class Auth:
    kind: str  # "installation" | "app" | "anonymous"
    installation_id: int | None = None
    repositories: frozenset[str] | None = None
    login: str | None = None

    def actor(self, emu: Emulator) -> str:
        return self.login or emu.bot_login


def emulator(request: Request) -> Emulator:
    emu: Emulator = request.app.state.emulator
    return emu


def auth_of(request: Request) -> Auth:
    value: Auth = getattr(request.state, "auth", Auth("anonymous"))
    return value


def _repo(request: Request, owner: str, repo: str, *, write: bool) -> str:
    emu = emulator(request)
    full_name = f"{owner}/{repo}"
    if not emu.has_repo(full_name):
        raise not_found()
    auth = auth_of(request)
    if auth.kind == "installation":
        assert auth.installation_id is not None
        if full_name not in emu.installation_repos(auth.installation_id):
            raise not_found()
        if auth.repositories is not None and full_name not in auth.repositories:
            raise not_found()
        return full_name
    if auth.kind == "user" and auth.login:
        permission = emu.permission(full_name, auth.login)
        writers = ("admin", "maintain", "write")
        if write and permission in writers:
            return full_name
        if not write and (permission != "none" or not emu.repo_rec(full_name)["private"]):
            return full_name
        if not write or permission == "none":
            raise not_found()
        raise ApiError(403, "Resource not accessible by personal access token")
    if auth.kind == "anonymous" and not write and not emu.repo_rec(full_name)["private"]:
        return full_name
    if auth.kind == "anonymous" and write:
        raise ApiError(401, "Requires authentication")
    raise not_found()


def read_repo(request: Request, owner: str, repo: str) -> str:
    """The full name of a repository the caller may read, else 404 like GitHub."""
    return _repo(request, owner, repo, write=False)


def write_repo(request: Request, owner: str, repo: str) -> str:
    return _repo(request, owner, repo, write=True)


async def json_body(request: Request) -> J:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "Problems parsing JSON") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "Problems parsing JSON")
    return data


JsonBody = Annotated[dict[str, Any], Depends(json_body)]


def respond(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=headers)


def page_params(request: Request) -> tuple[int, int]:
    try:
        per_page = int(request.query_params.get("per_page", "30"))
        page = int(request.query_params.get("page", "1"))
    except ValueError as exc:
        raise ApiError(422, "Invalid pagination parameters") from exc
    return max(1, min(per_page, 100)), max(1, page)


def paged(
    request: Request, items: list[Any], *, wrap: str | None = None, extra: J | None = None
) -> JSONResponse:
    """One page of ``items`` with GitHub's ``Link`` header (``per_page`` ≤ 100, ``page``)."""
    per_page, page = page_params(request)
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    links = []
    emu = emulator(request)
    base = f"{emu.base_url}{request.url.path}"

    def url(n: int) -> str:
        query = dict(request.query_params)
        query.update(page=str(n), per_page=str(per_page))
        return f"{base}?{urlencode(query)}"

    if page > 1:
        links.append(f'<{url(page - 1)}>; rel="prev"')
    if page < last:
        links.append(f'<{url(page + 1)}>; rel="next"')
        links.append(f'<{url(last)}>; rel="last"')
    if page > 1:
        links.append(f'<{url(1)}>; rel="first"')
    headers = {"Link": ", ".join(links)} if links else None
    body: Any = chunk
    if wrap is not None:
        body = {"total_count": len(items), **(extra or {}), wrap: chunk}
    return respond(body, headers=headers)
