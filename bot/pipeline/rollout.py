"""Rollout use cases: create a rollout, apply an event, carry out the effects it asks for.

The service's job handlers call four functions (docs/rollouts.md, "Entry points"):

- `begin_rollout(ctx, plan, ...)` when a release tag is pushed: stores the rollout, supersedes
  or queues behind a running one (policy), and starts it (preflight, then the canary wave);
- `advance(ctx, key, event, cause=..., event_key=...)` for every webhook, timer or command
  event: loads the rollout, applies `bot.rollout.transition`, persists the step with its cause
  (once per ``event_key``), carries out the effects and feeds their outcomes back as events;
- `carry_out(ctx, key, OpenPr(repo))` for a PR the flood caps deferred, when its time comes;
- `reconcile(ctx, key)` at start and now and then: re-runs what a crash left undone.

`advance` returns what the service must schedule: `Wake` times (a `Tick` job at each) and
deferred PR openings (an `OpenPr` job at each ``retry_at``). Nothing here sleeps or loops.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import structlog

from bot.clock import Clock
from bot.errors import EvobotError, ForgeError
from bot.forge.port import Forge
from bot.pipeline.dashboard_issue import refresh_dashboards
from bot.pipeline.evolve import EvolvePrOptions, evolve_pr
from bot.pipeline.fetch import TemplateFetcher
from bot.pipeline.markers import comment_marker, has_marker
from bot.pipeline.preflight import PreflightOptions, PreflightReport, preflight
from bot.pipeline.revert import RevertPrOptions, revert_pr
from bot.rollout import Plan, RolloutPolicy, RolloutState, new_rollout, transition
from bot.rollout.dashboard_issue import dashboards_changed
from bot.rollout.events import (
    ClosePr,
    Effect,
    Event,
    NoticeHalt,
    OpenPr,
    PrBlocked,
    PreflightFinished,
    PrNoChange,
    PrOpened,
    ReportPreflight,
    RevertEvolution,
    RevertOpened,
    RunPreflight,
    Start,
    Supersede,
    Wake,
)
from bot.rollout.flood import Admission, admit_pr
from bot.rollout.state import TERMINAL
from bot.store import RolloutConflictError, Store, StoredRollout, StoreError

__all__ = [
    "PREFLIGHT_CONTEXT",
    "AdvanceResult",
    "Deferred",
    "RolloutContext",
    "advance",
    "begin_rollout",
    "carry_out",
    "comment_once",
    "commit_comment_once",
    "event_detail",
    "flood_admission",
    "preflight_entity",
    "reconcile",
]

log = structlog.get_logger(__name__)

PREFLIGHT_CONTEXT = "evobot/preflight"
_CONFLICT_RETRIES = 3


@dataclass(frozen=True)
class RolloutContext:
    """What the rollout use cases work with: the ports, the template's policy and the options
    `evolve_pr`, `revert_pr` and `preflight` take."""

    forge: Forge
    store: Store
    clock: Clock
    templates: TemplateFetcher
    policy: RolloutPolicy = field(default_factory=RolloutPolicy)
    evolve: EvolvePrOptions = field(default_factory=EvolvePrOptions)
    revert: RevertPrOptions = field(default_factory=RevertPrOptions)
    preflight: PreflightOptions = field(default_factory=PreflightOptions)
    progress: Callable[[str], None] | None = None


@dataclass(frozen=True)
class Deferred:
    """A PR the flood caps held back: run `carry_out(ctx, key, OpenPr(repo))` at ``retry_at``."""

    repo: str
    retry_at: float
    reason: str


@dataclass
class AdvanceResult:
    """What one `advance` did: the rollout after it, each change made (in order), refusals
    (for a command's reply), and what the caller must schedule."""

    key: str
    state: RolloutState | None = None
    changes: list[str] = field(default_factory=list)
    refused: str | None = None
    duplicate: bool = False
    wakes: list[float] = field(default_factory=list)
    deferred: list[Deferred] = field(default_factory=list)
    preflight: PreflightReport | None = None
    started: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "rollout": self.key,
            "status": self.state.status if self.state else None,
            "changes": self.changes,
            "refused": self.refused,
            "duplicate": self.duplicate,
            "wakes": self.wakes,
            "deferred": [{"repo": d.repo, "retry_at": d.retry_at} for d in self.deferred],
            "started": self.started,
        }


