"""Auto-merge over HTTP with the emulator: a consumer whose `.evobot.yml` turns on
``pr.auto_merge`` has its evolution PR merged by the bot once its checks are green (the rollout
moves on without a person); one whose PR changes more lines than its ``max_churn_lines``, and one
that did not opt in, keep their PRs open for a person to merge."""

from __future__ import annotations

from pathlib import Path

from rollout_extras_support import set_consumer_settings
from rollout_service_support import consumer_name, evolution_pulls, fleet_seed, rollout_loop


def test_green_prs_are_merged_by_the_bot_only_when_opted_in_and_small(tmp_path: Path) -> None:
    canary, big, other = (consumer_name(n) for n in (1, 2, 3))
    with rollout_loop(tmp_path, fleet_seed(3, waves=(100.0,)), install=False) as loop:
        set_consumer_settings(loop.gh, canary, pr={"auto_merge": {"enabled": True}})
        set_consumer_settings(
            loop.gh, big, pr={"auto_merge": {"enabled": True, "max_churn_lines": 1}}
        )
        loop.install()
        key = loop.release("v1.1.0")

        # Nobody merges: the canary merges itself, so wave 1 opens.
        loop.wait(
            lambda: (s := loop.state(key)) is not None and s.current == 1,
            120,
            "wave 1 to open after the canary merged itself",
        )
        loop.wait(lambda: len(loop.mergeable(key)) == 2, 120, "wave 1's PRs to be green")
        loop.quiet()

        (pull,) = evolution_pulls(loop.gh, canary)
        assert pull["merged_at"] is not None
        assert pull["merged_by"] == loop.gh.bot_login
        state = loop.state(key)
        assert state is not None
        assert state.consumer(canary).status == "green"  # type: ignore[union-attr]
        for repo in (big, other):
            (pull,) = evolution_pulls(loop.gh, repo)
            assert pull["state"] == "open" and pull["merged_at"] is None, repo
            assert state.consumer(repo).status == "open", repo  # type: ignore[union-attr]
        audit = [a.change for a in loop.store.audit_log(entity=f"consumer:{canary}")]
        assert any(c.startswith("auto-merged #") for c in audit), audit
