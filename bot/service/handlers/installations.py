"""Installations: remember each one, and discover its consumers (repositories carrying a valid
`.evobot.yml`, read through the forge) when it is created or given more repositories; a
consumer behind its template's newest release is queued for onboarding (one PR or none)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.consumer import parse_consumer_config
from bot.errors import EvobotError
from bot.forge.webhook import WebhookEvent
from bot.redact import redact_url
from bot.service.context import HandlerContext
from bot.service.handlers.onboarding import queue_onboarding
from bot.service.router import Router

__all__ = ["discover_consumers", "router", "template_key"]

router = Router()


def template_key(source: str, subdir: str | None = None) -> str:
    """The stored name of a template: ``OWNER/REPO`` of its git URL (``//subdir`` appended),
    so a push to that repository finds the templates it releases."""
    text = redact_url(source).rstrip("/")
    parts = [p for p in text.replace(":", "/").split("/") if p]
    name = "/".join(parts[-2:]) if len(parts) >= 2 else text
    name = name.removesuffix(".git").lower()
    return f"{name}//{subdir.strip('/')}" if subdir else name


def discover_consumers(
    context: HandlerContext, installation_id: int, repos: Iterable[str]
) -> list[str]:
    """Store every repository of ``repos`` with a valid `.evobot.yml` as a consumer; the names.

    A repository without one is not a consumer; an invalid one is recorded in the audit log
    (with what is wrong) and skipped, never failing the delivery.
    """
    found: list[str] = []
    for repo in repos:
        raw = context.app.consumer_config(repo)
        if raw is None:
            continue
        try:
            config = parse_consumer_config(raw, source=f"{repo}/.evobot.yml")
        except EvobotError as exc:
            context.store.append_audit(f"consumer:{repo}", f"not a consumer: {exc}", context.cause)
            context.log.warning("consumer.invalid_config", repo=repo, error=str(exc))
            continue
        name = template_key(config.template, config.template_subdir)
        existing = context.store.template(name)
        context.store.upsert_template(
            name,
            redact_url(config.template),
            latest_version=existing.latest_version if existing else None,
            cause=context.cause,
        )
        ring = config.rollout.ring
        current = context.store.consumer(repo)
        context.store.upsert_consumer(
            repo,
            template=name,
            installation_id=installation_id,
            current_version=config.version.ref or config.version.commit,
            ring=None if ring is None else str(ring),
            paused=current.paused if current else False,
            cause=context.cause,
        )
        found.append(repo)
    return found


def _account(payload: dict[str, Any]) -> str:
    installation = payload.get("installation") or {}
    return str((installation.get("account") or {}).get("login") or "")


@router.register("installation", "created", "new_permissions_accepted", "unsuspend")
def installation_active(event: WebhookEvent, context: HandlerContext) -> str | None:
    if event.installation_id is None:
        return None
    context.store.upsert_installation(
        event.installation_id, _account(event.payload), suspended=False, cause=context.cause
    )
    repos = context.app.installation_repositories(event.installation_id)
    found = discover_consumers(context, event.installation_id, repos)
    onboarding = _onboarding(context, found)
    return f"{len(found)} consumer(s) of {len(repos)} repositories{onboarding}"


@router.register("installation", "deleted", "suspend")
def installation_inactive(event: WebhookEvent, context: HandlerContext) -> str | None:
    if event.installation_id is None:
        return None
    context.store.upsert_installation(
        event.installation_id, _account(event.payload), suspended=True, cause=context.cause
    )
    context.store.append_audit(
        f"installation:{event.installation_id}", f"App {event.action}", context.cause
    )
    return f"installation {event.action}"


@router.register("installation_repositories", "added")
def repositories_added(event: WebhookEvent, context: HandlerContext) -> str | None:
    if event.installation_id is None:
        return None
    added = [str(r["full_name"]) for r in event.payload.get("repositories_added") or []]
    found = discover_consumers(context, event.installation_id, added)
    onboarding = _onboarding(context, found)
    return f"{len(found)} consumer(s) of {len(added)} added repositories{onboarding}"


def _onboarding(context: HandlerContext, found: list[str]) -> str:
    queued = queue_onboarding(context, found)
    return f"; {len(queued)} to onboard" if queued else ""


@router.register("installation_repositories", "removed")
def repositories_removed(event: WebhookEvent, context: HandlerContext) -> str | None:
    removed = [str(r["full_name"]) for r in event.payload.get("repositories_removed") or []]
    for repo in removed:
        if context.store.consumer(repo) is not None:
            context.store.set_consumer_paused(repo, True, cause=context.cause)
            context.store.append_audit(
                f"consumer:{repo}", "removed from the installation", context.cause
            )
    return f"{len(removed)} repositories removed"
