"""A bot's evolution PR through the Git Data API: tree with base_tree, verified commit, ref, PR."""

from __future__ import annotations

import httpx

from bot.emulator.testing import EmulatorHandle


def _evolve(api: httpx.Client, branch: str = "evobot/svc/1.1.0") -> tuple[str, str]:
    main = api.get("/repos/acme/svc/branches/main").json()
    base_sha = main["commit"]["sha"]
    base_tree = main["commit"]["commit"]["tree"]["sha"]
    tree = api.post(
        "/repos/acme/svc/git/trees",
        json={
            "base_tree": base_tree,
            "tree": [
                {"path": "src/new/mod.py", "mode": "100644", "type": "blob", "content": "X = 2\n"},
                {"path": "tool.sh", "mode": "100755", "type": "blob", "content": "#!/bin/sh\n"},
                {"path": "README.md", "mode": "100644", "type": "blob", "sha": None},
            ],
        },
    )
    assert tree.status_code == 201, tree.text
    commit = api.post(
        "/repos/acme/svc/git/commits",
        json={"message": "Evolve to 1.1.0", "tree": tree.json()["sha"], "parents": [base_sha]},
    )
    assert commit.status_code == 201, commit.text
    sha = commit.json()["sha"]
    ref = api.post("/repos/acme/svc/git/refs", json={"ref": f"refs/heads/{branch}", "sha": sha})
    assert ref.status_code == 201, ref.text
    return base_sha, sha


def test_tree_with_base_tree_keeps_untouched_files_and_applies_changes(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    _base, sha = _evolve(api)
    files = emulator.files("acme/svc", sha)
    assert set(files) == {"src/app.py", "run.sh", "src/new/mod.py", "tool.sh"}
    assert files["src/new/mod.py"] == b"X = 2\n"
    tree = api.get(f"/repos/acme/svc/git/trees/{sha}", params={"recursive": "1"}).json()
    modes = {e["path"]: e["mode"] for e in tree["tree"]}
    assert modes["tool.sh"] == "100755"
    assert modes["run.sh"] == "100755"
    assert modes["src/new"] == "040000"
    assert tree["truncated"] is False


def test_api_commits_by_the_bot_are_verified(api: httpx.Client) -> None:
    _base, sha = _evolve(api)
    commit = api.get(f"/repos/acme/svc/git/commits/{sha}").json()
    assert commit["verification"]["verified"] is True
    assert commit["author"]["name"] == "evobot[bot]"
    assert commit["message"] == "Evolve to 1.1.0"


def test_pull_request_lifecycle_with_labels_comments_and_filters(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    _evolve(api)
    created = api.post(
        "/repos/acme/svc/pulls",
        json={"title": "Evolve", "head": "evobot/svc/1.1.0", "base": "main", "body": "report"},
    )
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert created.json()["user"]["login"] == "evobot[bot]"

    again = api.post(
        "/repos/acme/svc/pulls",
        json={"title": "Evolve", "head": "evobot/svc/1.1.0", "base": "main"},
    )
    assert again.status_code == 422
    assert "already exists" in again.json()["errors"][0]["message"]

    labels = api.post(f"/repos/acme/svc/issues/{number}/labels", json={"labels": ["evobot"]})
    assert [label["name"] for label in labels.json()] == ["evobot"]
    comment = api.post(f"/repos/acme/svc/issues/{number}/comments", json={"body": "superseded"})
    assert comment.status_code == 201
    reaction = api.post(
        f"/repos/acme/svc/issues/comments/{comment.json()['id']}/reactions",
        json={"content": "+1"},
    )
    assert reaction.status_code == 201

    listed = api.get("/repos/acme/svc/pulls", params={"head": "acme:evobot/svc/1.1.0"}).json()
    assert [p["number"] for p in listed] == [number]
    assert api.get("/repos/acme/svc/pulls", params={"head": "acme:nope"}).json() == []
    assert api.get("/repos/acme/svc/pulls", params={"state": "closed"}).json() == []

    files = api.get(f"/repos/acme/svc/pulls/{number}/files").json()
    assert {f["filename"]: f["status"] for f in files} == {
        "README.md": "removed",
        "src/new/mod.py": "added",
        "tool.sh": "added",
    }
    patches = {f["filename"]: f.get("patch") for f in files}
    assert patches["src/new/mod.py"] == "@@ -0,0 +1 @@\n+X = 2"
    assert patches["README.md"] == "@@ -1 +0,0 @@\n-# svc"
    updated = api.patch(f"/repos/acme/svc/pulls/{number}", json={"body": "new report"})
    assert updated.json()["body"] == "new report"
    closed = api.patch(f"/repos/acme/svc/pulls/{number}", json={"state": "closed"})
    assert closed.json()["state"] == "closed"
    assert closed.json()["merged"] is False


def test_request_counters_name_endpoints_by_route(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    emulator.reset_counters()
    _evolve(api)
    counts = emulator.counters.snapshot()
    assert counts["total"] == 4
    assert counts["endpoints"]["POST /repos/{owner}/{repo}/git/trees"] == 1
    assert counts["endpoints"]["GET /repos/{owner}/{repo}/branches/{branch}"] == 1
    assert counts["installations"]["77"]["POST /repos/{owner}/{repo}/git/refs"] == 1


def test_tokens_only_reach_their_installations_repositories(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    assert api.get("/repos/other/elsewhere").status_code == 404
    names = [r["full_name"] for r in api.get("/installation/repositories").json()["repositories"]]
    assert names == ["acme/public-lib", "acme/svc"]
    anonymous = httpx.get(f"{emulator.api_url}/repos/acme/public-lib", trust_env=False)
    assert anonymous.status_code == 200
    assert httpx.get(f"{emulator.api_url}/repos/acme/svc", trust_env=False).status_code == 404


def test_contents_as_json_or_raw(api: httpx.Client) -> None:
    import base64

    file = api.get("/repos/acme/svc/contents/src/app.py").json()
    assert base64.b64decode(file["content"]) == b"print('hi')\n"
    raw = api.get(
        "/repos/acme/svc/contents/src/app.py", headers={"Accept": "application/vnd.github.raw"}
    )
    assert raw.content == b"print('hi')\n"
    listing = api.get("/repos/acme/svc/contents/src", params={"ref": "main"}).json()
    assert [(e["name"], e["type"]) for e in listing] == [("app.py", "file")]
    assert api.get("/repos/acme/svc/contents/nope.txt").status_code == 404
