"""The dashboard issue through the service, over HTTP with the emulator: consumers that opt in
(`.evobot.yml` ``dashboard_issue: true``) each get one issue, "evobot: template evolutions",
which lists the release as pending while its wave waits, and is edited in place — never a second
issue — when the canary is skipped and the next wave opens."""

from __future__ import annotations

from pathlib import Path

from rollout_extras_support import dashboard_issues, set_consumer_settings
from rollout_service_support import consumer_name, evolution_pulls, fleet_seed, rollout_loop

from bot.rollout.dashboard_issue import DASHBOARD_TITLE


def test_pending_then_skipped_in_one_issue_per_repository(tmp_path: Path) -> None:
    canary, later = consumer_name(1), consumer_name(2)
    with rollout_loop(tmp_path, fleet_seed(2, waves=(100.0,)), install=False) as loop:
        for repo in (canary, later):
            set_consumer_settings(loop.gh, repo, dashboard_issue=True)
        loop.install()
        key = loop.release("v1.1.0")
        loop.wait(lambda: len(loop.mergeable(key)) == 1, 120, "the canary PR to be green")
        loop.quiet()

        (issue,) = dashboard_issues(loop.gh, later)
        assert issue["title"] == DASHBOARD_TITLE and issue["user"] == loop.gh.bot_login
        assert "## Pending\n\n- `acme/tpl` v1.1.0: waits for the wave 1\n" in issue["body"]
        (first,) = dashboard_issues(loop.gh, canary)
        assert "## Pending\n\nNone." in first["body"]  # its PR is open: nothing pending

        (pull,) = evolution_pulls(loop.gh, canary)
        loop.gh.comment(canary, pull["number"], "/evobot skip", user="maria")
        loop.wait(
            lambda: (s := loop.state(key)) is not None and s.current == 1,
            120,
            "wave 1 to open after the canary was skipped",
        )
        loop.quiet()

        (edited,) = dashboard_issues(loop.gh, canary)
        assert edited["number"] == first["number"]
        assert (
            f"## Skipped\n\n- `acme/tpl` v1.1.0: skipped (#{pull['number']} closed)\n"
            in (edited["body"])
        )
        (now,) = dashboard_issues(loop.gh, later)
        assert now["number"] == issue["number"] and "## Pending\n\nNone." in now["body"]
