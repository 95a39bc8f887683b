"""A rollout's story through the state machine: canaries first, bake, waves, halt, revert."""

from __future__ import annotations

from rollout_support import open_and_merge, run, started

from bot.rollout import transition
from bot.rollout.events import (
    NoticeHalt,
    OpenPr,
    PostMergeChecks,
    Promote,
    PrOpened,
    Resume,
    RevertEvolution,
    Rollback,
    Tick,
    Wake,
)


def test_waves_open_one_after_another_once_merged_green_and_baked() -> None:
    state = started([["canary"], ["a", "b"]], bake=3600)
    assert state.status == "wave-open"
    state, effects = run(
        state,
        *open_and_merge("canary", 1, at=10),
        PostMergeChecks(repo="canary", sha="m1", passed=True, at=20),
    )
    assert state.status == "wave-baking"
    assert effects == [Wake(3620.0)]
    state, effects = run(state, Tick(at=3000))
    assert state.status == "wave-baking" and effects == []
    state, effects = run(state, Tick(at=3620))
    assert state.status == "wave-open" and state.current == 1
    assert effects == [OpenPr("a"), OpenPr("b")]
    state, _ = run(
        state,
        *open_and_merge("a", 2),
        *open_and_merge("b", 3),
        PostMergeChecks(repo="a", sha="m2", passed=True, at=30),
        PostMergeChecks(repo="b", sha="m3", passed=True, at=40),
        Tick(at=3640),
    )
    assert state.status == "completed"


def test_canary_failure_after_merge_reverts_once_and_halts() -> None:
    state = started([["canary"], ["a"]])
    state, effects = run(
        state,
        *open_and_merge("canary", 1),
        PostMergeChecks(repo="canary", sha="m1", passed=False, failing=("tests",), at=5),
        PostMergeChecks(repo="canary", sha="m1", passed=False, failing=("tests",), at=6),
        Tick(at=99999),
    )
    assert state.status == "halted"
    assert effects == [RevertEvolution("canary", 1, "m1", ("tests",))]
    assert state.consumer("canary").status == "reverted"  # type: ignore[union-attr]
    assert "tests failed on the default branch" in (state.reason or "")


def test_halt_notices_prs_already_open_in_later_waves_once() -> None:
    # Promote --full opened waves 1 and 2 while the canary still bakes; then the canary fails.
    state = started([["canary"], ["a"], ["b"]], bake=3600)
    state, _ = run(state, *open_and_merge("canary", 1))
    state = state.with_consumer("a", status="open", number=2, wave=1)
    state = state.with_consumer("b", status="open", number=3, wave=2)
    state, effects = run(
        state,
        PostMergeChecks(repo="canary", sha="m1", passed=False),
        PostMergeChecks(repo="canary", sha="m1", passed=False),
        Resume(),
        PostMergeChecks(repo="canary", sha="m1", passed=False),
    )
    reason = "canary: checks failed on the default branch after the merge"
    assert [e for e in effects if isinstance(e, NoticeHalt)] == [
        NoticeHalt("a", 2, reason),
        NoticeHalt("b", 3, reason),
    ]


def test_promote_full_opens_every_remaining_wave() -> None:
    state = started([["canary"], ["a"], ["b"]], bake=3600)
    state, effects = run(state, PrOpened(repo="canary", number=1), Promote(full=True))
    assert effects == [OpenPr("a"), OpenPr("b")]
    assert state.current == 2 and state.status == "wave-open"
    assert [w.status for w in state.waves] == ["passed", "passed", "open"]


def test_resume_after_halt_continues_and_rollback_reverts_every_merged_consumer() -> None:
    state = started([["c1", "c2"], ["a"]])
    state, _ = run(
        state,
        *open_and_merge("c1", 1),
        *open_and_merge("c2", 2),
        PostMergeChecks(repo="c1", sha="m1", passed=False),
    )
    assert state.status == "halted"
    state, effects = run(state, Resume(), PostMergeChecks(repo="c2", sha="m2", passed=True))
    assert state.status == "wave-open" and state.current == 1
    assert effects == [OpenPr("a")]
    state, effects = run(state, *open_and_merge("a", 3), Rollback())
    assert state.status == "rolled-back"
    assert effects == [RevertEvolution("a", 3, "m3"), RevertEvolution("c2", 2, "m2")]


def test_duplicate_events_change_nothing() -> None:
    state = started([["canary"]])
    once, _ = run(state, PrOpened(repo="canary", number=1))
    again = transition(once, PrOpened(repo="canary", number=1))
    assert again.state == once and again.effects == () and again.change is None
