"""App and account routes: the app, its installations, installation tokens, webhook deliveries,
rate limit, and the user a personal token acts as."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from bot.emulator import shapes
from bot.emulator._http import JsonBody, auth_of, emulator, page_params, paged, respond
from bot.emulator.core import ApiError, not_found
from bot.emulator.webhooks import installation_json

__all__ = ["router"]

router = APIRouter()
J = dict[str, Any]


@router.get("/app")
def get_app(request: Request) -> JSONResponse:
    emu = emulator(request)
    return respond(shapes.integration_json(emu, emu.app))


@router.get("/user")
def get_authenticated_user(request: Request) -> JSONResponse:
    """The user a personal token acts as; GitHub refuses installation tokens (403)."""
    emu = emulator(request)
    auth = auth_of(request)
    if auth.kind == "installation":
        raise ApiError(
            403,
            "Resource not accessible by integration",
            doc="https://docs.github.com/rest/users/users#get-the-authenticated-user",
        )
    if auth.kind != "user" or auth.login is None:
        raise ApiError(
            401,
            "Requires authentication",
            doc="https://docs.github.com/rest/users/users#get-the-authenticated-user",
        )
    when = emu.clock.iso()
    profile: J = dict.fromkeys(("bio", "blog", "company", "email", "hireable", "location"))
    return respond(
        {
            **shapes.user_json(emu, auth.login),
            **profile,
            "name": auth.login,
            "public_repos": 0,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": when,
            "updated_at": when,
            "user_view_type": "public",
        }
    )


@router.get("/app/installations")
def list_installations(request: Request) -> JSONResponse:
    emu = emulator(request)
    ids = sorted(int(k) for k in emu.store.data["installations"])
    return paged(request, [installation_json(emu, i, rest=True) for i in ids])


@router.get("/app/installations/{installation_id}")
def get_installation(request: Request, installation_id: int) -> JSONResponse:
    emu = emulator(request)
    return respond(installation_json(emu, installation_id, rest=True))


def _installation_by(request: Request, predicate: Any) -> JSONResponse:
    emu = emulator(request)
    for key in emu.store.data["installations"]:
        if predicate(int(key)):
            return respond(installation_json(emu, int(key), rest=True))
    raise not_found()


@router.get("/repos/{owner}/{repo}/installation")
def get_repo_installation(request: Request, owner: str, repo: str) -> JSONResponse:
    emu = emulator(request)
    return _installation_by(request, lambda i: f"{owner}/{repo}" in emu.installation_repos(i))


@router.get("/orgs/{org}/installation")
def get_org_installation(request: Request, org: str) -> JSONResponse:
    emu = emulator(request)
    return _installation_by(request, lambda i: emu.installation(i)["account"] == org)


@router.get("/users/{username}/installation")
def get_user_installation(request: Request, username: str) -> JSONResponse:
    emu = emulator(request)
    return _installation_by(request, lambda i: emu.installation(i)["account"] == username)


@router.post("/app/installations/{installation_id}/access_tokens")
def create_installation_token(
    request: Request, installation_id: int, body: JsonBody
) -> JSONResponse:
    emu = emulator(request)
    available = emu.installation_repos(installation_id)
    wanted: list[str] | None = None
    if body.get("repositories") or body.get("repository_ids"):
        owner = emu.installation(installation_id)["account"]
        by_id = {emu.repo_rec(n)["id"]: n for n in available}
        wanted = []
        for name in body.get("repositories") or []:
            full = name if "/" in name else f"{owner}/{name}"
            if full not in available:
                raise ApiError(
                    422,
                    f"There is at least one repository that does not exist or "
                    f"is not accessible to the parent installation: {name}",
                )
            wanted.append(full)
        for ident in body.get("repository_ids") or []:
            if ident not in by_id:
                raise ApiError(
                    422,
                    "There is at least one repository that does not exist or is "
                    "not accessible to the parent installation.",
                )
            wanted.append(by_id[ident])
    token, expires = emu.mint_token(installation_id, repositories=wanted)
    data: J = {
        "token": token,
        "expires_at": emu.clock.iso(expires),
        "permissions": dict(emu.app["permissions"]),
        "repository_selection": "selected" if wanted is not None else "all",
    }
    if wanted is not None:
        data["repositories"] = [shapes.repo_json(emu, n) for n in wanted]
    return respond(data, status=201)


@router.get("/installation/repositories")
def list_installation_repositories(request: Request) -> JSONResponse:
    emu = emulator(request)
    auth = auth_of(request)
    if auth.kind != "installation" or auth.installation_id is None:
        raise ApiError(
            403,
            "You must authenticate with an installation access token in order "
            "to list repositories for an installation.",
        )
    names = emu.installation_repos(auth.installation_id)
    if auth.repositories is not None:
        names = [n for n in names if n in auth.repositories]
    inst = emu.installation(auth.installation_id)
    return paged(
        request,
        [shapes.repo_json(emu, n) for n in names],
        wrap="repositories",
        extra={"repository_selection": "all" if inst["repositories"] is None else "selected"},
    )


@router.get("/rate_limit")
def get_rate_limit(request: Request) -> JSONResponse:
    emu = emulator(request)
    state = emu.limiter.peek(request.state.bucket)
    core = {
        "limit": state.limit,
        "remaining": state.remaining,
        "reset": int(state.reset),
        "used": state.used,
        "resource": "core",
    }
    reset = int(emu.clock.now()) + 60
    search = {"limit": 30, "remaining": 30, "reset": reset, "used": 0, "resource": "search"}
    graphql = {
        "limit": 5000,
        "remaining": 5000,
        "reset": reset + 3540,
        "used": 0,
        "resource": "graphql",
    }
    return respond(
        {"resources": {"core": core, "search": search, "graphql": graphql}, "rate": core}
    )


def _delivery_item(d: J) -> J:
    return {
        "id": d["id"],
        "guid": d["guid"],
        "delivered_at": d["delivered_at"],
        "redelivery": d["redelivery"],
        "duration": d["duration"],
        "status": d["status"],
        "status_code": d["status_code"],
        "event": d["event"],
        "action": d["action"],
        "installation_id": d["installation_id"],
        "repository_id": d["repository_id"],
        "throttled_at": None,
    }


@router.get("/app/hook/deliveries")
def list_deliveries(request: Request) -> JSONResponse:
    emu = emulator(request)
    items = [_delivery_item(d) for d in reversed(emu.webhooks.deliveries)]
    cursor = request.query_params.get("cursor")
    if cursor:
        if not cursor.isdigit():
            raise ApiError(422, "Invalid cursor")
        items = [d for d in items if d["id"] < int(cursor)]
    per_page, _page = page_params(request)
    page, rest = items[:per_page], items[per_page:]
    headers = None
    if rest:
        url = f"{emu.api_url}/app/hook/deliveries?per_page={per_page}&cursor={page[-1]['id']}"
        headers = {"Link": f'<{url}>; rel="next"'}
    return respond(page, headers=headers)


@router.get("/app/hook/deliveries/{delivery_id}")
def get_delivery(request: Request, delivery_id: int) -> JSONResponse:
    emu = emulator(request)
    d = emu.webhooks.get(delivery_id)
    if d is None:
        raise not_found()
    data = _delivery_item(d)
    data["url"] = d["url"]
    data["request"] = {"headers": d["request_headers"], "payload": json.loads(d["body"])}
    data["response"] = {"headers": d["response_headers"], "payload": d["response_body"]}
    return respond(data)


@router.post("/app/hook/deliveries/{delivery_id}/attempts")
def redeliver(request: Request, delivery_id: int) -> Response:
    emu = emulator(request)
    if emu.webhooks.get(delivery_id) is None:
        raise not_found()
    emu.webhooks.redeliver(delivery_id)
    return respond({}, status=202)
