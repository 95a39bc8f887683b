"""Rollout progress: a rollout's evolution PR opened, merged, closed, or its checks finished —
on its head before the merge, on its merge commit on the default branch after — becomes a
``rollout.observe`` job, which reads the PR and the commit's checks back from GitHub and
applies what it sees (`PrOpened`, `PrChecks`, `PrMerged`, `PrClosed`, `PostMergeChecks`)
with the delivery id as the event key; green checks on a consumer that opts in to auto-merge
merge the PR (`bot.pipeline.automerge`). Reading back, not trusting the payload, makes the order
and repetition of deliveries irrelevant. Timers (``rollout.tick``), deferred PRs
(``rollout.open-pr``) and ``rollout.reconcile`` run here too.
"""

from __future__ import annotations

from bot.forge.port import PullRequest
from bot.forge.webhook import WebhookEvent
from bot.pipeline.automerge import auto_merge_pr
from bot.pipeline.rollout import AdvanceResult, RolloutContext, advance, carry_out, reconcile
from bot.rollout import rollout_id
from bot.rollout.events import (
    Event,
    OpenPr,
    PostMergeChecks,
    PrChecks,
    PrClosed,
    PrMerged,
    PrOpened,
    Tick,
)
from bot.rollout.state import TERMINAL, RolloutState
from bot.service.context import HandlerContext
from bot.service.handlers.checks import event_sha
from bot.service.handlers.pulls import EVOLUTION_PREFIX, REVERT_PREFIX
from bot.service.jobs import JobContext, JobRouter
from bot.service.rollouts import OBSERVE, OPEN_PR, RECONCILE, TICK, RolloutRuntime
from bot.service.router import Router
from bot.store import Job, Store

__all__ = ["jobs", "observe_pr", "router"]

router = Router()
jobs = JobRouter()

# Consumers whose PR a reconcile reads back, in case a delivery was never received.
_WATCHED = ("opening", "open", "checks-failed", "merged")


def _rollout_of_branch(store: Store, repo: str, branch: str) -> str | None:
    """The stored rollout an evolution branch ``evobot/<template>/<version>`` belongs to."""
    if not branch.startswith(EVOLUTION_PREFIX) or branch.startswith(REVERT_PREFIX):
        return None
    consumer = store.consumer(repo)
    if consumer is None:
        return None
    key = rollout_id(consumer.template, branch.rsplit("/", 1)[-1])
    return key if store.rollout(key) is not None else None


def _queue_observe(
    runtime: RolloutRuntime, store: Store, key: str, repo: str, number: int, cause: str
) -> None:
    runtime.enqueue(
        store,
        OBSERVE,
        key,
        {"repo": repo, "number": number, "cause": cause},
        dedupe=f"{cause}:{repo}#{number}",
    )


@router.register("pull_request", "opened", "reopened", "closed", "synchronize")
def rollout_pull_changed(event: WebhookEvent, context: HandlerContext) -> str | None:
    runtime, repo = context.rollouts, event.repository
    pull = event.payload.get("pull_request") or {}
    if runtime is None or repo is None or not isinstance(pull, dict) or "number" not in pull:
        return None
    head = pull.get("head") or {}
    head_repo = str((head.get("repo") or {}).get("full_name") or repo)
    if head_repo.lower() != repo.lower():
        return None  # a fork's branch is never the bot's
    key = _rollout_of_branch(context.store, repo, str(head.get("ref") or ""))
    if key is None:
        return None
    _queue_observe(runtime, context.store, key, repo, int(pull["number"]), context.cause)
    return f"rollout {key}: {repo}#{pull['number']} to observe"


@router.register("check_suite", "completed")
@router.register("check_run", "completed")
@router.register("status")
def rollout_checks_changed(event: WebhookEvent, context: HandlerContext) -> str | None:
    runtime, repo, sha = context.rollouts, event.repository, event_sha(event)
    if runtime is None or repo is None or sha is None:
        return None
    queued: list[str] = []
    for pr in context.store.evolution_prs(repo=repo):
        if sha not in (pr.head_sha, pr.merge_commit):
            continue
        key = _rollout_of_branch(context.store, repo, pr.branch)
        if key is not None:
            _queue_observe(runtime, context.store, key, repo, pr.number, context.cause)
            queued.append(f"{repo}#{pr.number}")
    return f"rollout checks of {', '.join(queued)} to observe" if queued else None


# --- jobs ---------------------------------------------------------------------------------------


