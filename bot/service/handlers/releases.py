"""Releases: a tag pushed to a template repository that matches the template's policy (its
``rollout.yml`` at that tag) and is the template's newest version starts a rollout to every
stored consumer of the template — through a ``rollout.begin`` job, which runs the preflight and
opens the canary wave. A begin job that runs again (a crash, a retry) reconciles instead."""

from __future__ import annotations

from bot.errors import EvobotError
from bot.forge.webhook import WebhookEvent
from bot.pipeline.rollout import begin_rollout, reconcile
from bot.rollout import Member, is_release_tag, plan_rollout, rollout_id
from bot.rollout.plan import Ring
from bot.service.context import HandlerContext
from bot.service.handlers.templates import templates_in
from bot.service.jobs import JobContext, JobRouter
from bot.service.rollouts import BEGIN, split_template
from bot.service.router import Router
from bot.store import Job

__all__ = ["jobs", "router", "stored_ring"]

router = Router()
jobs = JobRouter()


def stored_ring(ring: str | None) -> Ring:
    """The store keeps a ring as text: ``canary`` or a wave number."""
    if ring == "canary":
        return "canary"
    if ring is not None and ring.isdigit():
        return int(ring)
    return None


@router.register("push")
def release_tagged(event: WebhookEvent, context: HandlerContext) -> str | None:
    payload = event.payload
    ref = str(payload.get("ref") or "")
    runtime = context.rollouts
    if (
        runtime is None
        or event.repository is None
        or payload.get("deleted")
        or not ref.startswith("refs/tags/")
    ):
        return None
    tag = ref.removeprefix("refs/tags/")
    started: list[str] = []
    for name in templates_in(context.store, event.repository):
        template = context.store.template(name)
        if template is None or template.latest_version != tag:
            continue  # an older tag delivered late: its rollout would supersede a newer one
        try:
            policy = runtime.policy(context.forge, name, tag)
        except EvobotError as exc:
            context.store.append_audit(
                f"template:{name}", f"{tag} not rolled out: {exc.message}", context.cause
            )
            continue
        if not is_release_tag(tag, policy):
            continue
        key = rollout_id(name, tag)
        runtime.enqueue(
            context.store,
            BEGIN,
            key,
            {
                "template": name,
                "version": tag,
                "tag_sha": str(payload.get("after") or "") or None,
                "cause": context.cause,
            },
            dedupe="begin",
        )
        started.append(key)
    return f"rollout of {', '.join(started)} queued" if started else None


@jobs.register(BEGIN)
def begin(job: Job, context: JobContext) -> str:
    key = str(job.payload["rollout"])
    store, runtime = context.store, context.rollouts
    if store.rollout(key) is not None:
        # Begun before (a crash or a retry after the rollout was stored): finish its effects.
        ctx = runtime.context_for(context.forge, store, key)
        result = reconcile(ctx, key, cause="reconcile")
        runtime.schedule(store, result)
        return f"{key} reconciled"
    name, version = str(job.payload["template"]), str(job.payload["version"])
    members = [
        Member(c.repo, stored_ring(c.ring), c.paused) for c in store.consumers(template=name)
    ]
    if not members:
        return f"{key}: no consumers"
    policy = runtime.policy(context.forge, name, version)
    ctx = runtime.context(context.forge, store, policy=policy)
    template_repo, _subdir = split_template(name)
    tag_sha = job.payload.get("tag_sha")
    result = begin_rollout(
        ctx,
        plan_rollout(name, version, members, policy),
        template_repo=template_repo,
        tag_sha=str(tag_sha) if tag_sha else None,
        cause=str(job.payload.get("cause") or f"job:{job.id}"),
    )
    runtime.schedule(store, result)
    status = result.state.status if result.state else "unknown"
    return f"{key} {status}"
