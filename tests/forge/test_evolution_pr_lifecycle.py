"""An evolution PR is updated in place, superseded by a newer version, and left alone once a
person pushes to its branch (until `/evobot recreate`)."""

from __future__ import annotations

from pathlib import Path

from forge_helpers import emulated, installation_requests, open_pr, writes


def test_new_template_commit_updates_the_same_pr(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        first = open_pr(forge, tmp_path, vcs_ref="main")
        assert first.action == "created"
        emu.push_commit("acme/tpl", "main", {"files/app.py": "print('hotfix')\n"}, "hotfix")

        emu.reset_counters()
        second = open_pr(forge, tmp_path, vcs_ref="main")
        assert second.action == "updated"
        assert second.number == first.number
        assert second.commit != first.commit
        assert writes(installation_requests(emu)) <= 4
        assert emu.files("acme/svc1", second.branch)["app.py"] == b"print('hotfix')\n"
        assert len(emu.pulls("acme/svc1")) == 1
        pull = forge.get_pull("acme/svc1", first.number)
        assert second.commit in pull.body  # the hidden marker follows the new commit


def test_newer_version_supersedes_and_closes_the_older_pr(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (_emu, forge):
        older = open_pr(forge, tmp_path, vcs_ref="v2")
        newer = open_pr(forge, tmp_path)  # newest tag: v3
        assert newer.action == "created"
        assert newer.branch == "evobot/svc/v3"
        assert newer.superseded == (older.number,)

        closed = forge.get_pull("acme/svc1", older.number)
        assert closed.state == "closed"
        assert not closed.merged
        notes = [c.body for c in forge.list_comments("acme/svc1", older.number)]
        assert len(notes) == 1
        assert f"#{newer.number}" in notes[0]
        assert newer.url in notes[0]
        assert forge.get_pull("acme/svc1", newer.number).state == "open"


def test_human_commits_stop_force_pushes_until_recreate(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        first = open_pr(forge, tmp_path, vcs_ref="v2")
        branch = first.branch
        human = emu.push_commit(
            "acme/svc1", branch, {"app.py": "print('mine')\n"}, author="octocat"
        )

        blocked = open_pr(forge, tmp_path, vcs_ref="v2")
        again = open_pr(forge, tmp_path, vcs_ref="v2")
        assert blocked.action == again.action == "blocked"
        assert emu.branch_sha("acme/svc1", branch) == human
        comments = forge.list_comments("acme/svc1", first.number)
        assert len(comments) == 1  # said once, not on every run
        assert "/evobot recreate" in comments[0].body

        rebuilt = open_pr(forge, tmp_path, vcs_ref="v2", recreate=True)
        assert rebuilt.action == "updated"
        assert rebuilt.number == first.number
        assert emu.branch_sha("acme/svc1", branch) == rebuilt.commit
        assert emu.files("acme/svc1", branch)["app.py"] == b"print('v2')\n"
        assert open_pr(forge, tmp_path, vcs_ref="v2").action == "unchanged"
