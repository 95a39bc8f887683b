"""The port calls behind auto-merge, the dashboard issue and the preflight report on a tag's
commit, through the GitHub adapter against the emulator: a merge of exactly the checked head
(refused, not raised, when the head moved or the PR is closed), issues listed without PRs and
edited in place, and comments on a commit."""

from __future__ import annotations

from pathlib import Path

from forge_helpers import emulated, open_pr


def test_merge_only_the_checked_head_and_say_when_github_refuses(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (_emu, forge):
        opened = open_pr(forge, tmp_path, vcs_ref="v2")
        assert opened.number is not None
        pull = forge.get_pull("acme/svc1", opened.number)
        assert pull.mergeable is True and pull.additions + pull.deletions > 0

        assert forge.merge_pull("acme/svc1", pull.number, sha="0" * 40) is None  # head moved
        sha = forge.merge_pull("acme/svc1", pull.number, sha=pull.head_sha)
        assert sha is not None
        merged = forge.get_pull("acme/svc1", pull.number)
        assert merged.merged and merged.merge_commit_sha == sha
        assert forge.merge_pull("acme/svc1", pull.number, sha=pull.head_sha) is None  # closed


def test_issues_are_listed_without_prs_and_edited_in_place(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        open_pr(forge, tmp_path, vcs_ref="v2")
        emu.comment("acme/svc1", 1, "a person's comment")
        issue = forge.create_issue("acme/svc1", title="evobot: template evolutions", body="one")
        assert issue.user_login == emu.bot_login and issue.state == "open"

        forge.update_issue("acme/svc1", issue.number, body="two")
        (listed,) = forge.list_issues("acme/svc1", creator=emu.bot_login)
        assert (listed.number, listed.title, listed.body) == (issue.number, issue.title, "two")
        assert forge.list_issues("acme/svc1", creator="octocat") == []


def test_comments_on_a_commit(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        sha = emu.branch_sha("acme/svc1", "main")
        assert sha is not None
        assert forge.list_commit_comments("acme/svc1", sha) == []
        made = forge.create_commit_comment("acme/svc1", sha, "the preflight failed")
        (listed,) = forge.list_commit_comments("acme/svc1", sha)
        assert (listed.id, listed.body, listed.user_login) == (
            made.id,
            "the preflight failed",
            emu.bot_login,
        )
        assert f"/commit/{sha}" in listed.html_url
