"""Every emulated REST operation, called over HTTP, answers with a body that GitHub's OpenAPI
description documents for that operation and status code."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from tests_emulator_support import OpenApiResponses, load_json

from bot.emulator.app import api_endpoints
from bot.emulator.testing import EmulatorHandle, running_emulator


@pytest.fixture
def spec(fixtures_dir: Path) -> OpenApiResponses:
    return _responses(fixtures_dir / "github-openapi" / "api.github.com.json")


_CACHE: dict[Path, OpenApiResponses] = {}


def _responses(path: Path) -> OpenApiResponses:
    if path not in _CACHE:
        _CACHE[path] = OpenApiResponses(load_json(path))
    return _CACHE[path]


@pytest.fixture
def tagged(seed: dict[str, Any], tmp_path: Path) -> Iterator[EmulatorHandle]:
    seed["repos"][0]["tags"] = ["v1.0.0"]
    with running_emulator(seed, tmp_path / "state") as handle:
        yield handle


class Caller:
    """Calls the emulator and validates each answer against the operation's documented schema."""

    def __init__(self, handle: EmulatorHandle, spec: OpenApiResponses) -> None:
        self.handle = handle
        self.spec = spec
        self.validated: set[str] = set()
        now = int(time.time())
        app_jwt = jwt.encode(
            {"iat": now - 60, "exp": now + 540, "iss": str(handle.app_id)},
            handle.private_key_pem,
            algorithm="RS256",
        )
        self.app = httpx.Client(
            base_url=handle.api_url,
            headers={"Authorization": f"Bearer {app_jwt}"},
            trust_env=False,
            timeout=30,
        )
        self.inst: httpx.Client | None = None

    def __call__(
        self, op: str, method: str, url: str, *, expect: int, as_app: bool = False, **kw: Any
    ) -> Any:
        client = self.app if as_app else self.inst
        assert client is not None
        response = client.request(method, url, **kw)
        assert response.status_code == expect, f"{op}: {response.status_code} {response.text}"
        body = response.json() if response.content else None
        self.spec.validate(op, response.status_code, body)
        self.validated.add(op)
        return body if body is not None else response


