"""A worker that stored a transition and died before carrying out its effects loses nothing:
`reconcile` opens the PR the transition asked for, once, however often it runs."""

from __future__ import annotations

from pathlib import Path

from rollout_pipeline_support import make_fleet

from bot.pipeline.rollout import reconcile
from bot.rollout import new_rollout, transition
from bot.rollout.events import PreflightFinished, Start


def test_reconcile_opens_the_pr_a_crash_left_unopened(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, ["acme/canary", "acme/a"], canaries=["acme/canary"])
    state = new_rollout(fleet.plan(), bake_seconds=0)
    fleet.store.create_rollout(state, cause="t")
    for revision, event in enumerate([Start(), PreflightFinished(passed=True, summary="ok")]):
        step = transition(state, event)
        state = step.state
        fleet.store.record_transition(
            state.id,
            revision=revision,
            state=state,
            event=type(event).__name__,
            detail={},
            change=step.change or "",
            cause="t",
        )
    # The worker died here: the canary is "opening", no PR exists.
    assert state.consumer("acme/canary").status == "opening"  # type: ignore[union-attr]
    assert not fleet.forge.repos["acme/canary"].pulls

    first = reconcile(fleet.ctx, state.id, cause="reconcile")
    second = reconcile(fleet.ctx, state.id, cause="reconcile")
    assert first.state is not None
    assert first.state.consumer("acme/canary").status == "open"  # type: ignore[union-attr]
    assert not second.changes
    assert len(fleet.forge.repos["acme/canary"].pulls) == 1
    assert not fleet.forge.repos["acme/a"].pulls
