"""Random event orders, with duplicates and stale events, never break the rollout's invariants:
no second PR opened for a consumer while one is under way, nothing opened after a halt until a
resume, and every failure after merge reverted exactly once (and halting a running rollout)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from rollout_support import make_rollout

from bot.rollout import transition
from bot.rollout.events import (
    ClosePr,
    Event,
    OpenPr,
    Pause,
    PostMergeChecks,
    PrBlocked,
    PrChecks,
    PrClosed,
    PreflightFinished,
    PrMerged,
    PrNoChange,
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

REPOS = ("r0", "r1", "r2", "r3")
repos = st.sampled_from(REPOS)
numbers = st.integers(1, 2)


def _sha(repo: str, number: int) -> str:
    return f"m-{repo}-{number}"


events: st.SearchStrategy[Event] = st.one_of(
    st.just(Start()),
    st.builds(PreflightFinished, passed=st.booleans(), summary=st.just("s")),
    st.builds(PrOpened, repo=repos, number=numbers),
    st.builds(PrNoChange, repo=repos),
    st.builds(PrBlocked, repo=repos, reason=st.just("x")),
    st.builds(PrChecks, repo=repos, number=numbers, passed=st.booleans()),
    st.builds(lambda r, n: PrMerged(repo=r, number=n, merge_commit=_sha(r, n)), repos, numbers),
    st.builds(PrClosed, repo=repos, number=numbers),
    st.builds(
        lambda r, n, ok: PostMergeChecks(repo=r, sha=_sha(r, n), passed=ok),
        repos,
        numbers,
        st.booleans(),
    ),
    st.builds(RevertOpened, repo=repos, number=numbers),
    st.builds(Tick),
    st.builds(Pause, repo=st.none() | repos),
    st.builds(Resume, repo=st.none() | repos),
    st.builds(Promote, full=st.booleans()),
    st.just(Rollback()),
    st.builds(Skip, repo=repos),
    st.builds(Retry, repo=repos),
    st.just(Supersede(by_version="9.9.9")),
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(events, max_size=60),
    st.integers(0, 1),
    st.sampled_from([0.0, 50.0]),
    st.booleans(),
)
def test_invariants(sequence: list[Event], limit: int, bake: float, begun: bool) -> None:
    if begun:  # most interesting orders start with a passed preflight
        sequence = [Start(), PreflightFinished(passed=True, summary="ok"), *sequence]
    state = make_rollout([["r0"], ["r1", "r2"], ["r3"]], limits=[0, limit, limit], bake=bake)
    reverts: Counter[str] = Counter()
    now = 0.0
    for raw in sequence:
        now += 10.0
        event = type(raw)(**{**raw.__dict__, "at": now})
        before = state
        step = transition(before, event)
        state = step.state
        opened = [e.repo for e in step.effects if isinstance(e, OpenPr)]
        # One OpenPr per consumer per step, never while its PR is opening, open or merged.
        assert len(opened) == len(set(opened))
        for repo in opened:
            prior = before.consumer(repo)
            assert prior is not None
            assert prior.status not in ("opening", "open", "merged", "green", "reverted")
            assert state.consumer(repo).status == "opening"  # type: ignore[union-attr]
        # Nothing opens after a halt until a resume.
        if before.status == "halted" and not isinstance(event, Resume):
            assert not opened
            assert state.current == before.current
        # Each consumer is reverted at most once, ever; a PR is closed only if it was open.
        for effect in step.effects:
            if isinstance(effect, RevertEvolution):
                reverts[effect.repo] += 1
                assert reverts[effect.repo] == 1, effect
            if isinstance(effect, ClosePr):
                prior = before.consumer(effect.repo)
                assert prior is not None and prior.number == effect.number
        # A failure after merge: exactly one revert in that step, and a running rollout halts.
        if isinstance(event, PostMergeChecks) and not event.passed and step.change:
            assert [e.repo for e in step.effects if isinstance(e, RevertEvolution)] == [event.repo]
            if before.status in ("wave-open", "wave-baking", "paused"):
                assert state.status == "halted"
        # Duplicates change nothing.
        again = transition(state, event)
        if not isinstance(event, (Tick, Promote, Retry, Resume, Start, Pause)):
            assert again.change is None or isinstance(event, PrChecks), (event, again.change)
    for c in state.consumers:
        if c.status == "reverted":
            assert reverts[c.repo] == 1
