"""Pull request and issue routes: pulls, merges, files, issue comments, reactions, labels."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from bot.emulator import shapes
from bot.emulator._http import JsonBody, auth_of, emulator, paged, read_repo, respond, write_repo
from bot.emulator.api_repos import diff_entries
from bot.emulator.core import ApiError, Emulator, not_found, validation_failed
from bot.emulator.webhooks import issue_json

__all__ = ["create_comment", "create_issue", "create_pull", "router"]

router = APIRouter()
J = dict[str, Any]
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")


def create_pull(
    emu: Emulator,
    full_name: str,
    *,
    title: str,
    head: str,
    base: str,
    body: str | None,
    user: str,
    draft: bool = False,
) -> J:
    owner = full_name.split("/")[0]
    head_owner, _, head_ref = head.rpartition(":")
    if head_owner and head_owner != owner:
        raise validation_failed("PullRequest", "head", "invalid")
    head_sha = emu.branch_sha(full_name, head_ref)
    if head_sha is None:
        raise validation_failed("PullRequest", "head", "invalid")
    base_sha = emu.branch_sha(full_name, base)
    if base_sha is None:
        raise validation_failed("PullRequest", "base", "invalid")
    for pr in emu.pulls(full_name).values():
        if pr["state"] == "open" and pr["head_ref"] == head_ref and pr["base_ref"] == base:
            raise ApiError(
                422,
                "Validation Failed",
                errors=[
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {owner}:{head_ref}.",
                    }
                ],
            )
    git = emu.git(full_name)
    if git.merge_base(base_sha, head_sha) is None:
        raise ApiError(
            422,
            "Validation Failed",
            errors=[
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": f"The {head_ref} branch has no history in common with {base}",
                }
            ],
        )
    if git.is_ancestor(head_sha, base_sha):
        raise ApiError(
            422,
            "Validation Failed",
            errors=[
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": f"No commits between {base} and {head_ref}",
                }
            ],
        )
    now = emu.clock.iso()
    number = emu.next_number(full_name)
    pr = {
        "id": emu.store.next_id("pull"),
        "repo": full_name,
        "number": number,
        "title": title,
        "body": body,
        "state": "open",
        "user": user,
        "head_ref": head_ref,
        "head_sha": head_sha,
        "base_ref": base,
        "base_sha": base_sha,
        "created_at": now,
        "updated_at": now,
        "closed_at": None,
        "merged_at": None,
        "merge_commit_sha": None,
        "merged_by": None,
        "draft": draft,
        "labels": [],
    }
    with emu.lock:
        emu.pulls(full_name)[str(number)] = pr
    emu.webhooks.emit_pull_request(pr, "opened", user)
    emu.store.dirty = True
    return pr


def create_issue(emu: Emulator, full_name: str, *, title: str, body: str | None, user: str) -> J:
    now = emu.clock.iso()
    number = emu.next_number(full_name)
    issue = {
        "id": emu.store.next_id("issue"),
        "repo": full_name,
        "number": number,
        "title": title,
        "body": body,
        "state": "open",
        "user": user,
        "labels": [],
        "created_at": now,
        "updated_at": now,
        "closed_at": None,
    }
    with emu.lock:
        emu.store.data.setdefault("issues", {})[f"{full_name}#{number}"] = issue
    return issue


def _issue_or_pull(emu: Emulator, full_name: str, number: int) -> J:
    pr = emu.pulls(full_name).get(str(number))
    if pr is not None:
        return pr
    issue = emu.store.data.setdefault("issues", {}).get(f"{full_name}#{number}")
    if issue is None:
        raise not_found()
    return issue  # type: ignore[no-any-return]


def create_comment(emu: Emulator, full_name: str, number: int, body: str, user: str) -> J:
    _issue_or_pull(emu, full_name, number)
    now = emu.clock.iso()
    comment = {
        "id": emu.store.next_id("comment"),
        "repo": full_name,
        "issue_number": number,
        "body": body,
        "user": user,
        "created_at": now,
        "updated_at": now,
    }
    with emu.lock:
        emu.store.data["comments"][str(comment["id"])] = comment
    emu.webhooks.emit_issue_comment(comment, "created", user)
    emu.store.dirty = True
    return comment


def _sorted_pulls(request: Request, pulls: list[J]) -> list[J]:
    sort = request.query_params.get("sort", "created")
    key = "updated_at" if sort in ("updated", "long-running") else "created_at"
    direction = request.query_params.get("direction", "desc")
    return sorted(pulls, key=lambda p: (p[key], p["number"]), reverse=direction != "asc")


@router.get("/repos/{owner}/{repo}/pulls")
def list_pulls(request: Request, owner: str, repo: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    state = request.query_params.get("state", "open")
    head = request.query_params.get("head")
    base = request.query_params.get("base")
    items = []
    for pr in emu.pulls(full_name).values():
        emu.refresh_pull(pr)
        if state != "all" and pr["state"] != state:
            continue
        if head:
            head_owner, _, head_ref = head.rpartition(":")
            if head_owner and head_owner != owner:
                continue
            if pr["head_ref"] != head_ref:
                continue
        if base and pr["base_ref"] != base:
            continue
        items.append(pr)
    return paged(
        request, [shapes.pull_json(emu, p, simple=True) for p in _sorted_pulls(request, items)]
    )


@router.post("/repos/{owner}/{repo}/pulls")
def post_pull(request: Request, owner: str, repo: str, body: JsonBody) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    for field in ("head", "base"):
        if not isinstance(body.get(field), str):
            raise validation_failed("PullRequest", field, "missing_field")
    if not isinstance(body.get("title"), str) and body.get("issue") is None:
        raise validation_failed("PullRequest", "title", "missing_field")
    pr = create_pull(
        emu,
        full_name,
        title=body["title"],
        head=body["head"],
        base=body["base"],
        body=body.get("body"),
        user=auth_of(request).actor(emu),
        draft=bool(body.get("draft", False)),
    )
    return respond(shapes.pull_json(emu, pr), status=201)


@router.get("/repos/{owner}/{repo}/pulls/{number}")
def get_pull(request: Request, owner: str, repo: str, number: int) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    return respond(shapes.pull_json(emu, emu.pull(full_name, number)))


@router.patch("/repos/{owner}/{repo}/pulls/{number}")
def update_pull(
    request: Request, owner: str, repo: str, number: int, body: JsonBody
) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    pr = emu.pull(full_name, number)
    actor = auth_of(request).actor(emu)
    changed: J = {}
    for field in ("title", "body"):
        if field in body and body[field] != pr[field]:
            changed[field] = {"from": pr[field] or ""}
            pr[field] = body[field]
    if "base" in body and body["base"] != pr["base_ref"]:
        if emu.branch_sha(full_name, body["base"]) is None:
            raise validation_failed("PullRequest", "base", "invalid")
        changed["base"] = {"ref": {"from": pr["base_ref"]}, "sha": {"from": pr["base_sha"]}}
        pr["base_ref"] = body["base"]
        emu.refresh_pull(pr)
    new_state = body.get("state")
    if new_state not in (None, "open", "closed"):
        raise validation_failed("PullRequest", "state", "invalid")
    now = emu.clock.iso()
    pr["updated_at"] = now
    if new_state == "closed" and pr["state"] == "open":
        pr.update(state="closed", closed_at=now)
        emu.webhooks.emit_pull_request(pr, "closed", actor)
    elif new_state == "open" and pr["state"] == "closed":
        if pr["merged_at"]:
            raise ApiError(
                422,
                "Validation Failed",
                errors=[
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": "Cannot reopen a merged pull request",
                    }
                ],
            )
        pr.update(state="open", closed_at=None)
        emu.refresh_pull(pr)
        emu.webhooks.emit_pull_request(pr, "reopened", actor)
    elif changed:
        emu.webhooks.emit_pull_request(pr, "edited", actor, changes=changed)
    emu.store.dirty = True
    return respond(shapes.pull_json(emu, pr))


@router.put("/repos/{owner}/{repo}/pulls/{number}/merge")
def merge_pull(
    request: Request, owner: str, repo: str, number: int, body: JsonBody
) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    pr = emu.pull(full_name, number)
    sha = emu.merge_pull(
        pr,
        by=auth_of(request).actor(emu),
        method=body.get("merge_method", "merge"),
        title=body.get("commit_title"),
        message=body.get("commit_message"),
        sha=body.get("sha"),
    )
    return respond({"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


@router.get("/repos/{owner}/{repo}/pulls/{number}/merge")
def is_merged(request: Request, owner: str, repo: str, number: int) -> Response:
    full_name = read_repo(request, owner, repo)
    pr = emulator(request).pull(full_name, number)
    return Response(status_code=204 if pr["merged_at"] else 404)


@router.get("/repos/{owner}/{repo}/pulls/{number}/files")
def list_pull_files(request: Request, owner: str, repo: str, number: int) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    pr = emu.pull(full_name, number)
    base = emu.pull_stats(pr)["merge_base"]
    return paged(
        request, diff_entries(emu, full_name, base, pr["head_sha"], ref_for_urls=pr["head_sha"])
    )


@router.get("/repos/{owner}/{repo}/pulls/{number}/commits")
def list_pull_commits(request: Request, owner: str, repo: str, number: int) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    pr = emu.pull(full_name, number)
    git = emu.git(full_name)
    base = emu.pull_stats(pr)["merge_base"]
    shas = git.rev_list(f"{base}..{pr['head_sha']}")
    commits = git.read_commits(shas)
    return paged(request, [shapes.commit_json(emu, full_name, commits[s]) for s in shas])


# -- issues ---------------------------------------------------------------------------------
@router.post("/repos/{owner}/{repo}/issues")
def post_issue(request: Request, owner: str, repo: str, body: JsonBody) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    if not isinstance(body.get("title"), str):
        raise validation_failed("Issue", "title", "missing_field")
    issue = create_issue(
        emu, full_name, title=body["title"], body=body.get("body"), user=auth_of(request).actor(emu)
    )
    return respond(issue_json(emu, full_name, issue["number"]), status=201)


@router.get("/repos/{owner}/{repo}/issues")
def list_issues(request: Request, owner: str, repo: str) -> JSONResponse:
    """Issues and PRs (as GitHub lists them: PRs carry ``pull_request``), newest first;
    ``state`` (open, closed, all) and ``creator`` filter."""
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    state = request.query_params.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise validation_failed("Issue", "state", "invalid", value=state)
    creator = request.query_params.get("creator")
    issues = [i for i in emu.store.data.setdefault("issues", {}).values() if i["repo"] == full_name]
    items = [
        (item["number"], item["state"], item["user"])
        for item in [*issues, *emu.pulls(full_name).values()]
    ]
    numbers = sorted(
        (
            number
            for number, item_state, user in items
            if (state == "all" or item_state == state)
            and (creator is None or str(user).lower() == creator.lower())
        ),
        reverse=True,
    )
    return paged(request, [issue_json(emu, full_name, n) for n in numbers])


@router.patch("/repos/{owner}/{repo}/issues/{number}")
def patch_issue(
    request: Request, owner: str, repo: str, number: int, body: JsonBody
) -> JSONResponse:
    """The title, body and state of an issue (a PR's are changed through ``pulls``)."""
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    if emu.pulls(full_name).get(str(number)) is not None:
        raise ApiError(422, "Use the pulls API to change a pull request")
    issue = _issue_or_pull(emu, full_name, number)
    changes: J = {}
    for name in ("title", "body"):
        if name in body:
            if not isinstance(body[name], str | None):
                raise validation_failed("Issue", name, "invalid")
            changes[name] = body[name]
    if "state" in body:
        if body["state"] not in ("open", "closed"):
            raise validation_failed("Issue", "state", "invalid", value=body["state"])
        changes["state"] = body["state"]
        changes["closed_at"] = emu.clock.iso() if body["state"] == "closed" else None
    with emu.lock:
        issue.update(changes, updated_at=emu.clock.iso())
    emu.store.dirty = True
    return respond(issue_json(emu, full_name, number))


@router.get("/repos/{owner}/{repo}/issues/{number}")
def get_issue(request: Request, owner: str, repo: str, number: int) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    _issue_or_pull(emu, full_name, number)
    return respond(issue_json(emu, full_name, number))


@router.get("/repos/{owner}/{repo}/issues/{number}/comments")
def list_comments(request: Request, owner: str, repo: str, number: int) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    _issue_or_pull(emu, full_name, number)
    items = sorted(
        (
            c
            for c in emu.store.data["comments"].values()
            if c["repo"] == full_name and c["issue_number"] == number
        ),
        key=lambda c: c["id"],
    )
    return paged(request, [shapes.comment_json(emu, c) for c in items])


@router.post("/repos/{owner}/{repo}/issues/{number}/comments")
def post_comment(
    request: Request, owner: str, repo: str, number: int, body: JsonBody
) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    text = body.get("body")
    if not isinstance(text, str) or not text:
        raise validation_failed("IssueComment", "body", "missing_field")
    comment = create_comment(emu, full_name, number, text, auth_of(request).actor(emu))
    return respond(shapes.comment_json(emu, comment), status=201)


def _comment(emu: Emulator, full_name: str, comment_id: int) -> J:
    comment = emu.store.data["comments"].get(str(comment_id))
    if comment is None or comment["repo"] != full_name:
        raise not_found()
    return comment  # type: ignore[no-any-return]


@router.get("/repos/{owner}/{repo}/issues/comments/{comment_id}")
def get_comment(request: Request, owner: str, repo: str, comment_id: int) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    return respond(shapes.comment_json(emu, _comment(emu, full_name, comment_id)))


@router.patch("/repos/{owner}/{repo}/issues/comments/{comment_id}")
def update_comment(
    request: Request, owner: str, repo: str, comment_id: int, body: JsonBody
) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    comment = _comment(emu, full_name, comment_id)
    text = body.get("body")
    if not isinstance(text, str) or not text:
        raise validation_failed("IssueComment", "body", "missing_field")
    comment["previous_body"] = comment["body"]
    comment.update(body=text, updated_at=emu.clock.iso())
    emu.webhooks.emit_issue_comment(comment, "edited", auth_of(request).actor(emu))
    return respond(shapes.comment_json(emu, comment))


@router.delete("/repos/{owner}/{repo}/issues/comments/{comment_id}")
def delete_comment(request: Request, owner: str, repo: str, comment_id: int) -> Response:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    comment = _comment(emu, full_name, comment_id)
    with emu.lock:
        del emu.store.data["comments"][str(comment["id"])]
    return Response(status_code=204)


def _react(request: Request, subject: str, body: J, user: str) -> JSONResponse:
    emu = emulator(request)
    content = body.get("content")
    if content not in REACTIONS:
        raise validation_failed("Reaction", "content", "invalid")
    for reaction in emu.store.data["reactions"].values():
        if (
            reaction["subject"] == subject
            and reaction["user"] == user
            and (reaction["content"] == content)
        ):
            return respond(shapes.reaction_json(emu, reaction), status=200)
    reaction = {
        "id": emu.store.next_id("reaction"),
        "subject": subject,
        "user": user,
        "content": content,
        "created_at": emu.clock.iso(),
    }
    with emu.lock:
        emu.store.data["reactions"][str(reaction["id"])] = reaction
    return respond(shapes.reaction_json(emu, reaction), status=201)


def _list_reactions(request: Request, subject: str) -> JSONResponse:
    emu = emulator(request)
    content = request.query_params.get("content")
    items = [
        shapes.reaction_json(emu, r)
        for r in emu.store.data["reactions"].values()
        if r["subject"] == subject and (content is None or r["content"] == content)
    ]
    return paged(request, items)


@router.post("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
def react_to_comment(
    request: Request, owner: str, repo: str, comment_id: int, body: JsonBody
) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    _comment(emu, full_name, comment_id)
    return _react(request, f"comment:{comment_id}", body, auth_of(request).actor(emu))


@router.get("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
def list_comment_reactions(
    request: Request, owner: str, repo: str, comment_id: int
) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    _comment(emulator(request), full_name, comment_id)
    return _list_reactions(request, f"comment:{comment_id}")


@router.post("/repos/{owner}/{repo}/issues/{number}/reactions")
def react_to_issue(
    request: Request, owner: str, repo: str, number: int, body: JsonBody
) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    _issue_or_pull(emu, full_name, number)
    return _react(request, f"issue:{full_name}#{number}", body, auth_of(request).actor(emu))


@router.get("/repos/{owner}/{repo}/issues/{number}/reactions")
def list_issue_reactions(request: Request, owner: str, repo: str, number: int) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    _issue_or_pull(emulator(request), full_name, number)
    return _list_reactions(request, f"issue:{full_name}#{number}")


# -- labels ---------------------------------------------------------------------------------
def ensure_label(
    emu: Emulator, full_name: str, name: str, color: str = "ededed", description: str | None = None
) -> J:
    labels: dict[str, J] = emu.repo_rec(full_name)["labels"]
    with emu.lock:
        if name not in labels:
            labels[name] = {
                "id": emu.store.next_id("label"),
                "name": name,
                "color": color,
                "description": description,
            }
        return labels[name]


@router.get("/repos/{owner}/{repo}/labels")
def list_labels(request: Request, owner: str, repo: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    labels = emu.repo_rec(full_name)["labels"]
    return paged(request, [shapes.label_json(emu, full_name, labels[n]) for n in sorted(labels)])


@router.get("/repos/{owner}/{repo}/labels/{name}")
def get_label(request: Request, owner: str, repo: str, name: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    label = emu.repo_rec(full_name)["labels"].get(name)
    if label is None:
        raise not_found()
    return respond(shapes.label_json(emu, full_name, label))


@router.post("/repos/{owner}/{repo}/labels")
def post_label(request: Request, owner: str, repo: str, body: JsonBody) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise validation_failed("Label", "name", "missing_field")
    if name in emu.repo_rec(full_name)["labels"]:
        raise validation_failed("Label", "name", "already_exists")
    label = ensure_label(
        emu, full_name, name, str(body.get("color", "ededed")).lstrip("#"), body.get("description")
    )
    return respond(shapes.label_json(emu, full_name, label), status=201)


def _label_names(body: Any) -> list[str]:
    raw = body.get("labels", []) if isinstance(body, dict) else body
    names = []
    for item in raw or []:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name:
            raise validation_failed("Label", "name", "invalid")
        names.append(name)
    return names


def _issue_labels_response(emu: Emulator, full_name: str, target: J) -> JSONResponse:
    labels = emu.repo_rec(full_name)["labels"]
    return respond([shapes.label_json(emu, full_name, labels[n]) for n in target["labels"]])


@router.post("/repos/{owner}/{repo}/issues/{number}/labels")
@router.put("/repos/{owner}/{repo}/issues/{number}/labels")
async def set_issue_labels(request: Request, owner: str, repo: str, number: int) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    target = _issue_or_pull(emu, full_name, number)
    try:
        body = await request.json()
    except ValueError as exc:
        raise ApiError(400, "Problems parsing JSON") from exc
    names = _label_names(body)
    for name in names:
        ensure_label(emu, full_name, name)
    if request.method == "PUT":
        target["labels"] = list(dict.fromkeys(names))
    else:
        target["labels"] = list(dict.fromkeys([*target["labels"], *names]))
    target["updated_at"] = emu.clock.iso()
    return _issue_labels_response(emu, full_name, target)


@router.get("/repos/{owner}/{repo}/issues/{number}/labels")
def list_issue_labels(request: Request, owner: str, repo: str, number: int) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    return _issue_labels_response(emu, full_name, _issue_or_pull(emu, full_name, number))


@router.delete("/repos/{owner}/{repo}/issues/{number}/labels/{name}")
def remove_issue_label(
    request: Request, owner: str, repo: str, number: int, name: str
) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    target = _issue_or_pull(emu, full_name, number)
    if name not in target["labels"]:
        raise ApiError(404, "Label does not exist")
    target["labels"] = [n for n in target["labels"] if n != name]
    return _issue_labels_response(emu, full_name, target)
