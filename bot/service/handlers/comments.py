"""Issue and PR comments: every one is stored with its delivery; a newly created comment holding
an ``/evobot`` command from a person becomes a ``rollout.command`` job — keyed by the rollout
the PR or issue belongs to, so it runs between that rollout's other jobs — which checks the
author's permission, acts, replies once and writes the audit log (`handle_command`)."""

from __future__ import annotations

from typing import Any

from bot.forge.webhook import WebhookEvent
from bot.pipeline.commands import CommandComment, handle_command, rollout_of
from bot.rollout.commands import is_command_comment, parse_command
from bot.service.context import HandlerContext
from bot.service.jobs import JobContext, JobRouter
from bot.service.rollouts import COMMAND
from bot.service.router import Router
from bot.store import Job

__all__ = ["COMMAND_PREFIX", "jobs", "router"]

router = Router()
jobs = JobRouter()
COMMAND_PREFIX = "/evobot"
NO_ROLLOUT = "-"  # the job key's rollout part for a comment outside any rollout


def _comment(event: WebhookEvent) -> CommandComment | None:
    payload = event.payload
    comment = payload.get("comment")
    issue = payload.get("issue")
    if event.repository is None or not isinstance(comment, dict) or not isinstance(issue, dict):
        return None
    user = comment.get("user") or {}
    sender = payload.get("sender") or {}
    return CommandComment(
        repo=event.repository,
        number=int(issue.get("number") or 0),
        comment_id=int(comment.get("id") or 0),
        author=str(user.get("login") or event.sender or ""),
        body=str(comment.get("body") or ""),
        action=event.action or "",
        sender_type=str(user.get("type") or sender.get("type") or "User"),
    )


@router.register("issue_comment", "created", "edited")
def comment_stored(event: WebhookEvent, context: HandlerContext) -> str | None:
    found = _comment(event)
    if found is None or parse_command(found.body) is None:
        return None
    if not is_command_comment(found.action, found.author, found.sender_type):
        return None  # edits, deletions and bots (the bot's own answers quote commands)
    runtime = context.rollouts
    if runtime is None:
        context.log.info("command.stored", sender=event.sender)
        return "command stored"
    stored = rollout_of(runtime.context(context.forge, context.store), found.repo, found.number)
    rollout = stored.key if stored is not None else NO_ROLLOUT
    payload: dict[str, Any] = {
        "repo": found.repo,
        "number": found.number,
        "comment_id": found.comment_id,
        "author": found.author,
        "body": found.body,
        "action": found.action,
        "sender_type": found.sender_type,
    }
    runtime.enqueue(
        context.store,
        COMMAND,
        rollout,
        payload,
        dedupe=str(found.comment_id),
        key=None if stored is not None else f"repo:{found.repo}",
    )
    return f"command of @{found.author} queued"


@jobs.register(COMMAND)
def run_command(job: Job, context: JobContext) -> str:
    p = job.payload
    rollout = str(p["rollout"])
    runtime = context.rollouts
    ctx = (
        runtime.context(context.forge, context.store)
        if rollout == NO_ROLLOUT
        else runtime.context_for(context.forge, context.store, rollout)
    )
    comment = CommandComment(
        repo=str(p["repo"]),
        number=int(p["number"]),
        comment_id=int(p["comment_id"]),
        author=str(p["author"]),
        body=str(p["body"]),
        action=str(p["action"]),
        sender_type=str(p["sender_type"]),
    )
    result = handle_command(ctx, comment, permissions=runtime.permissions)
    runtime.schedule(context.store, result.rollout)
    if not result.handled:
        return "not a command"
    return f"{result.verb} {'done' if result.allowed else 'refused'}"
