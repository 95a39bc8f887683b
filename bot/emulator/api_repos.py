"""Repository routes: repo, branches, commits (and their comments), contents, tarball, compare,
rules, permissions."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from bot.emulator import shapes
from bot.emulator._http import JsonBody, auth_of, emulator, paged, read_repo, respond, write_repo
from bot.emulator.core import (
    ApiError,
    Emulator,
    not_found,
    required_contexts,
    validation_failed,
)
from bot.emulator.gitstore import GitRepo

__all__ = ["diff_entries", "router"]

router = APIRouter()
J = dict[str, Any]


def resolve_commit(emu: Emulator, full_name: str, ref: str) -> str:
    repo = emu.git(full_name)
    for candidate in (ref, f"refs/heads/{ref}", f"refs/tags/{ref}"):
        sha = repo.resolve(candidate)
        if sha:
            return sha
    raise ApiError(404, f"No commit found for SHA: {ref}")


@router.get("/repos/{owner}/{repo}")
def get_repo(request: Request, owner: str, repo: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    return respond(shapes.repo_json(emulator(request), full_name))


def _protection(emu: Emulator, full_name: str, branch: str) -> tuple[J, str]:
    """Classic branch protection only: checks required by rulesets are served by
    ``rules/branches/{branch}``, as on GitHub."""
    rec = emu.repo_rec(full_name)
    url = f"{emu.api_url}/repos/{full_name}/branches/{quote(branch)}/protection"
    checks = rec.get("protection_checks", []) if branch == rec["default_branch"] else []
    return {
        "enabled": bool(checks),
        "required_status_checks": {
            "enforcement_level": "non_admins" if checks else "off",
            "contexts": list(checks),
            "checks": [{"context": c, "app_id": None} for c in checks],
        },
    }, url


def _protected(emu: Emulator, full_name: str, name: str) -> bool:
    """GitHub's ``protected``: classic protection or a ruleset applies to the branch."""
    rec = emu.repo_rec(full_name)
    return name == rec["default_branch"] and bool(required_contexts(rec))


def _branch_json(emu: Emulator, full_name: str, name: str, sha: str, *, full: bool) -> J:
    protection, url = _protection(emu, full_name, name)
    commit_url = f"{emu.api_url}/repos/{full_name}/commits/{sha}"
    if not full:
        return {
            "name": name,
            "commit": {"sha": sha, "url": commit_url},
            "protected": _protected(emu, full_name, name),
        }
    commit = emu.git(full_name).read_commit(sha)
    assert commit is not None
    return {
        "name": name,
        "commit": shapes.commit_json(emu, full_name, commit),
        "_links": {
            "self": f"{emu.api_url}/repos/{full_name}/branches/{quote(name)}",
            "html": f"{emu.base_url}/{full_name}/tree/{quote(name)}",
        },
        "protected": _protected(emu, full_name, name),
        "protection": protection,
        "protection_url": url,
    }


