"""Quiet onboarding: what a consumer discovered after releases were made receives — nothing
until the next rollout (the template's ``rollout.yml`` ``onboarding: none``, the default), or
one evolution PR to the newest version (``one-pr``), never one per past version. The decision is
`bot.rollout.onboarding.decide_onboarding`; the PR goes through the flood caps like a rollout's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from bot.errors import EvobotError
from bot.pipeline.evolve import evolve_pr
from bot.pipeline.rollout import RolloutContext, flood_admission
from bot.rollout.onboarding import decide_onboarding
from bot.rollout.state import rollout_id

__all__ = ["OnboardOutcome", "onboard_consumer"]


@dataclass(frozen=True)
class OnboardOutcome:
    action: Literal["none", "opened", "no-change", "blocked", "deferred"]
    reason: str
    number: int | None = None
    retry_at: float | None = None


def onboard_consumer(
    ctx: RolloutContext, repo: str, *, template: str, version: str, cause: str
) -> OnboardOutcome:
    """Open ``repo``'s one onboarding PR to ``version`` if the policy (``ctx.policy``, the
    template's at ``version``) asks for it and nothing else covers it."""
    store = ctx.store
    consumer = store.consumer(repo)
    if consumer is None:
        return OnboardOutcome("none", f"{repo} is not a stored consumer")
    stored = store.rollout(rollout_id(template, version))
    decision = decide_onboarding(
        ctx.policy,
        current_version=consumer.current_version,
        latest_version=version,
        in_rollout_of_latest=stored is not None and stored.state.consumer(repo) is not None,
        paused=consumer.paused,
    )
    if not decision.open_pr:
        return OnboardOutcome("none", decision.reason)
    admission = flood_admission(ctx, repo)
    if not admission.allowed:
        return OnboardOutcome("deferred", admission.reason or "", retry_at=admission.retry_at)
    try:
        opened = evolve_pr(
            ctx.forge,
            repo,
            clock=ctx.clock,
            templates=ctx.templates,
            options=replace(ctx.evolve, vcs_ref=version),
        )
    except EvobotError as exc:
        store.append_audit(f"consumer:{repo}", f"onboarding blocked: {exc.message}", cause)
        return OnboardOutcome("blocked", exc.message)
    if opened.action == "no-change":
        return OnboardOutcome("no-change", opened.message)
    if opened.action == "blocked" or opened.number is None:
        store.append_audit(f"consumer:{repo}", f"onboarding blocked: {opened.message}", cause)
        return OnboardOutcome("blocked", opened.message)
    store.upsert_evolution_pr(
        repo,
        opened.number,
        branch=opened.branch or "",
        state="open",
        template_version=version,
        head_sha=opened.commit,
        cause=cause,
    )
    store.append_audit(f"consumer:{repo}", f"onboarding PR #{opened.number} to {version}", cause)
    return OnboardOutcome("opened", decision.reason, number=opened.number)
