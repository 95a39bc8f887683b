"""The `/_emulator/...` control API: the handle's powers for an emulator run as a process."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from bot.emulator._http import JsonBody, emulator, respond
from bot.emulator.core import ApiError
from bot.emulator.handle import EmulatorHandle
from bot.emulator.seed import CiRule, FaultSettings, Limits

__all__ = ["router"]

router = APIRouter(prefix="/_emulator")
J = dict[str, Any]


def _handle(request: Request) -> EmulatorHandle:
    return EmulatorHandle(emulator(request))


def _str(body: J, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ApiError(422, f"{key} is required")
    return value


@router.get("/healthz")
def healthz() -> JSONResponse:
    return respond({"ok": True})


@router.get("/counters")
def counters(request: Request) -> JSONResponse:
    handle = _handle(request)
    data = handle.counters.snapshot()
    data["primary_limit_hits"] = handle.primary_limit_hits
    data["secondary_limit_hits"] = handle.secondary_limit_hits
    data["injected_faults"] = handle.injected_faults
    return respond(data)


@router.post("/counters/reset")
def reset_counters(request: Request) -> JSONResponse:
    _handle(request).reset_counters()
    return respond({"ok": True})


@router.post("/ci")
def set_ci(request: Request, body: JsonBody) -> JSONResponse:
    try:
        rule = CiRule.model_validate(body["rule"]) if body.get("rule") is not None else None
    except ValidationError as exc:
        raise ApiError(422, str(exc)) from exc
    repo = _str(body, "repo")
    emulator(request).repo_rec(repo)
    _handle(request).set_ci(repo, rule)
    return respond({"ok": True})


@router.post("/inject")
def inject(request: Request, body: JsonBody) -> JSONResponse:
    handle = _handle(request)
    scripted = body.pop("fail_next", None)
    if body.pop("clear", False):
        handle.clear_faults()
    unknown = set(body) - set(FaultSettings.model_fields)
    if unknown:
        raise ApiError(422, f"unknown fault settings: {', '.join(sorted(unknown))}")
    try:
        handle.inject(**body)
    except ValidationError as exc:
        raise ApiError(422, str(exc)) from exc
    if isinstance(scripted, dict):
        handle.fail_next(
            int(scripted.get("count", 1)),
            status=int(scripted.get("status", 502)),
            match=scripted.get("match"),
            timeout=bool(scripted.get("timeout", False)),
            after=bool(scripted.get("after", False)),
        )
    return respond({"ok": True})


@router.post("/limits")
def limits(request: Request, body: JsonBody) -> JSONResponse:
    handle = _handle(request)
    if body.pop("reset", False):
        handle.reset_limits()
    unknown = set(body) - set(Limits.model_fields)
    if unknown:
        raise ApiError(422, f"unknown limits: {', '.join(sorted(unknown))}")
    handle.set_limits(**body)
    return respond({"ok": True})


@router.get("/clock")
def get_clock(request: Request) -> JSONResponse:
    clock = _handle(request).clock
    return respond({"now": clock.now(), "iso": clock.iso(), "speed": clock.speed})


@router.post("/clock")
def set_clock(request: Request, body: JsonBody) -> JSONResponse:
    clock = _handle(request).clock
    try:
        if body.get("speed") is not None:
            clock.speed = float(body["speed"])
        if body.get("advance"):
            clock.advance(float(body["advance"]))
    except ValueError as exc:
        raise ApiError(422, str(exc)) from exc
    return respond({"now": clock.now(), "iso": clock.iso(), "speed": clock.speed})


@router.get("/deliveries")
def deliveries(request: Request) -> JSONResponse:
    items = [
        {
            "id": d.id,
            "guid": d.guid,
            "event": d.event,
            "action": d.action,
            "status": d.status,
            "status_code": d.status_code,
            "redelivery": d.redelivery,
        }
        for d in _handle(request).deliveries
    ]
    return respond(items)


@router.post("/webhook")
def webhook(request: Request, body: JsonBody) -> JSONResponse:
    _handle(request).set_webhook(body.get("url"), secret=body.get("secret"), down=body.get("down"))
    return respond({"ok": True})


@router.post("/tokens")
def tokens(request: Request, body: JsonBody) -> JSONResponse:
    """An installation token for ``owner`` or a personal token for ``user``."""
    handle = _handle(request)
    if body.get("user"):
        return respond({"token": handle.user_token(_str(body, "user"))}, status=201)
    try:
        return respond({"token": handle.installation_token(_str(body, "owner"))}, status=201)
    except KeyError as exc:
        raise ApiError(404, f"no installation for {body.get('owner')}") from exc


@router.post("/commit")
def commit(request: Request, body: JsonBody) -> JSONResponse:
    files = body.get("files")
    if not isinstance(files, dict):
        raise ApiError(422, "files must be a mapping of path to text (or null to delete)")
    sha = _handle(request).push_commit(
        _str(body, "repo"),
        _str(body, "branch"),
        files,
        body.get("message") or "Edit by a human",
        body.get("author") or "octocat",
    )
    return respond({"sha": sha}, status=201)


@router.post("/comment")
def comment(request: Request, body: JsonBody) -> JSONResponse:
    number = body.get("number")
    if not isinstance(number, int):
        raise ApiError(422, "number is required")
    ident = _handle(request).comment(
        _str(body, "repo"), number, _str(body, "body"), body.get("user") or "octocat"
    )
    return respond({"id": ident}, status=201)


@router.post("/merge")
def merge(request: Request, body: JsonBody) -> JSONResponse:
    number = body.get("number")
    if not isinstance(number, int):
        raise ApiError(422, "number is required")
    sha = _handle(request).merge(
        _str(body, "repo"),
        number,
        by=body.get("user") or "octocat",
        method=body.get("method") or "merge",
    )
    return respond({"sha": sha})


@router.post("/settle")
def settle(request: Request, body: JsonBody) -> JSONResponse:
    try:
        _handle(request).settle(float(body.get("timeout", 60)))
    except TimeoutError as exc:
        raise ApiError(504, str(exc)) from exc
    return respond({"ok": True})
