"""Git Data API routes: refs, commits, trees (``base_tree``, inline content), blobs."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from bot.emulator import shapes
from bot.emulator._http import JsonBody, auth_of, emulator, paged, read_repo, respond, write_repo
from bot.emulator.core import ApiError, Emulator, not_found, validation_failed
from bot.emulator.gitstore import Person

__all__ = ["router"]

router = APIRouter()
J = dict[str, Any]
_MODES = {
    "100644": "blob",
    "100755": "blob",
    "120000": "blob",
    "040000": "tree",
    "160000": "commit",
}


def _ref_json(emu: Emulator, full_name: str, ref: str, sha: str) -> J:
    git = emu.git(full_name)
    typ = git.object_type(sha) or "commit"
    kind = {"commit": "commits", "tag": "tags", "tree": "trees", "blob": "blobs"}[typ]
    return {
        "ref": ref,
        "node_id": shapes.node_id("Ref", f"{full_name}:{ref}"),
        "url": f"{emu.api_url}/repos/{full_name}/git/{ref}",
        "object": {
            "type": typ,
            "sha": sha,
            "url": f"{emu.api_url}/repos/{full_name}/git/{kind}/{sha}",
        },
    }


@router.get("/repos/{owner}/{repo}/git/ref/{ref:path}")
def get_ref(request: Request, owner: str, repo: str, ref: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    name = f"refs/{ref}"
    sha = emu.git(full_name).ref(name)
    if sha is None:
        raise not_found()
    return respond(_ref_json(emu, full_name, name, sha))


@router.get("/repos/{owner}/{repo}/git/matching-refs/{ref:path}")
def list_matching_refs(request: Request, owner: str, repo: str, ref: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    prefix = f"refs/{ref}"
    refs = emu.git(full_name).refs()
    items = [
        _ref_json(emu, full_name, n, s) for n, s in sorted(refs.items()) if n.startswith(prefix)
    ]
    return paged(request, items)


@router.get("/repos/{owner}/{repo}/git/refs")
@router.get("/repos/{owner}/{repo}/git/refs/{ref:path}")
def get_refs_legacy(request: Request, owner: str, repo: str, ref: str = "") -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    refs = emu.git(full_name).refs()
    name = f"refs/{ref}" if ref else "refs/"
    if ref and name in refs:
        return respond(_ref_json(emu, full_name, name, refs[name]))
    items = [_ref_json(emu, full_name, n, s) for n, s in sorted(refs.items()) if n.startswith(name)]
    if not items:
        raise not_found()
    return paged(request, items)


@router.post("/repos/{owner}/{repo}/git/refs")
def create_ref(request: Request, owner: str, repo: str, body: JsonBody) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    ref, sha = body.get("ref"), body.get("sha")
    if not isinstance(ref, str) or not ref.startswith("refs/") or ref.count("/") < 2:
        raise ApiError(422, "Reference name must start with 'refs/' and have at least two slashes.")
    if not isinstance(sha, str):
        raise validation_failed("Reference", "sha", "missing_field")
    git = emu.git(full_name)
    if git.object_type(sha) is None:
        raise ApiError(422, "Object does not exist")
    if git.ref(ref) is not None:
        raise ApiError(422, "Reference already exists")
    emu.move_ref(full_name, ref, sha, pusher=auth_of(request).actor(emu), expect_old=None)
    return respond(_ref_json(emu, full_name, ref, sha), status=201)


@router.patch("/repos/{owner}/{repo}/git/refs/{ref:path}")
def update_ref(request: Request, owner: str, repo: str, ref: str, body: JsonBody) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    name = f"refs/{ref}"
    sha = body.get("sha")
    if not isinstance(sha, str):
        raise validation_failed("Reference", "sha", "missing_field")
    git = emu.git(full_name)
    if git.ref(name) is None:
        raise ApiError(422, "Reference does not exist")
    if git.object_type(sha) is None:
        raise ApiError(422, "Object does not exist")
    emu.move_ref(
        full_name, name, sha, pusher=auth_of(request).actor(emu), force=bool(body.get("force"))
    )
    return respond(_ref_json(emu, full_name, name, sha))


@router.delete("/repos/{owner}/{repo}/git/refs/{ref:path}")
def delete_ref(request: Request, owner: str, repo: str, ref: str) -> Response:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    emu.move_ref(full_name, f"refs/{ref}", None, pusher=auth_of(request).actor(emu))
    return Response(status_code=204)


@router.get("/repos/{owner}/{repo}/git/commits/{sha}")
def get_git_commit(request: Request, owner: str, repo: str, sha: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    commit = emu.git(full_name).read_commit(sha)
    if commit is None:
        raise not_found()
    return respond(shapes.git_commit_json(emu, full_name, commit))


def _person(emu: Emulator, value: Any, default: Person, field: str) -> Person:
    if value is None:
        return default
    if not isinstance(value, dict) or not value.get("name") or not value.get("email"):
        raise validation_failed("Commit", field, "invalid")
    when = default.date
    if value.get("date"):
        from datetime import datetime

        try:
            when = datetime.fromisoformat(str(value["date"]).replace("Z", "+00:00")).timestamp()
        except ValueError as exc:
            raise validation_failed("Commit", f"{field}.date", "invalid") from exc
    return Person(str(value["name"]), str(value["email"]), when)


@router.post("/repos/{owner}/{repo}/git/commits")
def create_git_commit(request: Request, owner: str, repo: str, body: JsonBody) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    git = emu.git(full_name)
    message, tree, parents = body.get("message"), body.get("tree"), body.get("parents", [])
    if not isinstance(message, str):
        raise validation_failed("Commit", "message", "missing_field")
    if not isinstance(tree, str) or git.object_type(tree) != "tree":
        raise ApiError(422, "Tree SHA does not exist")
    if not isinstance(parents, list) or any(git.object_type(str(p)) != "commit" for p in parents):
        raise ApiError(422, "Parent SHA does not exist or is not a commit object")
    bot = emu.bot_person()
    author = _person(emu, body.get("author"), bot, "author")
    committer = _person(
        emu, body.get("committer"), author if body.get("author") else bot, "committer"
    )
    sha = git.commit_tree(tree, [str(p) for p in parents], message, author, committer)
    if committer.email == bot.email:
        emu.mark_verified(full_name, sha)
    commit = git.read_commit(sha)
    assert commit is not None
    return respond(shapes.git_commit_json(emu, full_name, commit), status=201)


def _tree_json(emu: Emulator, full_name: str, sha: str, recursive: bool) -> J:
    git = emu.git(full_name)
    api_repo = f"{emu.api_url}/repos/{full_name}"
    items = []
    for entry in git.ls_tree(sha, recursive=recursive):
        item: J = {"path": entry.path, "mode": entry.mode, "type": entry.type, "sha": entry.sha}
        if entry.type == "blob":
            item["size"] = entry.size or 0
            item["url"] = f"{api_repo}/git/blobs/{entry.sha}"
        elif entry.type == "tree":
            item["url"] = f"{api_repo}/git/trees/{entry.sha}"
        items.append(item)
    return {"sha": sha, "url": f"{api_repo}/git/trees/{sha}", "tree": items, "truncated": False}


@router.get("/repos/{owner}/{repo}/git/trees/{tree_sha:path}")
def get_tree(request: Request, owner: str, repo: str, tree_sha: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    git = emu.git(full_name)
    sha = git.resolve_object(f"{tree_sha}^{{tree}}")
    if sha is None:
        raise not_found()
    recursive = request.query_params.get("recursive") not in (None, "", "0", "false")
    return respond(_tree_json(emu, full_name, sha, recursive))


@router.post("/repos/{owner}/{repo}/git/trees")
def create_tree(request: Request, owner: str, repo: str, body: JsonBody) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    git = emu.git(full_name)
    entries = body.get("tree")
    if not isinstance(entries, list):
        raise validation_failed("Tree", "tree", "missing_field")
    base = body.get("base_tree")
    flat: dict[str, tuple[str, str, str]] = {}
    if base:
        base_sha = git.resolve_object(f"{base}^{{tree}}")
        if base_sha is None:
            raise ApiError(422, "base_tree is not a valid tree oid")
        flat = git.flat_tree(base_sha)
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ApiError(422, f"tree[{index}] must be an object")
        path = entry.get("path")
        mode = str(entry.get("mode", ""))
        typ = entry.get("type", _MODES.get(mode))
        if not isinstance(path, str) or not path or path.startswith("/") or path.endswith("/"):
            raise ApiError(422, f"tree.path contains a malformed path component: {path!r}")
        if any(part in ("", ".", "..", ".git") for part in path.split("/")):
            raise ApiError(422, f"tree.path contains a malformed path component: {path!r}")
        if mode not in _MODES:
            raise ApiError(422, f"tree.mode must be one of {', '.join(_MODES)}")
        if typ != _MODES[mode]:
            raise ApiError(422, f"tree[{index}]: type {typ!r} does not match mode {mode}")
        has_content = "content" in entry and entry["content"] is not None
        if "sha" in entry and has_content:
            raise ApiError(422, "Must supply either tree.sha or tree.content, not both")
        if has_content:
            if typ != "blob":
                raise ApiError(422, "tree.content can only be used with blobs")
            sha = git.write_blob(str(entry["content"]).encode())
        elif "sha" in entry:
            if entry["sha"] is None:
                _remove(flat, path)
                continue
            sha = str(entry["sha"])
            if typ != "commit" and git.object_type(sha) != typ:
                raise ApiError(422, f"tree.sha {sha} is not a valid {typ}")
        else:
            raise ApiError(422, "Must supply tree.sha or tree.content")
        _remove(flat, path)
        if typ == "tree":
            for sub_path, value in git.flat_tree(sha).items():
                flat[f"{path}/{sub_path}"] = value
        else:
            flat[path] = (mode, typ, sha)
    tree = git.write_flat_tree(flat)
    return respond(_tree_json(emu, full_name, tree, False), status=201)


def _remove(flat: dict[str, tuple[str, str, str]], path: str) -> None:
    flat.pop(path, None)
    prefix = path + "/"
    for key in [k for k in flat if k.startswith(prefix)]:
        del flat[key]
    parts = path.split("/")
    for i in range(1, len(parts)):
        flat.pop("/".join(parts[:i]), None)  # a file where a directory must go


@router.get("/repos/{owner}/{repo}/git/blobs/{sha}")
def get_blob(request: Request, owner: str, repo: str, sha: str) -> JSONResponse:
    full_name = read_repo(request, owner, repo)
    emu = emulator(request)
    data = emu.git(full_name).read_blob(sha)
    if data is None:
        raise not_found()
    return respond(
        {
            "sha": sha,
            "node_id": shapes.node_id("Blob", sha),
            "size": len(data),
            "url": f"{emu.api_url}/repos/{full_name}/git/blobs/{sha}",
            "content": base64.encodebytes(data).decode(),
            "encoding": "base64",
        }
    )


@router.post("/repos/{owner}/{repo}/git/blobs")
def create_blob(request: Request, owner: str, repo: str, body: JsonBody) -> JSONResponse:
    full_name = write_repo(request, owner, repo)
    emu = emulator(request)
    content, encoding = body.get("content"), body.get("encoding", "utf-8")
    if not isinstance(content, str):
        raise validation_failed("Blob", "content", "missing_field")
    if encoding == "base64":
        try:
            data = base64.b64decode(content, validate=False)
        except binascii.Error as exc:
            raise ApiError(422, "content is not valid Base64") from exc
    elif encoding in ("utf-8", "utf8"):
        data = content.encode()
    else:
        raise ApiError(422, f"encoding must be utf-8 or base64, not {encoding}")
    sha = emu.git(full_name).write_blob(data)
    return respond(
        {"url": f"{emu.api_url}/repos/{full_name}/git/blobs/{sha}", "sha": sha}, status=201
    )