def preflight_entity(key: str) -> str:
    """The audit log entity under which each preflight report of rollout ``key`` is stored, as
    the JSON of `PreflightReport.to_json` (newest last)."""
    return f"preflight:{key}"


def event_detail(event: Event) -> dict[str, Any]:
    return dict(vars(event))


# --- starting ---------------------------------------------------------------------------------


def begin_rollout(
    ctx: RolloutContext,
    plan: Plan,
    *,
    template_repo: str | None = None,
    tag_sha: str | None = None,
    release_issue: int | None = None,
    cause: str,
) -> AdvanceResult:
    """Store the rollout of ``plan`` and start it, or queue it behind a running rollout of the
    same template (``on_newer_version: queue``); by default a running one is superseded."""
    store = ctx.store
    key = f"{plan.template}@{plan.version}"
    existing = store.rollout(key)
    if existing is not None:
        return AdvanceResult(key, existing.state, duplicate=True)
    running = [
        r
        for r in store.rollouts(template=plan.template)
        if r.state.status not in TERMINAL and r.key != key
    ]
    queue = ctx.policy.on_newer_version == "queue" and bool(running)
    state = new_rollout(
        plan,
        bake_seconds=ctx.policy.bake_seconds,
        status="queued" if queue else "planned",
        template_repo=template_repo,
        tag_sha=tag_sha,
        release_issue=release_issue,
    )
    store.create_rollout(state, cause=cause)
    if queue:
        result = AdvanceResult(key, state, changes=[f"queued behind {running[0].key}"])
    else:
        for other in running:
            advance(
                ctx, other.key, Supersede(by_version=plan.version, at=ctx.clock.now()), cause=cause
            )
        result = advance(ctx, key, Start(at=ctx.clock.now()), cause=cause, event_key=f"start:{key}")
    # Every consumer has a new pending evolution (advance refreshed those that moved on).
    refresh_dashboards(ctx.forge, store, [c.repo for c in state.consumers])
    return result


# --- applying events --------------------------------------------------------------------------


def _load(store: Store, key: str) -> StoredRollout:
    stored = store.rollout(key)
    if stored is None:
        raise StoreError(f"{store.url}: no rollout {key} is stored")
    return stored


def _apply(
    ctx: RolloutContext, key: str, event: Event, cause: str, event_key: str | None
) -> tuple[RolloutState, tuple[Effect, ...], str | None, str | None, bool]:
    """Transition and persist, retrying on a concurrent writer; (state, effects, change,
    refused, duplicate)."""
    for attempt in range(_CONFLICT_RETRIES):
        stored = _load(ctx.store, key)
        step = transition(stored.state, event)
        if step.change is None:
            return stored.state, (), None, step.refused, False
        try:
            recorded = ctx.store.record_transition(
                key,
                revision=stored.revision,
                state=step.state,
                event=type(event).__name__,
                detail=event_detail(event),
                change=step.change,
                cause=cause,
                event_key=event_key,
            )
        except RolloutConflictError:
            if attempt == _CONFLICT_RETRIES - 1:
                raise
            continue
        if not recorded:
            return stored.state, (), None, None, True
        return step.state, step.effects, step.change, None, False
    raise AssertionError("unreachable")  # pragma: no cover