@router.get("/repos/{owner}/{repo}/branches")
def list_branches(request: Request, owner: str, repo: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    heads = emu.git(full_name).refs("refs/heads/")
    items = [
        _branch_json(emu, full_name, ref.removeprefix("refs/heads/"), sha, full=False)
        for ref, sha in sorted(heads.items())
    ]
    return paged(request, items)


@router.get("/repos/{owner}/{repo}/branches/{branch:path}")
def get_branch(request: Request, owner: str, repo: str, branch: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    sha = emu.branch_sha(full_name, branch)
    if sha is None:
        raise ApiError(404, "Branch not found")
    return respond(_branch_json(emu, full_name, branch, sha, full=True))


@router.get("/repos/{owner}/{repo}/rules/branches/{branch:path}")
def get_branch_rules(request: Request, owner: str, repo: str, branch: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    rec = emu.repo_rec(full_name)
    rules: list[J] = []
    if branch == rec["default_branch"] and rec["required_checks"]:
        rules.append(
            {
                "type": "required_status_checks",
                "parameters": {
                    "strict_required_status_checks_policy": False,
                    "do_not_enforce_on_create": False,
                    "required_status_checks": [{"context": c} for c in rec["required_checks"]],
                },
                "ruleset_source_type": "Repository",
                "ruleset_source": full_name,
                "ruleset_id": rec["id"] % 100_000 + 1,
            }
        )
    return paged(request, rules)


def _commit_comment_json(emu: Emulator, comment: J) -> J:
    full_name, sha = comment["repo"], comment["commit_id"]
    api_repo = f"{emu.api_url}/repos/{full_name}"
    url = f"{api_repo}/comments/{comment['id']}"
    return {
        "html_url": f"{emu.base_url}/{full_name}/commit/{sha}#commitcomment-{comment['id']}",
        "url": url,
        "id": comment["id"],
        "node_id": shapes.node_id("CommitComment", comment["id"]),
        "body": comment["body"],
        "path": None,
        "position": None,
        "line": None,
        "commit_id": sha,
        "user": shapes.user_json(emu, comment["user"]),
        "created_at": comment["created_at"],
        "updated_at": comment["updated_at"],
        "author_association": emu.association(full_name, comment["user"]),
        "reactions": shapes.reactions_rollup(
            emu, f"{url}/reactions", f"commit-comment:{comment['id']}"
        ),
    }


@router.get("/repos/{owner}/{repo}/commits/{sha}/comments")
def list_commit_comments(request: Request, owner: str, repo: str, sha: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    commit = resolve_commit(emu, full_name, sha)
    items = sorted(
        (
            c
            for c in emu.store.data.setdefault("commit_comments", {}).values()
            if c["repo"] == full_name and c["commit_id"] == commit
        ),
        key=lambda c: c["id"],
    )
    return paged(request, [_commit_comment_json(emu, c) for c in items])


@router.post("/repos/{owner}/{repo}/commits/{sha}/comments")
def post_commit_comment(
    request: Request, owner: str, repo: str, sha: str, body: JsonBody
) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    text = body.get("body")
    if not isinstance(text, str) or not text:
        raise validation_failed("CommitComment", "body", "missing_field")
    commit = resolve_commit(emu, full_name, sha)
    now = emu.clock.iso()
    comment = {
        "id": emu.store.next_id("comment"),
        "repo": full_name,
        "commit_id": commit,
        "body": text,
        "user": auth_of(request).actor(emu),
        "created_at": now,
        "updated_at": now,
    }
    with emu.lock:
        emu.store.data.setdefault("commit_comments", {})[str(comment["id"])] = comment
    emu.store.dirty = True
    return respond(_commit_comment_json(emu, comment), status=201)


@router.get("/repos/{owner}/{repo}/commits/{ref:path}")
def get_commit(request: Request, owner: str, repo: str, ref: str) -> JSONResponse:
    for suffix in ("/check-runs", "/check-suites", "/status", "/statuses", "/comments"):
        if ref.endswith(suffix):
            raise not_found()
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    sha = resolve_commit(emu, full_name, ref)
    git = emu.git(full_name)
    commit = git.read_commit(sha)
    assert commit is not None
    data = shapes.commit_json(emu, full_name, commit)
    parent = commit.parents[0] if commit.parents else None
    files = diff_entries(emu, full_name, parent or _empty_tree(git), sha, ref_for_urls=sha)
    data["files"] = files
    adds = sum(f["additions"] for f in files)
    dels = sum(f["deletions"] for f in files)
    data["stats"] = {"additions": adds, "deletions": dels, "total": adds + dels}
    return respond(data)


def _empty_tree(git: GitRepo) -> str:
    return git.write_empty_tree()


_STATUS = {"A": "added", "D": "removed", "M": "modified", "T": "changed"}


def diff_entries(
    emu: Emulator, full_name: str, old: str, new: str, *, ref_for_urls: str, patches: bool = True
) -> list[J]:
    """`diff-entry` objects between two commits/trees."""
    git = emu.git(full_name)
    entries = []
    patch_text = git.patches(old, new) if patches else None
    for status, path, old_sha, new_sha, add, rem in git.diff(old, new):
        blob = new_sha if status != "D" else old_sha
        entry: J = {
            "sha": blob,
            "filename": path,
            "status": _STATUS.get(status, "modified"),
            "additions": add,
            "deletions": rem,
            "changes": add + rem,
            "blob_url": f"{emu.base_url}/{full_name}/blob/{ref_for_urls}/{quote(path)}",
            "raw_url": f"{emu.base_url}/{full_name}/raw/{ref_for_urls}/{quote(path)}",
            "contents_url": f"{emu.api_url}/repos/{full_name}/contents/{quote(path)}"
            f"?ref={ref_for_urls}",
        }
        if patch_text is not None and path in patch_text:
            entry["patch"] = patch_text[path]
        entries.append(entry)
    return entries


def _content_links(emu: Emulator, full_name: str, path: str, ref: str, sha: str, kind: str) -> J:
    api_repo = f"{emu.api_url}/repos/{full_name}"
    self_url = f"{api_repo}/contents/{quote(path)}?ref={quote(ref)}"
    git_url = f"{api_repo}/git/{'trees' if kind == 'dir' else 'blobs'}/{sha}"
    html = (
        f"{emu.base_url}/{full_name}/{'tree' if kind == 'dir' else 'blob'}/{quote(ref)}/"
        + quote(path)
    )
    download = (
        f"{emu.base_url}/{full_name}/raw/{quote(ref)}/{quote(path)}" if kind == "file" else None
    )
    return {
        "url": self_url,
        "git_url": git_url,
        "html_url": html,
        "download_url": download,
        "_links": {"self": self_url, "git": git_url, "html": html},
    }


@router.get("/repos/{owner}/{repo}/contents/{path:path}")
@router.get("/repos/{owner}/{repo}/contents")
def get_contents(request: Request, owner: str, repo: str, path: str = "") -> Response:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    rec = emu.repo_rec(full_name)
    ref = request.query_params.get("ref") or rec["default_branch"]
    sha = resolve_commit(emu, full_name, ref)
    git = emu.git(full_name)
    path = path.strip("/")
    target = f"{sha}:{path}" if path else f"{sha}^{{tree}}"
    oid = git.resolve_object(target)
    if oid is None:
        raise not_found()
    kind = git.object_type(oid)
    if kind == "blob":
        data = git.read_blob(oid) or b""
        if "application/vnd.github.raw" in request.headers.get("accept", ""):
            return Response(data, media_type="application/vnd.github.raw")
        encoded = base64.encodebytes(data).decode()
        body: Any = {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": encoded,
            "sha": oid,
            **_content_links(emu, full_name, path, ref, oid, "file"),
        }
        return respond(body)
    items = []
    for entry in git.ls_tree(oid):
        child = f"{path}/{entry.path}" if path else entry.path
        kind_name = {"blob": "file", "tree": "dir", "commit": "submodule"}[entry.type]
        if entry.mode == "120000":
            kind_name = "symlink"
        items.append(
            {
                "type": kind_name if kind_name != "symlink" else "file",
                "size": entry.size or 0,
                "name": entry.path,
                "path": child,
                "sha": entry.sha,
                **_content_links(
                    emu, full_name, child, ref, entry.sha, "dir" if entry.type == "tree" else "file"
                ),
            }
        )
    return respond(items)


@router.get("/repos/{owner}/{repo}/tarball/{ref:path}")
@router.get("/repos/{owner}/{repo}/tarball")
def get_tarball(request: Request, owner: str, repo: str, ref: str = "") -> Response:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    sha = resolve_commit(emu, full_name, ref or emu.repo_rec(full_name)["default_branch"])
    return Response(status_code=302, headers={"Location": emu.codeload_url(full_name, sha)})


@router.get("/repos/{owner}/{repo}/compare/{basehead:path}")
def compare(request: Request, owner: str, repo: str, basehead: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    if "..." in basehead:
        base_ref, head_ref = basehead.split("...", 1)
    elif ".." in basehead:
        base_ref, head_ref = basehead.split("..", 1)
    else:
        raise not_found()
    base = resolve_commit(emu, full_name, base_ref)
    head = resolve_commit(emu, full_name, head_ref)
    git = emu.git(full_name)
    merge_base = git.merge_base(base, head)
    if merge_base is None:
        raise ApiError(404, f"No common ancestor between {base_ref} and {head_ref}.")
    ahead = git.rev_list(f"{merge_base}..{head}")
    behind = git.rev_list(f"{merge_base}..{base}")
    status = (
        "identical"
        if not ahead and not behind
        else "ahead"
        if not behind
        else "behind"
        if not ahead
        else "diverged"
    )
    commits = git.read_commits([base, merge_base, *ahead[:250]])
    html = f"{emu.base_url}/{full_name}/compare/{basehead}"
    body = {
        "url": f"{emu.api_url}/repos/{full_name}/compare/{basehead}",
        "html_url": html,
        "permalink_url": f"{emu.base_url}/{full_name}/compare/{base[:7]}...{head[:7]}",
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "base_commit": shapes.commit_json(emu, full_name, commits[base]),
        "merge_base_commit": shapes.commit_json(emu, full_name, commits[merge_base]),
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": len(behind),
        "total_commits": len(ahead),
        "commits": [shapes.commit_json(emu, full_name, commits[s]) for s in ahead[:250]],
        "files": diff_entries(emu, full_name, merge_base, head, ref_for_urls=head),
    }
    return respond(body)


@router.get("/repos/{owner}/{repo}/collaborators/{username}/permission")
def collaborator_permission(request: Request, owner: str, repo: str, username: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    if username not in emu.store.data["users"]:
        raise ApiError(404, f"{username} is not a user")
    permission = emu.permission(full_name, username)
    legacy = {"maintain": "write", "triage": "read"}.get(permission, permission)
    user = shapes.user_json(emu, username)
    user["permissions"] = {
        "admin": permission == "admin",
        "maintain": permission in ("admin", "maintain"),
        "push": permission in ("admin", "maintain", "write"),
        "triage": permission in ("admin", "maintain", "write", "triage"),
        "pull": permission != "none",
    }
    user["role_name"] = permission
    return respond({"permission": legacy, "role_name": permission, "user": user})


@router.get("/repos/{owner}/{repo}/tags")
def list_tags(request: Request, owner: str, repo: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    git = emu.git(full_name)
    items = []
    for ref in sorted(git.refs("refs/tags/"), reverse=True):
        name = ref.removeprefix("refs/tags/")
        sha = git.resolve(ref)
        items.append(
            {
                "name": name,
                "commit": {"sha": sha, "url": f"{emu.api_url}/repos/{full_name}/commits/{sha}"},
                "zipball_url": f"{emu.api_url}/repos/{full_name}/zipball/refs/tags/{name}",
                "tarball_url": f"{emu.api_url}/repos/{full_name}/tarball/refs/tags/{name}",
                "node_id": shapes.node_id("Ref", f"{full_name}:{name}"),
            }
        )
    return paged(request, items)
