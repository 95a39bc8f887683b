"""Quiet onboarding: a consumer discovered (an installation created, repositories added) while
its template already has releases gets a ``rollout.onboard`` job — run between the jobs of the
newest version's rollout — which opens one PR to that version or none, by the template's
``rollout.yml`` ``onboarding`` (`bot.pipeline.onboarding`). Never one PR per past version."""

from __future__ import annotations

from collections.abc import Iterable

from bot.pipeline.onboarding import onboard_consumer
from bot.rollout.state import rollout_id
from bot.service.context import HandlerContext
from bot.service.jobs import JobContext, JobRouter
from bot.service.rollouts import ONBOARD
from bot.store import Job

__all__ = ["jobs", "queue_onboarding"]

jobs = JobRouter()


def queue_onboarding(context: HandlerContext, repos: Iterable[str]) -> list[str]:
    """A ``rollout.onboard`` job for each of ``repos`` behind its template's newest version
    (once per repository and version); the repositories queued."""
    runtime = context.rollouts
    if runtime is None:
        return []
    queued: list[str] = []
    for repo in repos:
        consumer = context.store.consumer(repo)
        if consumer is None:
            continue
        template = context.store.template(consumer.template)
        version = template.latest_version if template else None
        if version is None or version == consumer.current_version:
            continue
        runtime.enqueue(
            context.store,
            ONBOARD,
            rollout_id(consumer.template, version),
            {"repo": repo, "template": consumer.template, "version": version},
            dedupe=repo,
        )
        queued.append(repo)
    return queued


@jobs.register(ONBOARD)
def onboard(job: Job, context: JobContext) -> str:
    repo = str(job.payload["repo"])
    template, version = str(job.payload["template"]), str(job.payload["version"])
    runtime, store = context.rollouts, context.store
    policy = runtime.policy(context.forge, template, version)
    ctx = runtime.context(context.forge, store, policy=policy)
    outcome = onboard_consumer(ctx, repo, template=template, version=version, cause=f"job:{job.id}")
    if outcome.action == "deferred" and outcome.retry_at is not None:
        runtime.enqueue(
            store,
            ONBOARD,
            rollout_id(template, version),
            dict(job.payload),
            dedupe=f"{repo}@{outcome.retry_at:.3f}",
            run_after=outcome.retry_at,
        )
    number = f" #{outcome.number}" if outcome.number is not None else ""
    return f"onboarding {repo} to {version}: {outcome.action}{number} ({outcome.reason})"
