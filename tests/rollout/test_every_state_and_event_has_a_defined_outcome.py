"""Every rollout status x every event: the outcome (a change, a refusal, or nothing) as a table.

A representative state per status: wave 0 holds c1 (PR #1 open), c2 (PR #2 merged as m2), c3
(its PR being opened) and c4 (PR #4 closed unmerged; wave 0 allows 5 failures); wave 1 holds a.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from rollout_support import make_rollout

from bot.rollout import RolloutState, transition
from bot.rollout.events import (
    Event,
    OpenPr,
    Pause,
    PostMergeChecks,
    PrChecks,
    PrClosed,
    PreflightFinished,
    PrMerged,
    Promote,
    PrOpened,
    Resume,
    Retry,
    RevertEvolution,
    RevertOpened,
    Rollback,
    Skip,
    Start,
    Supersede,
    Tick,
)
from bot.rollout.state import ROLLOUT_STATUSES

STATUSES = (
    "planned",
    "queued",
    "preflight",
    "preflight-failed",
    "wave-open",
    "wave-baking",
    "paused",
    "halted",
    "completed",
    "rolled-back",
    "superseded",
)

# c: changed, r: refused (with a reason), -: nothing (duplicate or stale). One letter per status
# in the order of STATUSES.
TABLE: dict[str, tuple[Event, str]] = {
    "start": (Start(at=1), "cc-rrrrrrrr"),
    "preflight passed": (PreflightFinished(passed=True, summary="ok", at=1), "--c--------"),
    "preflight failed": (PreflightFinished(passed=False, summary="no", at=1), "--c--------"),
    "pr opened": (PrOpened(repo="c3", number=3, at=1), "ccccccccccc"),
    "pr opened, unknown repo": (PrOpened(repo="zz", number=3, at=1), "-----------"),
    "pr checks red": (PrChecks(repo="c1", number=1, passed=False, at=1), "ccccccccccc"),
    "pr checks, stale number": (PrChecks(repo="c1", number=9, passed=False, at=1), "-----------"),
    "pr merged": (PrMerged(repo="c1", number=1, merge_commit="m1", at=1), "ccccccccccc"),
    "pr closed": (PrClosed(repo="c1", number=1, at=1), "ccccccccccc"),
    "post-merge green": (PostMergeChecks(repo="c2", sha="m2", passed=True, at=1), "ccccccccccc"),
    "post-merge red": (PostMergeChecks(repo="c2", sha="m2", passed=False, at=1), "ccccccccccc"),
    "post-merge, other sha": (PostMergeChecks(repo="c2", sha="zz", passed=False), "-----------"),
    "revert opened, not reverting": (RevertOpened(repo="c2", number=7, at=1), "-----------"),
    "tick": (Tick(at=10_000), "-----c-----"),
    "pause rollout": (Pause(at=1), "cccrcc-rrrr"),
    "pause repo": (Pause(repo="c1", at=1), "ccccccccccc"),
    "resume rollout": (Resume(at=1), "rrrcrrccrrr"),
    "resume repo, not paused": (Resume(repo="c1", at=1), "-----------"),
    "promote": (Promote(at=1), "rrrrccrrrrr"),
    "promote full": (Promote(full=True, at=1), "rrrrccrrrrr"),
    "rollback": (Rollback(at=1), "rrcccccccrr"),
    "skip": (Skip(repo="c1", at=1), "ccccccccccc"),
    "skip merged": (Skip(repo="c2", at=1), "rrrrrrrrrrr"),
    "retry closed": (Retry(repo="c4", at=1), "rrrrccrrrrr"),
    "retry open": (Retry(repo="c1", at=1), "rrrrrrrrrrr"),
    "supersede": (Supersede(by_version="1.2.0", at=1), "cccccccc---"),
}


def representative(status: str) -> RolloutState:
    state = make_rollout([["c1", "c2", "c3", "c4"], ["a"]], limits=[5, 0], bake=60)
    state = state.with_consumer("c1", status="open", number=1, opened_at=0.0)
    state = state.with_consumer("c2", status="merged", number=2, merge_commit="m2", merged_at=0.0)
    state = state.with_consumer("c3", status="opening")
    state = state.with_consumer("c4", status="closed", number=4)
    wave_status = {"wave-open": "open", "wave-baking": "baking", "halted": "failed"}
    state = state.with_wave(0, status=wave_status.get(status, "open"), bake_until=5000.0)
    return replace(
        state,
        status=status,  # type: ignore[arg-type]
        paused_from="wave-open" if status == "paused" else None,
    )


def test_the_table_names_every_status() -> None:
    assert set(STATUSES) == set(ROLLOUT_STATUSES)


@pytest.mark.parametrize("name", sorted(TABLE))
@pytest.mark.parametrize("index", range(len(STATUSES)), ids=STATUSES)
def test_outcome(name: str, index: int) -> None:
    event, expected = TABLE[name]
    before = representative(STATUSES[index])
    step = transition(before, event)
    outcome = "c" if step.change else "r" if step.refused else "-"
    assert outcome == expected[index], (STATUSES[index], name, step.change, step.refused)
    if outcome != "c":
        assert step.state == before and step.effects == ()
    assert step.state.status in STATUSES
    if before.status == "halted" and not isinstance(event, Resume):
        assert not any(isinstance(e, OpenPr) for e in step.effects)


def test_post_merge_failure_halts_every_running_state_and_always_reverts() -> None:
    event = PostMergeChecks(repo="c2", sha="m2", passed=False, failing=("ci",), at=1)
    for status in STATUSES:
        step = transition(representative(status), event)
        assert step.effects.count(RevertEvolution("c2", 2, "m2", ("ci",))) == 1
        expected = "halted" if status in ("wave-open", "wave-baking", "paused") else status
        assert step.state.status == expected, status
