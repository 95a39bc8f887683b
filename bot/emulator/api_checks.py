"""Checks and statuses routes: check runs and suites for a ref, create/update runs, statuses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.emulator import shapes
from bot.emulator._http import JsonBody, auth_of, emulator, paged, read_repo, respond, write_repo
from bot.emulator.api_repos import resolve_commit
from bot.emulator.core import ApiError, Emulator, not_found, validation_failed

__all__ = ["router"]

router = APIRouter()
J = dict[str, Any]
STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CONCLUSIONS = (
    "success",
    "failure",
    "neutral",
    "cancelled",
    "skipped",
    "timed_out",
    "action_required",
)
STATES = ("error", "failure", "pending", "success")


def _runs_for(emu: Emulator, full_name: str, sha: str) -> list[J]:
    return sorted(
        (
            r
            for r in emu.store.data["check_runs"].values()
            if r["repo"] == full_name and r["head_sha"] == sha
        ),
        key=lambda r: r["id"],
        reverse=True,
    )


@router.get("/repos/{owner}/{repo}/commits/{ref:path}/check-runs")
def list_check_runs_for_ref(request: Request, owner: str, repo: str, ref: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    sha = resolve_commit(emu, full_name, ref)
    runs = _runs_for(emu, full_name, sha)
    name = request.query_params.get("check_name")
    status = request.query_params.get("status")
    app_id = request.query_params.get("app_id")
    if name:
        runs = [r for r in runs if r["name"] == name]
    if status:
        runs = [r for r in runs if r["status"] == status]
    if app_id:
        runs = [r for r in runs if str(r["app_id"]) == app_id]
    if request.query_params.get("filter", "latest") == "latest":
        seen: set[tuple[str, int]] = set()
        latest = []
        for run in runs:
            key = (run["name"], run["app_id"])
            if key not in seen:
                seen.add(key)
                latest.append(run)
        runs = latest
    return paged(request, [shapes.check_run_json(emu, r) for r in runs], wrap="check_runs")


@router.get("/repos/{owner}/{repo}/commits/{ref:path}/check-suites")
def list_check_suites_for_ref(request: Request, owner: str, repo: str, ref: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    sha = resolve_commit(emu, full_name, ref)
    suites = sorted(
        (
            s
            for s in emu.store.data["check_suites"].values()
            if s["repo"] == full_name and s["head_sha"] == sha
        ),
        key=lambda s: s["id"],
    )
    app_id = request.query_params.get("app_id")
    if app_id:
        suites = [s for s in suites if str(s["app_id"]) == app_id]
    return paged(request, [shapes.check_suite_json(emu, s) for s in suites], wrap="check_suites")


def _suite_for(emu: Emulator, full_name: str, sha: str, app_id: int) -> J:
    for suite in emu.store.data["check_suites"].values():
        if suite["repo"] == full_name and suite["head_sha"] == sha and suite["app_id"] == app_id:
            return suite  # type: ignore[no-any-return]
    branches = [
        ref.removeprefix("refs/heads/")
        for ref, tip in emu.git(full_name).refs("refs/heads/").items()
        if tip == sha
    ]
    now = emu.clock.iso()
    suite = {
        "id": emu.store.next_id("check_suite"),
        "repo": full_name,
        "head_sha": sha,
        "head_branch": branches[0] if branches else None,
        "before": None,
        "app_id": app_id,
        "status": "queued",
        "conclusion": None,
        "created_at": now,
        "updated_at": now,
    }
    emu.store.data["check_suites"][str(suite["id"])] = suite
    return suite


def _roll_up(emu: Emulator, suite: J) -> None:
    runs = [r for r in emu.store.data["check_runs"].values() if r["suite_id"] == suite["id"]]
    suite["updated_at"] = emu.clock.iso()
    if runs and all(r["status"] == "completed" for r in runs):
        conclusions = {r["conclusion"] for r in runs}
        order = (
            "action_required",
            "cancelled",
            "timed_out",
            "failure",
            "neutral",
            "skipped",
            "success",
        )
        was = suite["status"]
        suite["status"] = "completed"
        suite["conclusion"] = next((c for c in order if c in conclusions), "success")
        if was != "completed":
            emu.webhooks.emit_check_suite(suite, "completed")
    elif runs:
        suite["status"] = (
            "in_progress" if any(r["status"] == "in_progress" for r in runs) else "queued"
        )
        suite["conclusion"] = None


def _apply_run_fields(run: J, body: J) -> None:
    status = body.get("status")
    conclusion = body.get("conclusion")
    if status is not None and status not in STATUSES:
        raise validation_failed("CheckRun", "status", "invalid")
    if conclusion is not None and conclusion not in CONCLUSIONS:
        raise validation_failed("CheckRun", "conclusion", "invalid")
    if conclusion is not None:
        status = "completed"
    if status == "completed" and conclusion is None and run.get("conclusion") is None:
        raise ApiError(422, "Invalid request.\n\nNo conclusion given for a completed check run.")
    for key in ("name", "details_url", "external_id", "started_at"):
        if key in body:
            run[key] = body[key]
    if status is not None:
        run["status"] = status
    if conclusion is not None:
        run["conclusion"] = conclusion
    if "output" in body and isinstance(body["output"], dict):
        out = body["output"]
        run["output"] = {
            "title": out.get("title"),
            "summary": out.get("summary"),
            "text": out.get("text"),
        }


@router.post("/repos/{owner}/{repo}/check-runs")
def create_check_run(request: Request, owner: str, repo: str, body: JsonBody) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    name, head_sha = body.get("name"), body.get("head_sha")
    if not isinstance(name, str) or not name:
        raise validation_failed("CheckRun", "name", "missing_field")
    if not isinstance(head_sha, str) or emu.git(full_name).object_type(head_sha) != "commit":
        raise ApiError(422, "No commit found for SHA: " + str(head_sha))
    now = emu.clock.iso()
    with emu.lock:
        suite = _suite_for(emu, full_name, head_sha, emu.app["id"])
        run: J = {
            "id": emu.store.next_id("check_run"),
            "repo": full_name,
            "suite_id": suite["id"],
            "head_sha": head_sha,
            "name": name,
            "status": "queued",
            "conclusion": None,
            "started_at": now,
            "completed_at": None,
            "external_id": None,
            "details_url": None,
            "output": {"title": None, "summary": None, "text": None},
            "app_id": emu.app["id"],
        }
        _apply_run_fields(run, body)
        if run["status"] == "completed":
            run["completed_at"] = body.get("completed_at") or now
        emu.store.data["check_runs"][str(run["id"])] = run
    actor = auth_of(request).actor(emu)
    emu.webhooks.emit_check_run(run, "created", actor)
    if run["status"] == "completed":
        emu.webhooks.emit_check_run(run, "completed", actor)
    _roll_up(emu, suite)
    return respond(shapes.check_run_json(emu, run), status=201)


def _run(emu: Emulator, full_name: str, run_id: int) -> J:
    run = emu.store.data["check_runs"].get(str(run_id))
    if run is None or run["repo"] != full_name:
        raise not_found()
    return run  # type: ignore[no-any-return]


@router.get("/repos/{owner}/{repo}/check-runs/{run_id}")
def get_check_run(request: Request, owner: str, repo: str, run_id: int) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    return respond(shapes.check_run_json(emu, _run(emu, full_name, run_id)))


@router.patch("/repos/{owner}/{repo}/check-runs/{run_id}")
def update_check_run(
    request: Request, owner: str, repo: str, run_id: int, body: JsonBody
) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    run = _run(emu, full_name, run_id)
    if run["app_id"] != emu.app["id"]:
        raise ApiError(
            403,
            f"Invalid app_id `{emu.app['id']}` - check run can only be modified by the GitHub "
            "App that created it.",
        )
    was = run["status"]
    with emu.lock:
        _apply_run_fields(run, body)
        if run["status"] == "completed" and was != "completed":
            run["completed_at"] = body.get("completed_at") or emu.clock.iso()
    if run["status"] == "completed" and was != "completed":
        emu.webhooks.emit_check_run(run, "completed", auth_of(request).actor(emu))
    _roll_up(emu, emu.store.data["check_suites"][str(run["suite_id"])])
    return respond(shapes.check_run_json(emu, run))


@router.get("/repos/{owner}/{repo}/check-suites/{suite_id}")
def get_check_suite(request: Request, owner: str, repo: str, suite_id: int) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    suite = emu.store.data["check_suites"].get(str(suite_id))
    if suite is None or suite["repo"] != full_name:
        raise not_found()
    return respond(shapes.check_suite_json(emu, suite))


@router.get("/repos/{owner}/{repo}/check-suites/{suite_id}/check-runs")
def list_runs_in_suite(request: Request, owner: str, repo: str, suite_id: int) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    suite = emu.store.data["check_suites"].get(str(suite_id))
    if suite is None or suite["repo"] != full_name:
        raise not_found()
    runs = [r for r in emu.store.data["check_runs"].values() if r["suite_id"] == suite_id]
    return paged(request, [shapes.check_run_json(emu, r) for r in runs], wrap="check_runs")


@router.post("/repos/{owner}/{repo}/check-suites/{suite_id}/rerequest")
def rerequest_suite(request: Request, owner: str, repo: str, suite_id: int) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    suite = emu.store.data["check_suites"].get(str(suite_id))
    if suite is None or suite["repo"] != full_name:
        raise not_found()
    if suite["app_id"] == emu.ci_app["id"]:
        emu.ci.rerun(suite)
    return respond({}, status=201)


# -- commit statuses ------------------------------------------------------------------------
def _statuses_for(emu: Emulator, full_name: str, sha: str) -> list[J]:
    return sorted(
        (
            s
            for s in emu.store.data["statuses"].values()
            if s["repo"] == full_name and s["sha"] == sha
        ),
        key=lambda s: s["id"],
        reverse=True,
    )


@router.get("/repos/{owner}/{repo}/commits/{ref:path}/status")
def combined_status(request: Request, owner: str, repo: str, ref: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    sha = resolve_commit(emu, full_name, ref)
    latest: dict[str, J] = {}
    for status in _statuses_for(emu, full_name, sha):
        latest.setdefault(status["context"], status)
    states = {s["state"] for s in latest.values()}
    if not latest:
        state = "pending"
    elif states & {"error", "failure"}:
        state = "failure"
    elif "pending" in states:
        state = "pending"
    else:
        state = "success"
    api_repo = f"{emu.api_url}/repos/{full_name}"
    items = [shapes.status_json(emu, s) for s in latest.values()]
    per_page_items = paged(request, items)
    body = {
        "state": state,
        "statuses": items,
        "sha": sha,
        "total_count": len(items),
        "repository": shapes.repo_json(emu, full_name, minimal=True),
        "commit_url": f"{api_repo}/commits/{sha}",
        "url": f"{api_repo}/commits/{sha}/status",
    }
    link = per_page_items.headers.get("link")
    return respond(body, headers={"Link": link} if link else None)


@router.get("/repos/{owner}/{repo}/commits/{ref:path}/statuses")
def list_statuses(request: Request, owner: str, repo: str, ref: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    sha = resolve_commit(emu, full_name, ref)
    return paged(request, [shapes.status_json(emu, s) for s in _statuses_for(emu, full_name, sha)])


@router.post("/repos/{owner}/{repo}/statuses/{sha}")
def create_status(
    request: Request, owner: str, repo: str, sha: str, body: JsonBody
) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    if emu.git(full_name).object_type(sha) != "commit":
        raise ApiError(422, f"No commit found for SHA: {sha}")
    state = body.get("state")
    if state not in STATES:
        raise validation_failed("Status", "state", "invalid")
    now = emu.clock.iso()
    status = {
        "id": emu.store.next_id("status"),
        "repo": full_name,
        "sha": emu.git(full_name).resolve(sha),
        "state": state,
        "description": body.get("description"),
        "target_url": body.get("target_url"),
        "context": body.get("context") or "default",
        "created_at": now,
        "updated_at": now,
        "creator": auth_of(request).actor(emu),
    }
    with emu.lock:
        emu.store.data["statuses"][str(status["id"])] = status
    emu.webhooks.emit_status(status)
    return respond(shapes.status_json(emu, status), status=201)
