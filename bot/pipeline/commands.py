"""`handle_command`: one `/evobot <verb>` comment, from parsing to the reply.

Parse (`bot.rollout.commands`) → ignore edits, bots and comments without a command → check the
author's permission through the API (cached briefly) → act: re-evolve the PR (`rebase`,
`recreate`, `retry` outside a rollout), or turn the verb into a rollout event for `advance` →
reply once (a comment carrying a hidden marker keyed by the command's comment id, so a
redelivery never replies twice) → write the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.errors import EvobotError
from bot.pipeline.evolve import evolve_pr
from bot.pipeline.rollout import AdvanceResult, RolloutContext, advance, comment_once
from bot.rollout.commands import (
    HELP_TEXT,
    Command,
    PermissionCache,
    authorize,
    is_command_comment,
    parse_command,
)
from bot.rollout.events import Event, Pause, Promote, Resume, Retry, Rollback, Skip
from bot.rollout.state import RolloutState
from bot.store import StoredRollout

__all__ = ["CommandComment", "CommandResult", "handle_command", "rollout_of"]


@dataclass(frozen=True)
class CommandComment:
    """An ``issue_comment`` as the command handler needs it."""

    repo: str
    number: int
    comment_id: int
    author: str
    body: str
    action: str = "created"
    sender_type: str | None = "User"


@dataclass(frozen=True)
class CommandResult:
    """``handled`` False: not a command for evobot (no reply). Otherwise the verb, whether it
    was allowed, and the reply posted."""

    handled: bool
    verb: str | None = None
    allowed: bool = False
    reply: str | None = None
    rollout: AdvanceResult | None = None


def rollout_of(ctx: RolloutContext, repo: str, number: int) -> StoredRollout | None:
    """The rollout a comment's PR or issue belongs to: an evolution PR's template version, or
    the release issue of a rollout on the template repository."""
    store = ctx.store
    for pr in store.evolution_prs(repo=repo):
        if pr.number == number and pr.template_version:
            consumer = store.consumer(repo)
            if consumer is not None:
                found = store.rollout(f"{consumer.template}@{pr.template_version}")
                if found is not None:
                    return found
    for stored in reversed(store.rollouts()):
        if stored.state.template_repo == repo and stored.state.release_issue == number:
            return stored
    return None


def _permission(ctx: RolloutContext, cache: PermissionCache, repo: str, user: str) -> str:
    cached = cache.get(repo, user)
    if cached is None:
        cached = ctx.forge.get_permission(repo, user)
        cache.put(repo, user, cached)
    return cached


def _status_text(state: RolloutState, repo: str) -> str:
    wave = state.waves[state.current] if state.waves else None
    lines = [
        f"Rollout of {state.template} {state.version}: **{state.status}**"
        + (f" ({state.reason})" if state.reason else ""),
    ]
    if wave is not None:
        lines.append(f"Current wave: {wave.number} ({wave.status}), {len(state.waves)} waves.")
    consumer = state.consumer(repo)
    if consumer is not None:
        pr = f", PR #{consumer.number}" if consumer.number else ""
        paused = ", paused" if consumer.paused else ""
        lines.append(
            f"{repo}: wave {state.waves[consumer.wave].number}, {consumer.status}{pr}{paused}."
        )
    return "\n".join(lines)


def _event(command: Command, repo: str, at: float) -> Event | None:
    whole = "--rollout" in command.flags
    match command.verb:
        case "skip":
            return Skip(repo=repo, at=at)
        case "retry":
            return Retry(repo=repo, at=at)
        case "pause":
            return Pause(repo=None if whole else repo, at=at)
        case "resume":
            return Resume(repo=None if whole else repo, at=at)
        case "promote":
            return Promote(full="--full" in command.flags, at=at)
        case "rollback":
            return Rollback(at=at)
    return None


def _reply(ctx: RolloutContext, comment: CommandComment, text: str) -> str:
    comment_once(ctx.forge, comment.repo, comment.number, "reply", str(comment.comment_id), text)
    return text


def handle_command(
    ctx: RolloutContext, comment: CommandComment, *, permissions: PermissionCache
) -> CommandResult:
    """Act on one comment (see the module docstring); never raises an `EvobotError` for a
    command that cannot be carried out: the reply says why."""
    command = parse_command(comment.body)
    if command is None or not is_command_comment(
        comment.action, comment.author, comment.sender_type
    ):
        return CommandResult(False)
    stored = rollout_of(ctx, comment.repo, comment.number)
    state = stored.state if stored is not None else None
    permission = _permission(ctx, permissions, comment.repo, comment.author)
    template_repo = state.template_repo if state is not None else None
    template_permission = None
    if command.rollout_wide and permission in ("admin", "maintain", "write") and template_repo:
        template_permission = _permission(ctx, permissions, template_repo, comment.author)
    decision = authorize(
        command,
        comment.author,
        repo=comment.repo,
        permission=permission,
        template_repo=template_repo,
        template_permission=template_permission,
    )
    cause = f"command:{comment.comment_id}"
    entity = f"command:{comment.repo}#{comment.number}"
    if not decision.allowed:
        text = _reply(ctx, comment, f"evobot: not carried out: {decision.reason}.")
        ctx.store.append_audit(entity, f"@{comment.author} `{command.text}`: refused", cause)
        return CommandResult(True, command.verb, False, text)
    outcome: AdvanceResult | None = None
    if command.error is not None:
        text = f"evobot: {command.error}. `/evobot help` lists the commands."
    elif command.verb == "help":
        prefix = f"evobot does not know `{command.unknown}`.\n\n" if command.unknown else ""
        text = prefix + HELP_TEXT
    elif command.verb == "status":
        text = (
            _status_text(state, comment.repo)
            if state is not None
            else "evobot: this PR belongs to no rollout evobot knows of."
        )
    elif command.verb in ("rebase", "recreate") or (command.verb == "retry" and state is None):
        text = _evolve_again(ctx, comment.repo, command, state)
    else:
        text, outcome = _rollout_verb(ctx, comment, command, state, cause)
    _reply(ctx, comment, text)
    ctx.store.append_audit(
        entity, f"@{comment.author} `{command.text}`: {text.splitlines()[0][:200]}", cause
    )
    return CommandResult(True, command.verb, True, text, outcome)


def _evolve_again(
    ctx: RolloutContext, repo: str, command: Command, state: RolloutState | None
) -> str:
    options = replace(
        ctx.evolve,
        recreate=command.verb == "recreate",
        vcs_ref=state.version if state is not None else ctx.evolve.vcs_ref,
    )
    try:
        result = evolve_pr(
            ctx.forge, repo, clock=ctx.clock, templates=ctx.templates, options=options
        )
    except EvobotError as exc:
        return f"evobot: `{command.text}` failed: {exc.message}"
    return f"evobot: `{command.text}`: {result.message}."


def _rollout_verb(
    ctx: RolloutContext,
    comment: CommandComment,
    command: Command,
    state: RolloutState | None,
    cause: str,
) -> tuple[str, AdvanceResult | None]:
    """A verb that is a rollout event (skip, retry, pause, resume, promote, rollback)."""
    repo_level = command.verb in ("pause", "resume") and "--rollout" not in command.flags
    stored = ctx.store.consumer(comment.repo) is not None
    if repo_level and stored:  # held for future rollouts too
        ctx.store.set_consumer_paused(comment.repo, command.verb == "pause", cause=cause)
    event = _event(command, comment.repo, ctx.clock.now())
    if state is None or event is None:
        if repo_level and stored:
            return f"evobot: {comment.repo} {command.verb}d for future rollouts.", None
        return f"evobot: `{command.text}`: this PR belongs to no rollout evobot knows of.", None
    outcome = advance(
        ctx,
        state.id,
        event,
        cause=f"command:{command.text}",
        event_key=f"comment:{comment.comment_id}",
    )
    if outcome.refused:
        return f"evobot: not carried out: {outcome.refused}.", outcome
    if outcome.changes:
        return "evobot: done: " + "; ".join(outcome.changes) + ".", outcome
    return "evobot: nothing to do; it already is so.", outcome