def test_every_emulated_operation_matches_the_openapi_description(
    tagged: EmulatorHandle, spec: OpenApiResponses
) -> None:
    h = tagged
    call = Caller(h, spec)
    r = "/repos/acme/svc"

    call("apps/get-authenticated", "GET", "/app", expect=200, as_app=True)
    call("apps/list-installations", "GET", "/app/installations", expect=200, as_app=True)
    call("apps/get-installation", "GET", "/app/installations/77", expect=200, as_app=True)
    call("apps/get-repo-installation", "GET", f"{r}/installation", expect=200, as_app=True)
    call("apps/get-org-installation", "GET", "/orgs/acme/installation", expect=200, as_app=True)
    call("apps/get-user-installation", "GET", "/users/acme/installation", expect=200, as_app=True)
    token = call(
        "apps/create-installation-access-token",
        "POST",
        "/app/installations/77/access_tokens",
        expect=201,
        as_app=True,
    )["token"]
    call.inst = httpx.Client(
        base_url=h.api_url, headers={"Authorization": f"token {token}"}, trust_env=False, timeout=30
    )

    call(
        "apps/list-repos-accessible-to-installation",
        "GET",
        "/installation/repositories",
        expect=200,
    )
    call("rate-limit/get", "GET", "/rate_limit", expect=200)
    call("users/get-authenticated", "GET", "/user", expect=403)  # not for installation tokens
    installation_client = call.inst
    call.inst = httpx.Client(
        base_url=h.api_url,
        headers={"Authorization": f"token {h.user_token('octocat')}"},
        trust_env=False,
        timeout=30,
    )
    call("users/get-authenticated", "GET", "/user", expect=200)
    call.inst = installation_client
    call("repos/get", "GET", r, expect=200)
    call("repos/get", "GET", "/repos/acme/missing", expect=404)
    call("repos/list-branches", "GET", f"{r}/branches", expect=200)
    main = call("repos/get-branch", "GET", f"{r}/branches/main", expect=200)["commit"]["sha"]
    call("repos/get-branch-rules", "GET", f"{r}/rules/branches/main", expect=200)
    call("repos/get-commit", "GET", f"{r}/commits/{main}", expect=200)
    call(
        "repos/create-commit-comment",
        "POST",
        f"{r}/commits/{main}/comments",
        json={"body": "a note"},
        expect=201,
    )
    call("repos/list-comments-for-commit", "GET", f"{r}/commits/{main}/comments", expect=200)
    call("repos/get-content", "GET", f"{r}/contents/src/app.py", expect=200)
    call("repos/get-content", "GET", f"{r}/contents/src", expect=200)
    call("repos/get-content", "GET", f"{r}/contents", expect=200)
    call("repos/download-tarball-archive", "GET", f"{r}/tarball/main", expect=302)
    call("repos/download-tarball-archive", "GET", f"{r}/tarball", expect=302)
    call(
        "repos/get-collaborator-permission-level",
        "GET",
        f"{r}/collaborators/alice/permission",
        expect=200,
    )
    call("repos/list-tags", "GET", f"{r}/tags", expect=200)

    # Git data: blob, tree, commit, refs.
    blob = call(
        "git/create-blob",
        "POST",
        f"{r}/git/blobs",
        json={"content": "aGVsbG8=", "encoding": "base64"},
        expect=201,
    )["sha"]
    call("git/get-blob", "GET", f"{r}/git/blobs/{blob}", expect=200)
    tree = call(
        "git/create-tree",
        "POST",
        f"{r}/git/trees",
        json={
            "base_tree": main,
            "tree": [
                {"path": "hello.txt", "mode": "100644", "type": "blob", "sha": blob},
                {"path": "docs/x.md", "mode": "100644", "type": "blob", "content": "# x\n"},
            ],
        },
        expect=201,
    )["sha"]
    call("git/get-tree", "GET", f"{r}/git/trees/{tree}?recursive=1", expect=200)
    commit = call(
        "git/create-commit",
        "POST",
        f"{r}/git/commits",
        json={"message": "m", "tree": tree, "parents": [main]},
        expect=201,
    )["sha"]
    call("git/get-commit", "GET", f"{r}/git/commits/{commit}", expect=200)
    call(
        "git/create-ref",
        "POST",
        f"{r}/git/refs",
        json={"ref": "refs/heads/feature", "sha": main},
        expect=201,
    )
    call(
        "git/create-ref",
        "POST",
        f"{r}/git/refs",
        json={"ref": "refs/heads/feature", "sha": main},
        expect=422,
    )
    call("git/update-ref", "PATCH", f"{r}/git/refs/heads/feature", json={"sha": commit}, expect=200)
    call("git/get-ref", "GET", f"{r}/git/ref/heads/feature", expect=200)
    call("git/list-matching-refs", "GET", f"{r}/git/matching-refs/heads/", expect=200)
    call("git/list-matching-refs", "GET", f"{r}/git/refs", expect=200)
    call("git/get-ref", "GET", f"{r}/git/refs/heads/feature", expect=200)
    call("repos/compare-commits", "GET", f"{r}/compare/main...feature", expect=200)

    # Pull requests.
    pr = call(
        "pulls/create",
        "POST",
        f"{r}/pulls",
        json={"title": "T", "head": "feature", "base": "main", "body": "b"},
        expect=201,
    )
    n = pr["number"]
    call(
        "pulls/create",
        "POST",
        f"{r}/pulls",
        json={"title": "T", "head": "feature", "base": "main"},
        expect=422,
    )
    call("pulls/list", "GET", f"{r}/pulls?state=all&base=main", expect=200)
    call("pulls/get", "GET", f"{r}/pulls/{n}", expect=200)
    call("pulls/update", "PATCH", f"{r}/pulls/{n}", json={"title": "T2"}, expect=200)
    call("pulls/list-files", "GET", f"{r}/pulls/{n}/files", expect=200)
    call("pulls/list-commits", "GET", f"{r}/pulls/{n}/commits", expect=200)
    call("pulls/check-if-merged", "GET", f"{r}/pulls/{n}/merge", expect=404)

    # Checks and statuses.
    run = call(
        "checks/create",
        "POST",
        f"{r}/check-runs",
        json={"name": "evobot", "head_sha": commit, "status": "in_progress"},
        expect=201,
    )
    call(
        "checks/update",
        "PATCH",
        f"{r}/check-runs/{run['id']}",
        json={"conclusion": "success", "output": {"title": "ok", "summary": "fine"}},
        expect=200,
    )
    call("checks/get", "GET", f"{r}/check-runs/{run['id']}", expect=200)
    h.wait_for_ci()
    call("checks/list-for-ref", "GET", f"{r}/commits/{commit}/check-runs", expect=200)
    suites = call(
        "checks/list-suites-for-ref", "GET", f"{r}/commits/{commit}/check-suites", expect=200
    )["check_suites"]
    ci_suite = next(s for s in suites if s["app"]["slug"] == "emulator-ci")
    call("checks/get-suite", "GET", f"{r}/check-suites/{ci_suite['id']}", expect=200)
    call(
        "checks/list-for-suite", "GET", f"{r}/check-suites/{ci_suite['id']}/check-runs", expect=200
    )
    call(
        "checks/rerequest-suite", "POST", f"{r}/check-suites/{ci_suite['id']}/rerequest", expect=201
    )
    call(
        "repos/create-commit-status",
        "POST",
        f"{r}/statuses/{commit}",
        json={"state": "success", "context": "lint", "target_url": "http://ci.invalid/1"},
        expect=201,
    )
    call("repos/get-combined-status-for-ref", "GET", f"{r}/commits/{commit}/status", expect=200)
    call("repos/list-commit-statuses-for-ref", "GET", f"{r}/commits/{commit}/statuses", expect=200)
    h.wait_for_ci()

    # Issues, comments, reactions, labels.
    issue = call("issues/create", "POST", f"{r}/issues", json={"title": "Bug"}, expect=201)
    call("issues/get", "GET", f"{r}/issues/{issue['number']}", expect=200)
    call(
        "issues/update",
        "PATCH",
        f"{r}/issues/{issue['number']}",
        json={"body": "edited"},
        expect=200,
    )
    call("issues/list-for-repo", "GET", f"{r}/issues", params={"state": "all"}, expect=200)
    call("issues/get", "GET", f"{r}/issues/{n}", expect=200)
    comment = call(
        "issues/create-comment", "POST", f"{r}/issues/{n}/comments", json={"body": "hi"}, expect=201
    )
    call("issues/list-comments", "GET", f"{r}/issues/{n}/comments", expect=200)
    call("issues/get-comment", "GET", f"{r}/issues/comments/{comment['id']}", expect=200)
    call(
        "issues/update-comment",
        "PATCH",
        f"{r}/issues/comments/{comment['id']}",
        json={"body": "edited"},
        expect=200,
    )
    call(
        "reactions/create-for-issue-comment",
        "POST",
        f"{r}/issues/comments/{comment['id']}/reactions",
        json={"content": "eyes"},
        expect=201,
    )
    call(
        "reactions/create-for-issue-comment",
        "POST",
        f"{r}/issues/comments/{comment['id']}/reactions",
        json={"content": "eyes"},
        expect=200,
    )
    call(
        "reactions/list-for-issue-comment",
        "GET",
        f"{r}/issues/comments/{comment['id']}/reactions",
        expect=200,
    )
    call(
        "reactions/create-for-issue",
        "POST",
        f"{r}/issues/{n}/reactions",
        json={"content": "rocket"},
        expect=201,
    )
    call("reactions/list-for-issue", "GET", f"{r}/issues/{n}/reactions", expect=200)
    call("issues/delete-comment", "DELETE", f"{r}/issues/comments/{comment['id']}", expect=204)
    call(
        "issues/create-label",
        "POST",
        f"{r}/labels",
        json={"name": "evobot", "color": "0e8a16"},
        expect=201,
    )
    call("issues/create-label", "POST", f"{r}/labels", json={"name": "evobot"}, expect=422)
    call("issues/list-labels-for-repo", "GET", f"{r}/labels", expect=200)
    call("issues/get-label", "GET", f"{r}/labels/evobot", expect=200)
    call(
        "issues/add-labels",
        "POST",
        f"{r}/issues/{n}/labels",
        json={"labels": ["evobot"]},
        expect=200,
    )
    call(
        "issues/set-labels",
        "PUT",
        f"{r}/issues/{n}/labels",
        json={"labels": ["evobot", "template"]},
        expect=200,
    )
    call("issues/list-labels-on-issue", "GET", f"{r}/issues/{n}/labels", expect=200)
    call("issues/remove-label", "DELETE", f"{r}/issues/{n}/labels/template", expect=200)

    # Merge (the required "ci" check ran green on the head), then the bookkeeping.
    call("pulls/merge", "PUT", f"{r}/pulls/{n}/merge", json={"merge_method": "squash"}, expect=200)
    call("pulls/check-if-merged", "GET", f"{r}/pulls/{n}/merge", expect=204)
    call("git/delete-ref", "DELETE", f"{r}/git/refs/heads/feature", expect=204)

    h.wait_for_deliveries()
    deliveries = call(
        "apps/list-webhook-deliveries", "GET", "/app/hook/deliveries", expect=200, as_app=True
    )
    call(
        "apps/get-webhook-delivery",
        "GET",
        f"/app/hook/deliveries/{deliveries[0]['id']}",
        expect=200,
        as_app=True,
    )
    call(
        "apps/redeliver-webhook-delivery",
        "POST",
        f"/app/hook/deliveries/{deliveries[0]['id']}/attempts",
        expect=202,
        as_app=True,
    )
    h.settle()

    exercised = set(h.counters.snapshot()["endpoints"])
    missing = sorted(set(api_endpoints()) - exercised)
    assert missing == [], f"emulated operations this test never called: {missing}"


def test_the_schema_check_rejects_bodies_github_would_not_send(spec: OpenApiResponses) -> None:
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):
        spec.validate("repos/get", 200, {"id": "not-an-integer"})
    with pytest.raises(jsonschema.ValidationError, match="_links"):
        spec.validate("pulls/create", 201, {})
    with pytest.raises(AssertionError, match="not documented"):
        spec.validate("pulls/create", 200, {})
