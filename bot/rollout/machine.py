"""The rollout state machine: ``transition(state, event) -> Step(state, effects, ...)``, pure.

Every event is idempotent: a duplicate (the same PR merged twice, a stale PR number, a repeated
tick) changes nothing and asks for nothing. Three invariants hold for any order of events
(tests/rollout/test_rollout_invariants_hold_for_any_event_order.py): a consumer never has two
`OpenPr` under way without its PR closing or merging between; a halted rollout opens nothing
until resumed; every post-merge failure gets exactly one `RevertEvolution`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.rollout.events import (
    ClosePr,
    Effect,
    Event,
    NoticeHalt,
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
    ReportPreflight,
    Resume,
    Retry,
    RevertEvolution,
    RevertOpened,
    Rollback,
    RunPreflight,
    Skip,
    Start,
    Supersede,
    Tick,
    Wake,
)
from bot.rollout.state import ACTIVE, TERMINAL, ConsumerState, ConsumerStatus, RolloutState

__all__ = ["FAILED", "UNSETTLED", "Step", "transition"]

# A wave waits for these; the others are settled (passed, skipped or a counted failure).
UNSETTLED: frozenset[ConsumerStatus] = frozenset({"opening", "open", "merged"})
FAILED: frozenset[ConsumerStatus] = frozenset({"checks-failed", "closed", "blocked", "reverted"})
_OPEN_PR: frozenset[ConsumerStatus] = frozenset({"open", "checks-failed"})


@dataclass(frozen=True)
class Step:
    """What one event did: the new state, the effects to carry out, and for the audit log and
    command replies, what changed (``change``) or why nothing did (``refused``). Neither set
    means the event was a duplicate or stale: nothing to do."""

    state: RolloutState
    effects: tuple[Effect, ...] = ()
    change: str | None = None
    refused: str | None = None


def _same(state: RolloutState) -> Step:
    return Step(state)


def _refuse(state: RolloutState, why: str) -> Step:
    return Step(state, refused=why)


def transition(state: RolloutState, event: Event) -> Step:
    """Apply ``event`` to ``state``."""
    match event:
        case Start():
            return _start(state)
        case PreflightFinished():
            return _preflight_finished(state, event)
        case PrOpened() | PrNoChange() | PrBlocked():
            return _open_result(state, event)
        case PrChecks():
            return _pr_checks(state, event)
        case PrMerged():
            return _merged(state, event)
        case PrClosed():
            return _closed(state, event)
        case PostMergeChecks():
            return _post_merge(state, event)
        case RevertOpened():
            c = state.consumer(event.repo)
            if c is None or c.status != "reverted" or c.revert_number == event.number:
                return _same(state)
            new = state.with_consumer(event.repo, revert_number=event.number)
            return Step(new, change=f"{event.repo}: revert PR #{event.number} opened")
        case Tick():
            return _settle(Step(state), event.at)
        case Pause():
            return _pause(state, event)
        case Resume():
            return _resume(state, event)
        case Promote():
            return _promote(state, event)
        case Rollback():
            return _rollback(state)
        case Skip():
            return _skip(state, event)
        case Retry():
            return _retry(state, event)
        case Supersede():
            if state.status in TERMINAL:
                return _same(state)
            new = replace(state, status="superseded", reason=f"superseded by {event.by_version}")
            return Step(new, change=f"{state.status} -> superseded by {event.by_version}")
    raise TypeError(f"not a rollout event: {event!r}")  # pragma: no cover


# --- starting ---------------------------------------------------------------------------------


def _start(state: RolloutState) -> Step:
    if state.status not in ("planned", "queued"):
        return _same(state) if state.status == "preflight" else _refuse(state, _why_not(state))
    new = replace(state, status="preflight")
    return Step(new, (RunPreflight(),), f"{state.status} -> preflight")


def _preflight_finished(state: RolloutState, event: PreflightFinished) -> Step:
    if state.status != "preflight":
        return _same(state)
    report = ReportPreflight(event.passed, event.summary)
    if not event.passed:
        new = replace(state, status="preflight-failed", reason=event.summary)
        return Step(new, (report,), "preflight -> preflight-failed")
    step = _open_wave(Step(state, (report,), "preflight passed"), 0, event.at)
    return _settle(step, event.at)


def _open_wave(step: Step, index: int, at: float) -> Step:
    """Open wave ``index``: an `OpenPr` for each of its consumers not paused."""
    state = step.state
    if index >= len(state.waves):
        new = replace(state, status="completed", reason=None)
        return Step(new, step.effects, _join(step.change, "completed"))
    state = replace(state, status="wave-open", current=index, reason=None)
    state = state.with_wave(index, status="open", opened_at=at)
    effects = list(step.effects)
    for c in state.in_wave(index):
        if c.status == "pending" and not c.paused:
            state = state.with_consumer(c.repo, status="opening")
            effects.append(OpenPr(c.repo))
    label = "canary wave" if state.waves[index].number == 0 else f"wave {state.waves[index].number}"
    return Step(state, tuple(effects), _join(step.change, f"{label} opened"))


def _join(first: str | None, then: str) -> str:
    return then if not first else f"{first}; {then}"


# --- a wave's progress ------------------------------------------------------------------------


def _failures(state: RolloutState, index: int) -> int:
    return sum(1 for c in state.in_wave(index) if c.status in FAILED)


def _settle(step: Step, now: float) -> Step:
    """After any change: halt on too many failures, bake a settled wave, pass a baked one."""
    state = step.state
    if state.status not in ACTIVE:
        return step
    index = state.current
    wave = state.waves[index]
    over = _failures(state, index) - wave.accepted_failures
    if over > wave.failure_limit:
        return _halt(step, f"{over} failure(s) in wave {wave.number}, allowed {wave.failure_limit}")
    waiting = [c for c in state.in_wave(index) if c.status in UNSETTLED]
    if waiting:
        if wave.status == "baking":  # a retried consumer: the wave waits again
            new = replace(state, status="wave-open").with_wave(index, status="open")
            return Step(new, step.effects, _join(step.change, f"wave {wave.number} waits again"))
        return step
    if wave.status == "open":
        until = now + state.bake_seconds
        state = replace(state, status="wave-baking").with_wave(
            index, status="baking", bake_until=until
        )
        effects = step.effects if state.bake_seconds <= 0 else (*step.effects, Wake(until))
        step = Step(state, effects, _join(step.change, f"wave {wave.number} baking"))
        wave = state.waves[index]
    if wave.status == "baking" and wave.bake_until is not None and now >= wave.bake_until:
        state = state.with_wave(index, status="passed")
        step = Step(state, step.effects, _join(step.change, f"wave {wave.number} passed"))
        return _settle(_open_wave(step, index + 1, now), now)
    return step


def _halt(step: Step, reason: str) -> Step:
    """Stop opening waves; one notice on each PR still open in a later wave."""
    state = step.state
    if state.status in TERMINAL or state.status == "halted":
        return step
    state = replace(state, status="halted", reason=reason, paused_from=None)
    state = state.with_wave(state.current, status="failed")
    effects = list(step.effects)
    for c in state.consumers:
        if c.wave > state.current and c.status in _OPEN_PR and not c.halt_noticed:
            assert c.number is not None
            effects.append(NoticeHalt(c.repo, c.number, reason))
            state = state.with_consumer(c.repo, halt_noticed=True)
    return Step(state, tuple(effects), _join(step.change, f"halted: {reason}"))


def _consumer_step(
    state: RolloutState, repo: str, change: str, at: float, **values: object
) -> Step:
    return _settle(Step(state.with_consumer(repo, **values), (), f"{repo}: {change}"), at)


def _matches(c: ConsumerState | None, number: int) -> bool:
    return c is not None and c.number == number


def _open_result(state: RolloutState, event: PrOpened | PrNoChange | PrBlocked) -> Step:
    c = state.consumer(event.repo)
    if c is None or c.status != "opening":
        return _same(state)
    if isinstance(event, PrOpened):
        return _consumer_step(
            state,
            event.repo,
            f"PR #{event.number} open",
            event.at,
            status="open",
            number=event.number,
            opened_at=c.opened_at if c.number == event.number else event.at,
        )
    if isinstance(event, PrNoChange):
        return _consumer_step(
            state, event.repo, "already at this version", event.at, status="skipped"
        )
    return _consumer_step(
        state,
        event.repo,
        f"blocked: {event.reason}",
        event.at,
        status="blocked",
        reason=event.reason,
    )


def _pr_checks(state: RolloutState, event: PrChecks) -> Step:
    c = state.consumer(event.repo)
    if not _matches(c, event.number) or c is None:
        return _same(state)
    if c.status == "open" and not event.passed:
        return _consumer_step(
            state,
            event.repo,
            "checks failed before merge",
            event.at,
            status="checks-failed",
            pr_checks=False,
        )
    if c.status == "checks-failed" and event.passed:
        return _consumer_step(
            state, event.repo, "checks green again", event.at, status="open", pr_checks=True
        )
    if c.status == "open" and event.passed and c.pr_checks is not True:
        return Step(
            state.with_consumer(event.repo, pr_checks=True), (), f"{event.repo}: checks green"
        )
    return _same(state)


def _merged(state: RolloutState, event: PrMerged) -> Step:
    c = state.consumer(event.repo)
    if c is None or c.status not in _OPEN_PR or c.number != event.number:
        return _same(state)
    return _consumer_step(
        state,
        event.repo,
        f"PR #{event.number} merged",
        event.at,
        status="merged",
        merge_commit=event.merge_commit,
        merged_at=event.at,
    )


def _closed(state: RolloutState, event: PrClosed) -> Step:
    c = state.consumer(event.repo)
    if c is None or c.status not in _OPEN_PR or c.number != event.number:
        return _same(state)
    return _consumer_step(
        state, event.repo, f"PR #{event.number} closed unmerged", event.at, status="closed"
    )


def _post_merge(state: RolloutState, event: PostMergeChecks) -> Step:
    c = state.consumer(event.repo)
    if c is None or c.merge_commit != event.sha or c.status not in ("merged", "green"):
        return _same(state)
    if event.passed:
        if c.status == "green":
            return _same(state)
        return _consumer_step(
            state,
            event.repo,
            "green after merge",
            event.at,
            status="green",
            green_at=event.at,
            post_checks=True,
        )
    assert c.number is not None
    new = state.with_consumer(event.repo, status="reverted", post_checks=False)
    failing = ", ".join(event.failing) or "checks"
    step = Step(
        new,
        (RevertEvolution(event.repo, c.number, event.sha, event.failing),),
        f"{event.repo}: {failing} failed after merge; reverting",
    )
    if new.status in ACTIVE or new.status == "paused":
        return _halt(step, f"{event.repo}: {failing} failed on the default branch after the merge")
    return step


# --- commands ---------------------------------------------------------------------------------


def _why_not(state: RolloutState) -> str:
    return f"the rollout of {state.template} {state.version} is {state.status}"


def _pause(state: RolloutState, event: Pause) -> Step:
    if event.repo is not None:
        c = state.consumer(event.repo)
        if c is None:
            return _refuse(state, f"{event.repo} is not part of this rollout")
        if c.paused:
            return _same(state)
        return Step(state.with_consumer(event.repo, paused=True), (), f"{event.repo}: paused")
    if state.status == "paused":
        return _same(state)
    if state.status not in ACTIVE and state.status not in ("planned", "queued", "preflight"):
        return _refuse(state, _why_not(state))
    new = replace(state, status="paused", paused_from=state.status)
    return Step(new, (), f"{state.status} -> paused")


def _resume(state: RolloutState, event: Resume) -> Step:
    if event.repo is not None:
        c = state.consumer(event.repo)
        if c is None:
            return _refuse(state, f"{event.repo} is not part of this rollout")
        if not c.paused:
            return _same(state)
        new = state.with_consumer(event.repo, paused=False)
        effects: tuple[Effect, ...] = ()
        opened = state.waves[c.wave].status in ("open", "baking", "passed")
        if c.status == "pending" and opened and state.status in ACTIVE:
            new = new.with_consumer(event.repo, status="opening")
            effects = (OpenPr(event.repo),)
        return _settle(Step(new, effects, f"{event.repo}: resumed"), event.at)
    if state.status == "paused":
        back = state.paused_from or "wave-open"
        new = replace(state, status=back, paused_from=None)
        return _settle(Step(new, (), f"paused -> {back}"), event.at)
    if state.status == "halted":
        index = state.current
        new = replace(state, status="wave-open", reason=None).with_wave(
            index, status="open", accepted_failures=_failures(state, index), bake_until=None
        )
        step = Step(new, (), "halted -> resumed")
        # Consumers of the wave that never opened (paused then) open now.
        return _settle(_reopen_pending(step, index), event.at)
    if state.status == "preflight-failed":
        step = Step(state, (), "preflight-failed -> started anyway")
        return _settle(_open_wave(step, 0, event.at), event.at)
    return _refuse(state, _why_not(state) + "; there is nothing to resume")


def _reopen_pending(step: Step, index: int) -> Step:
    state = step.state
    effects = list(step.effects)
    for c in state.in_wave(index):
        if c.status == "pending" and not c.paused:
            state = state.with_consumer(c.repo, status="opening")
            effects.append(OpenPr(c.repo))
    return Step(state, tuple(effects), step.change)


def _promote(state: RolloutState, event: Promote) -> Step:
    if state.status not in ACTIVE:
        return _refuse(state, _why_not(state) + "; only a running rollout can be promoted")
    index = state.current
    step = Step(
        state.with_wave(index, status="passed"), (), f"wave {state.waves[index].number} promoted"
    )
    if not event.full:
        return _settle(_open_wave(step, index + 1, event.at), event.at)
    for later in range(index + 1, len(state.waves)):
        step = _open_wave(step, later, event.at)
        if later < len(state.waves) - 1:
            step = Step(step.state.with_wave(later, status="passed"), step.effects, step.change)
    if index == len(state.waves) - 1:
        step = _open_wave(step, index + 1, event.at)
    return _settle(step, event.at)


def _rollback(state: RolloutState) -> Step:
    if state.status in ("rolled-back", "superseded", "planned", "queued"):
        return _refuse(state, _why_not(state) + "; there is nothing to roll back")
    effects: list[Effect] = []
    new = state
    for c in state.consumers:
        if c.status in ("merged", "green"):
            assert c.number is not None and c.merge_commit is not None
            effects.append(RevertEvolution(c.repo, c.number, c.merge_commit))
            new = new.with_consumer(c.repo, status="reverted")
        elif c.status in _OPEN_PR:
            assert c.number is not None
            effects.append(ClosePr(c.repo, c.number, "the rollout was rolled back"))
            new = new.with_consumer(c.repo, status="closed")
    new = replace(new, status="rolled-back", reason="rolled back by command", paused_from=None)
    return Step(new, tuple(effects), f"{state.status} -> rolled-back ({len(effects)} consumers)")


def _skip(state: RolloutState, event: Skip) -> Step:
    c = state.consumer(event.repo)
    if c is None:
        return _refuse(state, f"{event.repo} is not part of this rollout")
    if c.status == "skipped":
        return _same(state)
    if c.status in ("merged", "green", "reverted"):
        return _refuse(state, f"{event.repo} already merged {state.version}; skip cannot undo it")
    effects: tuple[Effect, ...] = ()
    if c.status in _OPEN_PR and c.number is not None:
        effects = (ClosePr(c.repo, c.number, f"{state.version} skipped for this repository"),)
    step = Step(
        state.with_consumer(event.repo, status="skipped"), effects, f"{event.repo}: skipped"
    )
    return _settle(step, event.at)


def _retry(state: RolloutState, event: Retry) -> Step:
    c = state.consumer(event.repo)
    if c is None:
        return _refuse(state, f"{event.repo} is not part of this rollout")
    if state.status not in ACTIVE:
        return _refuse(state, _why_not(state) + "; resume it first")
    if c.wave > state.current:
        return _refuse(state, f"{event.repo} is in a wave that has not opened yet")
    if c.paused:
        return _refuse(state, f"{event.repo} is paused; `/evobot resume` first")
    if c.status not in ("closed", "blocked", "checks-failed"):
        return _refuse(
            state, f"{event.repo} is {c.status}; retry is for a closed, blocked or failing PR"
        )
    new = state.with_consumer(event.repo, status="opening", reason=None)
    return _settle(Step(new, (OpenPr(event.repo),), f"{event.repo}: retried"), event.at)