def advance(
    ctx: RolloutContext,
    key: str,
    event: Event,
    *,
    cause: str,
    event_key: str | None = None,
) -> AdvanceResult:
    """Apply ``event`` to rollout ``key`` and carry out every effect it leads to.

    ``cause`` (``delivery:<id>``, ``command:<text>``, ``timer``, ``cli:<command>``) is stored
    with each transition; ``event_key`` makes the event count once however often it comes.
    The outcomes of effects are applied as events in turn (cause ``effect:<name>``).
    """
    result = AdvanceResult(key)
    pending: deque[tuple[Event, str, str | None]] = deque([(event, cause, event_key)])
    first = True
    stored_before = ctx.store.rollout(key)
    before = stored_before.state if stored_before is not None else None
    while pending:
        current, why, ekey = pending.popleft()
        state, effects, change, refused, duplicate = _apply(ctx, key, current, why, ekey)
        result.state = state
        if first:
            result.refused, result.duplicate, first = refused, duplicate, False
        if change:
            result.changes.append(change)
        for effect in effects:
            for follow in _carry(ctx, state, effect, result):
                pending.append((follow, f"effect:{type(effect).__name__}", None))
    if result.state is not None and result.state.status in TERMINAL:
        _start_next_queued(ctx, result)
    if result.changes and result.state is not None:
        refresh_dashboards(ctx.forge, ctx.store, dashboards_changed(before, result.state))
    return result


def carry_out(ctx: RolloutContext, key: str, effect: OpenPr, *, cause: str) -> AdvanceResult:
    """Carry out a deferred `OpenPr` now (or defer it again) and apply its outcome."""
    result = AdvanceResult(key)
    state = _load(ctx.store, key).state
    result.state = state
    consumer = state.consumer(effect.repo)
    if consumer is None or consumer.status != "opening" or state.status in TERMINAL:
        return result
    for follow in _carry(ctx, state, effect, result):
        sub = advance(ctx, key, follow, cause=cause)
        result.state = sub.state
        result.changes.extend(sub.changes)
        result.wakes.extend(sub.wakes)
        result.deferred.extend(sub.deferred)
    return result


def reconcile(ctx: RolloutContext, key: str, *, cause: str) -> AdvanceResult:
    """Carry out again what a crash may have left undone after a transition was stored.

    Every effect is idempotent (`evolve_pr` finds its PR by branch, `revert_pr` its revert PR,
    comments their markers), so re-running them is safe: a preflight still under way, each
    consumer still ``opening``, each ``reverted`` consumer without its revert PR, and the
    current wave's bake timer. The service runs it at start and now and then.
    """
    result = AdvanceResult(key)
    state = _load(ctx.store, key).state
    result.state = state
    effects: list[Effect] = []
    if state.status == "preflight":
        effects.append(RunPreflight())
    for c in state.consumers:
        if c.status == "opening" and state.status not in TERMINAL:
            effects.append(OpenPr(c.repo))
        if (
            c.status == "reverted"
            and c.revert_number is None
            and c.number is not None
            and c.merge_commit is not None
        ):
            effects.append(RevertEvolution(c.repo, c.number, c.merge_commit))
    if state.waves and state.status == "wave-baking":
        until = state.waves[state.current].bake_until
        if until is not None:
            effects.append(Wake(until))
    for effect in effects:
        for follow in _carry(ctx, state, effect, result):
            sub = advance(ctx, key, follow, cause=cause)
            result.state = sub.state
            result.changes.extend(sub.changes)
            result.wakes.extend(sub.wakes)
            result.deferred.extend(sub.deferred)
    return result


def _start_next_queued(ctx: RolloutContext, result: AdvanceResult) -> None:
    assert result.state is not None
    queued = ctx.store.rollouts(template=result.state.template, status="queued")
    if queued:
        nxt = queued[0].key
        sub = advance(
            ctx,
            nxt,
            Start(at=ctx.clock.now()),
            cause=f"after:{result.key}",
            event_key=f"start:{nxt}",
        )
        result.started.append(nxt)
        result.wakes.extend(sub.wakes)
        result.deferred.extend(sub.deferred)


# --- effects ----------------------------------------------------------------------------------


