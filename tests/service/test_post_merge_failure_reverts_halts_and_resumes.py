"""Checks fail on a consumer's default branch after its evolution PR is merged: the service
opens a revert PR, comments on the original PR naming the failing checks, marks the consumer
reverted and halts the rollout; `/evobot resume --rollout` from a maintainer continues it to
completion."""

from __future__ import annotations

from pathlib import Path

from rollout_service_support import (
    bot_comments,
    consumer_name,
    evolution_pulls,
    fleet_seed,
    rollout_loop,
)


def test_a_red_default_branch_is_reverted_and_the_rollout_halts_until_resumed(
    tmp_path: Path,
) -> None:
    with rollout_loop(tmp_path, fleet_seed(3)) as loop:
        canary = consumer_name(1)
        key = loop.release("v1.1.0")
        loop.wait(lambda: bool(loop.mergeable(key)), 120, "the canary's PR to be green")
        ((repo, number),) = loop.mergeable(key)
        assert repo == canary
        loop.gh.set_ci(canary, {"always": "failure", "name": "tests"})  # the merge commit fails
        merge_commit = loop.merge(canary, number)

        loop.wait_status(key, "halted", timeout=120)
        loop.quiet()  # the halt is stored before its effects (the revert) are carried out
        state = loop.wait_status(key, "halted")

        c = state.consumer(canary)
        assert c is not None and c.status == "reverted" and c.merge_commit == merge_commit
        assert c.revert_number is not None
        assert state.reason is not None and "tests" in state.reason
        reverts = [p for p in evolution_pulls(loop.gh, canary) if p["number"] == c.revert_number]
        assert len(reverts) == 1 and reverts[0]["state"] == "open"
        assert reverts[0]["head_ref"].startswith("evobot/revert/")
        (comment,) = bot_comments(loop.gh, canary, number)
        assert "`tests`" in comment and f"#{c.revert_number}" in comment
        for n in (2, 3):
            assert evolution_pulls(loop.gh, consumer_name(n)) == []

        # A maintainer of the consumer and the template resumes the rollout from the PR.
        loop.gh.set_ci(canary, {"always": "success"})
        loop.gh.comment(canary, number, "/evobot resume --rollout", user="maria")
        loop.wait(lambda: loop.wait_status(key).status != "halted", 60, "the resume")
        state = loop.drive(key, timeout=180)

        assert state.status == "completed"
        assert {x.status for x in state.consumers if x.repo != canary} == {"green"}
        replies = bot_comments(loop.gh, canary, number)
        assert len(replies) == 2 and replies[1].startswith("evobot: done:")
        audit = loop.store.audit_log(entity=f"command:{canary}#{number}")
        assert [r.change for r in audit] == [
            "@maria `/evobot resume --rollout`: " + replies[1].splitlines()[0][:200]
        ]
