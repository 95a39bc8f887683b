"""Merging through the API makes real commits: a two-parent merge or a one-parent squash on the
default branch, refused while conflicting or when the head moved."""

from __future__ import annotations

import httpx

from bot.emulator.testing import EmulatorHandle


def _pr(emulator: EmulatorHandle, api: httpx.Client, branch: str, files: dict[str, str]) -> int:
    emulator.push_commit("acme/svc", branch, files, author="alice")
    created = api.post(
        "/repos/acme/svc/pulls", json={"title": branch, "head": branch, "base": "main"}
    )
    assert created.status_code == 201, created.text
    emulator.settle()
    number: int = created.json()["number"]
    return number


def test_merge_and_squash_create_the_commits_github_would(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    one = _pr(emulator, api, "one", {"one.txt": "1\n"})
    merged = api.put(f"/repos/acme/svc/pulls/{one}/merge", json={"merge_method": "merge"})
    assert merged.status_code == 200, merged.text
    commit = api.get(f"/repos/acme/svc/git/commits/{merged.json()['sha']}").json()
    assert len(commit["parents"]) == 2
    assert commit["message"].startswith(f"Merge pull request #{one} from acme/one")
    assert commit["verification"]["verified"] is True

    two = _pr(emulator, api, "two", {"two.txt": "2\n"})
    squashed = api.put(
        f"/repos/acme/svc/pulls/{two}/merge",
        json={"merge_method": "squash", "commit_title": "Evolve", "commit_message": "body"},
    )
    assert squashed.status_code == 200
    commit = api.get(f"/repos/acme/svc/git/commits/{squashed.json()['sha']}").json()
    assert [p["sha"] for p in commit["parents"]] == [merged.json()["sha"]]
    assert commit["message"].startswith(f"Evolve (#{two})\n\nbody")
    assert set(emulator.files("acme/svc", "main")) >= {"one.txt", "two.txt"}
    pr = api.get(f"/repos/acme/svc/pulls/{two}").json()
    assert (pr["state"], pr["merged"], pr["merge_commit_sha"]) == (
        "closed",
        True,
        squashed.json()["sha"],
    )
    assert pr["merged_by"]["login"] == "evobot[bot]"


def test_conflicts_and_moved_heads_are_refused(emulator: EmulatorHandle, api: httpx.Client) -> None:
    number = _pr(emulator, api, "edit", {"README.md": "# theirs\n"})
    moved = api.put(f"/repos/acme/svc/pulls/{number}/merge", json={"sha": "0" * 40})
    assert moved.status_code == 409
    emulator.push_commit("acme/svc", "main", {"README.md": "# ours\n"}, author="alice")
    emulator.settle()
    pr = api.get(f"/repos/acme/svc/pulls/{number}").json()
    assert (pr["mergeable"], pr["mergeable_state"]) == (False, "dirty")
    refused = api.put(f"/repos/acme/svc/pulls/{number}/merge", json={})
    assert refused.status_code == 405
    assert refused.json()["message"] == "Pull Request is not mergeable"
    unknown = api.put(f"/repos/acme/svc/pulls/{number}/merge", json={"merge_method": "octopus"})
    assert unknown.status_code == 422
