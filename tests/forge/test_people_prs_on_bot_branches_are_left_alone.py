"""The bot's PRs are found by author *and* branch prefix: a person's PR from an ``evobot/…``
branch is never updated, superseded, closed or force-pushed, and knowing its own login costs
one App-level request per process, not one per consumer."""

from __future__ import annotations

from pathlib import Path

from forge_helpers import emulated, installation_requests, make_forge, open_pr, writes

from bot.emulator.handle import EmulatorHandle
from bot.forge import ForgeSettings, GitHubForge, TokenCredentials
from bot.pipeline import revert_pr

HUMAN = "alice"


def _human_pull(emu: EmulatorHandle, branch: str) -> tuple[int, str]:
    """A person's branch ``branch`` (from main, one commit) and their open PR from it."""
    head = emu.push_commit(
        "acme/svc1", branch, {"NOTES.md": "alice's notes\n"}, "my experiment", author=HUMAN
    )
    number = emu.open_pull("acme/svc1", branch, title="Alice's experiment", body="mine", user=HUMAN)
    return number, head


def test_person_pr_on_the_very_branch_blocks_instead_of_being_force_pushed(
    tmp_path: Path,
) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        number, head = _human_pull(emu, "evobot/svc/v2")
        emu.reset_counters()
        result = open_pr(forge, tmp_path, vcs_ref="v2")
        assert result.action == "blocked"
        assert f"#{number}" in result.message and "@alice" in result.message
        assert writes(installation_requests(emu)) == 0
        assert emu.branch_sha("acme/svc1", "evobot/svc/v2") == head  # not force-pushed
        pull = emu.pull("acme/svc1", number)
        assert (pull["state"], pull["title"], pull["body"]) == (
            "open",
            "Alice's experiment",
            "mine",
        )
        assert emu.comments("acme/svc1", number) == []
        assert len(emu.pulls("acme/svc1")) == 1


def test_person_pr_on_an_older_bot_branch_is_not_superseded(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        number, head = _human_pull(emu, "evobot/svc/v1")
        result = open_pr(forge, tmp_path, vcs_ref="v2")
        assert result.action == "created"
        assert result.superseded == ()
        assert emu.pull("acme/svc1", number)["state"] == "open"
        assert emu.comments("acme/svc1", number) == []
        assert emu.branch_sha("acme/svc1", "evobot/svc/v1") == head
        # The bot's own PR is still found (and left unchanged) on the next run.
        again = open_pr(forge, tmp_path, vcs_ref="v2")
        assert again.action == "unchanged"
        assert again.number == result.number


def test_bots_own_older_pr_is_still_superseded(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        older = open_pr(forge, tmp_path, vcs_ref="v2")
        newer = open_pr(forge, tmp_path, vcs_ref="v3")
        assert newer.action == "created"
        assert newer.superseded == (older.number,)
        assert emu.pull("acme/svc1", older.number or 0)["state"] == "closed"


def test_person_pr_on_the_revert_branch_is_left_alone(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        evolution = open_pr(forge, tmp_path, vcs_ref="v2")
        emu.merge("acme/svc1", evolution.number or 0)
        branch = f"evobot/revert/{evolution.number}"
        number, head = _human_pull(emu, branch)
        emu.reset_counters()
        result = revert_pr(make_forge(emu, write_interval=0.0), "acme/svc1", evolution.number or 0)
        assert result.action == "blocked"
        assert result.number == number
        assert writes(installation_requests(emu)) == 0
        assert emu.branch_sha("acme/svc1", branch) == head


def test_own_login_is_asked_once_per_process_not_per_consumer(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu", consumers=3) as (emu, forge):
        emu.reset_counters()
        for n in (1, 2, 3):
            assert open_pr(forge, tmp_path, repo=f"acme/svc{n}", vcs_ref="v2").action == "created"
        # At most once (an earlier forge in this process may have asked already), and with
        # the App's JWT: nothing is counted against the installation.
        assert emu.counters["GET /app"] <= 1
        assert "GET /app" not in installation_requests(emu)
        assert forge.bot_login() == emu.bot_login
        assert make_forge(emu).bot_login() == emu.bot_login
        assert emu.counters["GET /app"] <= 1


def test_plain_token_login_is_its_user_or_the_configured_one(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, _forge):
        as_user = GitHubForge(
            TokenCredentials(emu.user_token(HUMAN)),
            settings=ForgeSettings(base_url=emu.api_url),
            clock=emu.clock,
        )
        assert as_user.bot_login() == HUMAN
        # An installation token (Actions' GITHUB_TOKEN) cannot read /user: GitHub answers 403.
        installation = TokenCredentials(emu.installation_token("acme"))
        unnamed = GitHubForge(installation, settings=ForgeSettings(base_url=emu.api_url))
        assert unnamed.bot_login() is None
        named = GitHubForge(
            installation,
            settings=ForgeSettings.from_env(
                {"EVOBOT_BOT_LOGIN": "github-actions[bot]"}, base_url=emu.api_url
            ),
        )
        assert named.bot_login() == "github-actions[bot]"