def _carry(
    ctx: RolloutContext, state: RolloutState, effect: Effect, result: AdvanceResult
) -> Sequence[Event]:
    now = ctx.clock.now()
    match effect:
        case RunPreflight():
            report = preflight(
                ctx.forge,
                [c.repo for c in state.consumers],
                version=state.version,
                templates=ctx.templates,
                policy=ctx.policy.preflight,
                options=ctx.preflight,
                progress=ctx.progress,
            )
            result.preflight = report
            # Kept for the dashboard (each consumer's predicted churn and conflicts).
            ctx.store.append_audit(
                preflight_entity(state.id),
                json.dumps(report.to_json(), sort_keys=True),
                "effect:RunPreflight",
            )
            return [PreflightFinished(passed=report.passed, summary=report.summary(), at=now)]
        case ReportPreflight():
            _report_preflight(ctx, state, effect, result.preflight)
            return []
        case OpenPr():
            return _open_pr(ctx, state, effect, result)
        case ClosePr():
            _close_pr(ctx, state, effect)
            return []
        case RevertEvolution():
            return _revert(ctx, state, effect)
        case NoticeHalt():
            body = (
                f"The rollout of {state.template} {state.version} is **halted**: "
                f"{effect.reason}.\n\nThis PR stays open; no further wave opens until someone "
                "with write permission on the template repository comments `/evobot resume "
                "--rollout` (or `/evobot rollback`)."
            )
            comment_once(ctx.forge, effect.repo, effect.number, "halt", state.id, body)
            return []
        case Wake():
            result.wakes.append(effect.at)
            return []
    raise TypeError(f"not a rollout effect: {effect!r}")  # pragma: no cover


def comment_once(forge: Forge, repo: str, number: int, kind: str, key: str, body: str) -> bool:
    """Comment ``body`` on ``repo``#``number`` unless a comment with its marker is there."""
    marker = comment_marker(kind, key)
    if any(has_marker(c.body, marker) for c in forge.list_comments(repo, number)):
        return False
    forge.create_comment(repo, number, f"{body}\n\n{marker}")
    return True


def commit_comment_once(forge: Forge, repo: str, sha: str, marker: str, body: str) -> bool:
    """Comment ``body`` on commit ``sha`` unless a comment with ``marker`` is there."""
    if any(has_marker(c.body, marker) for c in forge.list_commit_comments(repo, sha)):
        return False
    forge.create_commit_comment(repo, sha, f"{body}\n\n{marker}")
    return True


def _report_preflight(
    ctx: RolloutContext,
    state: RolloutState,
    effect: ReportPreflight,
    report: PreflightReport | None,
) -> None:
    if state.template_repo is None or state.tag_sha is None:
        return
    ctx.forge.set_commit_status(
        state.template_repo,
        state.tag_sha,
        state="success" if effect.passed else "failure",
        context=PREFLIGHT_CONTEXT,
        description=effect.summary,
    )
    if not effect.passed:
        lines = [f"evobot: the {effect.summary}.", ""]
        if report is not None:
            lines += [
                "| consumer | conflicts | blocking | lines | error |",
                "| --- | --- | --- | --- | --- |",
            ]
            for c in report.consumers:
                lines.append(
                    f"| {c.repo} | {len(c.conflicts)} | {len(c.blocking)} | "
                    f"+{c.lines_added} -{c.lines_removed} | {c.error or ''} |"
                )
            lines.append("")
        if state.release_issue is not None:
            lines.append(
                "No PR was opened. Fix the template and tag a new release, or comment "
                "`/evobot resume --rollout` to start anyway."
            )
            comment_once(
                ctx.forge,
                state.template_repo,
                state.release_issue,
                "preflight",
                state.version,
                "\n".join(lines),
            )
        else:
            # No issue or PR made this release (a tag push): the report goes on the tag's
            # commit, where GitHub shows it beside the failing status.
            lines.append("No PR was opened. Fix the template and tag a new release.")
            commit_comment_once(
                ctx.forge,
                state.template_repo,
                state.tag_sha,
                comment_marker("preflight", state.version),
                "\n".join(lines),
            )