def _seen(
    ctx: RolloutContext, state: RolloutState, repo: str, number: int
) -> tuple[list[Event], PullRequest | None]:
    """What GitHub says of ``repo``#``number`` now, as rollout events (stale ones included:
    the state machine ignores what it already knows), and the PR as read."""
    consumer = state.consumer(repo)
    if consumer is None or state.status in TERMINAL:
        return [], None
    forge, now = ctx.forge, ctx.clock.now()
    pull = forge.get_pull(repo, number)
    if not pull.head_ref.startswith(EVOLUTION_PREFIX) or not pull.head_ref.endswith(
        f"/{state.version}"
    ):
        return [], None
    events: list[Event] = []
    if consumer.status == "opening" and pull.state == "open":
        # The job that opened it died before recording it: the PR is the proof.
        events.append(PrOpened(repo=repo, number=number, at=now))
    if pull.merged and pull.merge_commit_sha:
        events.append(
            PrMerged(repo=repo, number=number, merge_commit=pull.merge_commit_sha, at=now)
        )
        merged = forge.commit_state(repo, pull.merge_commit_sha, branch=pull.base_ref)
        # Nothing reported on the merge commit yet: if the PR's head had checks, CI has not
        # started on the merge — wait for it rather than call an empty result green.
        unreported = merged.state != "pending" and not merged.checks and not merged.required
        if unreported and forge.commit_state(repo, pull.head_sha, branch=pull.base_ref).checks:
            return events, pull
        if merged.state != "pending":
            events.append(
                PostMergeChecks(
                    repo=repo,
                    sha=pull.merge_commit_sha,
                    passed=merged.state == "success",
                    failing=tuple(c.name for c in merged.failing) or tuple(merged.missing),
                    at=now,
                )
            )
    elif pull.state == "closed":
        events.append(PrClosed(repo=repo, number=number, at=now))
    else:
        checks = forge.commit_state(repo, pull.head_sha, branch=pull.base_ref)
        if checks.state != "pending":
            events.append(
                PrChecks(repo=repo, number=number, passed=checks.state == "success", at=now)
            )
    return events, pull


def observe_pr(
    ctx: RolloutContext, key: str, repo: str, number: int, *, cause: str, once: bool = True
) -> AdvanceResult:
    """Apply what GitHub says of one of the rollout's PRs; with ``once``, each event once per
    ``cause`` (a delivery: its redelivery or a retried job applies nothing again)."""
    result = AdvanceResult(key)
    stored = ctx.store.rollout(key)
    if stored is None:
        return result
    result.state = stored.state
    events, pull = _seen(ctx, stored.state, repo, number)
    _apply_seen(ctx, result, key, repo, number, events, cause=cause, once=once)
    green = any(isinstance(e, PrChecks) and e.passed for e in events)
    if green and pull is not None and result.state is not None:
        merged = auto_merge_pr(
            ctx.forge, ctx.store, result.state, pull, repo=repo, checks_passed=True, cause=cause
        )
        if merged.merged:
            # Apply the merge now rather than wait for its webhook (which then changes nothing).
            after, _ = _seen(ctx, result.state, repo, number)
            _apply_seen(ctx, result, key, repo, number, after, cause=cause, once=once)
    return result


def _apply_seen(
    ctx: RolloutContext,
    result: AdvanceResult,
    key: str,
    repo: str,
    number: int,
    events: list[Event],
    *,
    cause: str,
    once: bool,
) -> None:
    for event in events:
        event_key = f"{cause}:{repo}#{number}:{type(event).__name__}" if once else None
        _merge(result, advance(ctx, key, event, cause=cause, event_key=event_key))


def _merge(into: AdvanceResult, step: AdvanceResult) -> None:
    into.state = step.state or into.state
    into.changes.extend(step.changes)
    into.wakes.extend(step.wakes)
    into.deferred.extend(step.deferred)
    into.started.extend(step.started)


def _outcome(result: AdvanceResult, scheduled: list[str]) -> str:
    status = result.state.status if result.state else "gone"
    changed = f", {len(result.changes)} change(s)" if result.changes else ""
    timers = f", {len(scheduled)} scheduled" if scheduled else ""
    return f"{result.key} {status}{changed}{timers}"


@jobs.register(OBSERVE)
def observe(job: Job, context: JobContext) -> str:
    key = str(job.payload["rollout"])
    ctx = context.rollouts.context_for(context.forge, context.store, key)
    result = observe_pr(
        ctx,
        key,
        str(job.payload["repo"]),
        int(job.payload["number"]),
        cause=str(job.payload.get("cause") or f"job:{job.id}"),
    )
    return _outcome(result, context.rollouts.schedule(context.store, result))


@jobs.register(TICK)
def tick(job: Job, context: JobContext) -> str:
    key = str(job.payload["rollout"])
    ctx = context.rollouts.context_for(context.forge, context.store, key)
    result = advance(ctx, key, Tick(at=ctx.clock.now()), cause="timer")
    return _outcome(result, context.rollouts.schedule(context.store, result))


@jobs.register(OPEN_PR)
def open_deferred(job: Job, context: JobContext) -> str:
    key = str(job.payload["rollout"])
    ctx = context.rollouts.context_for(context.forge, context.store, key)
    result = carry_out(ctx, key, OpenPr(str(job.payload["repo"])), cause="timer")
    return _outcome(result, context.rollouts.schedule(context.store, result))


@jobs.register(RECONCILE)
def reconcile_rollout(job: Job, context: JobContext) -> str:
    """Finish what a crash left undone, then read back every PR still in flight (a delivery
    GitHub never sent, or one the healer has not asked for yet, changes nothing then)."""
    key = str(job.payload["rollout"])
    store = context.store
    if store.rollout(key) is None:
        return f"{key}: not stored"
    ctx = context.rollouts.context_for(context.forge, store, key)
    result = reconcile(ctx, key, cause="reconcile")
    stored = store.rollout(key)
    if stored is not None:
        for consumer in stored.state.consumers:
            if consumer.status in _WATCHED and consumer.number is not None:
                _merge(
                    result,
                    observe_pr(
                        ctx, key, consumer.repo, consumer.number, cause="reconcile", once=False
                    ),
                )
    return _outcome(result, context.rollouts.schedule(store, result))
