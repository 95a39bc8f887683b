"""Git smart HTTP through the real `git http-backend` (clone, fetch, push) and tarball downloads."""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from bot.emulator._http import emulator
from bot.emulator.core import Emulator
from bot.git import Git

__all__ = ["router"]

router = APIRouter()
_AUTH_CHALLENGE = {"WWW-Authenticate": 'Basic realm="GitHub"'}


def _basic_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    if scheme.lower() in ("bearer", "token"):
        return value.strip() or None
    return None


def _git_actor(emu: Emulator, full_name: str, token: str | None, *, write: bool) -> str | None:
    """The login a git request acts as, or None when it may not."""
    if token is None:
        return None
    info = emu.token_info(token)
    if info is not None:
        inst, repos = info
        if full_name in emu.installation_repos(inst) and (repos is None or full_name in repos):
            return emu.bot_login
        return None
    user = emu.token_user(token)
    if user is None:
        return None
    allowed = (
        ("admin", "maintain", "write")
        if write
        else ("admin", "maintain", "write", "triage", "read")
    )
    if emu.permission(full_name, user) in allowed or (
        not write and not emu.repo_rec(full_name)["private"]
    ):
        return user
    return None


@router.api_route("/{owner}/{repo}.git/{rest:path}", methods=["GET", "POST"])
async def git_http(request: Request, owner: str, repo: str, rest: str) -> Response:
    emu = emulator(request)
    full_name = f"{owner}/{repo}"
    if not emu.has_repo(full_name):
        return Response("Repository not found.\n", status_code=404, media_type="text/plain")
    service = request.query_params.get("service") or rest.rsplit("/", 1)[-1]
    write = service == "git-receive-pack"
    token = _basic_token(request)
    actor = _git_actor(emu, full_name, token, write=write)
    emu.counters.add(f"{request.method} /{{owner}}/{{repo}}.git/{rest.split('/')[0]}", None)
    if actor is None and (write or emu.repo_rec(full_name)["private"]):
        status = 403 if token and _git_actor(emu, full_name, token, write=False) else 401
        return Response(
            "Authentication failed\n" if status == 401 else "Permission denied\n",
            status_code=status,
            headers=_AUTH_CHALLENGE if status == 401 else None,
            media_type="text/plain",
        )
    body = await request.body()
    git = emu.git(full_name)
    before = git.refs() if write else {}
    env = {
        "GIT_PROJECT_ROOT": str(emu.repos_root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{full_name}.git/{rest}",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.url.query,
        "CONTENT_TYPE": request.headers.get("content-type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": request.client.host if request.client else "127.0.0.1",
        "REMOTE_USER": actor or "",
        "GIT_HTTP_MAX_REQUEST_BUFFER": "100M",
    }
    if request.headers.get("content-encoding"):
        env["HTTP_CONTENT_ENCODING"] = request.headers["content-encoding"]
    # The client's protocol only (git's CGI reads it from the environment, not from evobot's).
    env["GIT_PROTOCOL"] = request.headers.get("git-protocol", "")
    backend = Git(emu.repos_root, where=full_name)
    result = await asyncio.to_thread(backend.run, "http-backend", input=body, env=env, check=False)
    response = _cgi_response(result.stdout)
    if write:
        after = git.refs()
        pusher = actor or emu.bot_login
        for ref in sorted(set(before) | set(after)):
            old, new = before.get(ref), after.get(ref)
            if old != new:
                await asyncio.to_thread(
                    emu.after_push, full_name, ref, old or "0" * 40, new or "0" * 40, pusher=pusher
                )
    return response


def _cgi_response(output: bytes) -> Response:
    head, sep, body = output.partition(b"\r\n\r\n")
    if not sep:
        head, _, body = output.partition(b"\n\n")
    status = 200
    headers: dict[str, Any] = {}
    for line in head.decode(errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key.lower() == "status":
            status = int(value.strip().split()[0])
        elif key:
            headers[key.strip()] = value.strip()
    return Response(body, status_code=status, headers=headers)


@router.get("/_codeload/{owner}/{repo}/legacy.tar.gz/{sha}")
def codeload(request: Request, owner: str, repo: str, sha: str) -> Response:
    emu = emulator(request)
    key = request.query_params.get("token", "")
    entry = emu.codeload.get(key)
    full_name = f"{owner}/{repo}"
    emu.counters.add("GET /_codeload", None)
    if entry is None or entry[0] != full_name or entry[1] != sha or entry[2] < emu.clock.now():
        return JSONResponse({"message": "Not Found"}, status_code=404)
    prefix = f"{owner}-{repo}-{sha[:7]}"
    data = emu.git(full_name).archive(sha, prefix)
    return Response(
        data,
        media_type="application/x-gzip",
        headers={"Content-Disposition": f"attachment; filename={prefix}.tar.gz"},
    )