def flood_admission(ctx: RolloutContext, repo: str) -> Admission:
    """Whether one more evolution PR may open on ``repo`` now, under the flood caps of its
    installation (the stored evolution PRs of every consumer of that installation)."""
    store = ctx.store
    installations = {c.repo: c.installation_id for c in store.consumers()}
    installation = installations.get(repo)
    same = [p for p in store.evolution_prs() if installations.get(p.repo) == installation]
    return admit_pr(
        ctx.policy.flood,
        open_prs=sum(1 for p in same if p.state == "open"),
        opened_at=[p.created_at for p in same],
        now=ctx.clock.now(),
    )


def _open_pr(
    ctx: RolloutContext, state: RolloutState, effect: OpenPr, result: AdvanceResult
) -> Sequence[Event]:
    store, now = ctx.store, ctx.clock.now()
    admission = flood_admission(ctx, effect.repo)
    if not admission.allowed:
        assert admission.retry_at is not None and admission.reason is not None
        result.deferred.append(Deferred(effect.repo, admission.retry_at, admission.reason))
        return []
    try:
        opened = evolve_pr(
            ctx.forge,
            effect.repo,
            clock=ctx.clock,
            templates=ctx.templates,
            options=replace(ctx.evolve, vcs_ref=state.version),
        )
    except EvobotError as exc:
        log.warning("rollout.open_failed", repo=effect.repo, error=exc.message)
        return [PrBlocked(repo=effect.repo, reason=exc.message, at=now)]
    if opened.action == "no-change":
        return [PrNoChange(repo=effect.repo, at=now)]
    if opened.action == "blocked" or opened.number is None:
        return [PrBlocked(repo=effect.repo, reason=opened.message, at=now)]
    store.upsert_evolution_pr(
        effect.repo,
        opened.number,
        branch=opened.branch or "",
        state="open",
        template_version=state.version,
        head_sha=opened.commit,
        cause=f"rollout:{state.id}",
    )
    return [PrOpened(repo=effect.repo, number=opened.number, at=now)]


def _close_pr(ctx: RolloutContext, state: RolloutState, effect: ClosePr) -> None:
    pull = ctx.forge.get_pull(effect.repo, effect.number)
    if pull.state != "open":
        return
    comment_once(
        ctx.forge,
        effect.repo,
        effect.number,
        "closed",
        state.id,
        f"Closing: {effect.reason} (rollout of {state.template} {state.version}).",
    )
    ctx.forge.update_pull(effect.repo, effect.number, state="closed")
    ctx.store.upsert_evolution_pr(
        effect.repo,
        effect.number,
        branch=pull.head_ref,
        state="closed",
        template_version=state.version,
        head_sha=pull.head_sha,
        cause=f"rollout:{state.id}",
    )


def _revert(ctx: RolloutContext, state: RolloutState, effect: RevertEvolution) -> Sequence[Event]:
    try:
        reverted = revert_pr(ctx.forge, effect.repo, effect.number, options=ctx.revert)
    except ForgeError as exc:
        log.error("rollout.revert_failed", repo=effect.repo, error=exc.message)
        comment_once(
            ctx.forge,
            effect.repo,
            effect.number,
            "revert-failed",
            state.id,
            f"evobot could not open the revert of this evolution: {exc.message}. "
            f"Revert {effect.merge_commit[:12]} by hand.",
        )
        return []
    failing = ", ".join(f"`{name}`" for name in effect.failing)
    why = (
        f"checks failed on the default branch after this merge ({failing})"
        if effect.failing
        else f"the rollout of {state.template} {state.version} was rolled back"
    )
    if reverted.number is None:
        body = f"evobot: {why}; {reverted.message}, so no revert PR was needed."
    else:
        body = f"evobot: {why}. Revert PR: #{reverted.number}."
        ctx.store.upsert_revert_pr(
            effect.repo,
            reverted.number,
            branch=reverted.branch,
            reverts_commit=effect.merge_commit,
            state="open",
            evolution_pr=effect.number,
            cause=f"rollout:{state.id}",
        )
    comment_once(ctx.forge, effect.repo, effect.number, "reverted", state.id, body)
    if reverted.number is None:
        return []
    return [RevertOpened(repo=effect.repo, number=reverted.number, at=ctx.clock.now())]
