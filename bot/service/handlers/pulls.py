"""Evolution and revert pull requests: their state (open, closed, merged), head and merge
commit, and pushes to their branches by people. The PR is read back from GitHub on every event,
so deliveries arriving out of order or repeated still leave its current state."""

from __future__ import annotations

from typing import Any

from bot.forge.webhook import WebhookEvent
from bot.service.context import HandlerContext
from bot.service.handlers.checks import record_post_merge
from bot.service.router import Router

__all__ = ["EVOLUTION_PREFIX", "REVERT_PREFIX", "router"]

router = Router()
EVOLUTION_PREFIX = "evobot/"
REVERT_PREFIX = "evobot/revert/"


def _own_branch(pull: dict[str, Any], repo: str) -> str | None:
    head = pull.get("head") or {}
    ref = str(head.get("ref") or "")
    head_repo = str((head.get("repo") or {}).get("full_name") or repo)
    # Only the repository's own branches can be the bot's: a fork's are someone else's.
    if not ref.startswith(EVOLUTION_PREFIX) or head_repo.lower() != repo.lower():
        return None
    return ref


@router.register(
    "pull_request", "opened", "reopened", "closed", "synchronize", "edited", "ready_for_review"
)
def bot_pull_changed(event: WebhookEvent, context: HandlerContext) -> str | None:
    repo = event.repository
    pull = event.payload.get("pull_request") or {}
    if repo is None or not isinstance(pull, dict) or "number" not in pull:
        return None
    branch = _own_branch(pull, repo)
    if branch is None:
        return None
    number = int(pull["number"])
    current = context.forge.get_pull(repo, number)
    state = "merged" if current.merged else current.state
    merge_commit = current.merge_commit_sha if current.merged else None

    def head_checks(known_head: str | None, known_state: str | None) -> str | None:
        # Checks may have finished before the PR was opened (CI runs on the push): read them.
        if known_head == current.head_sha and known_state is not None:
            return known_state
        return context.forge.commit_state(repo, current.head_sha, branch=current.base_ref).state

    entity: str
    if branch.startswith(REVERT_PREFIX):
        reverts = [r for r in context.store.revert_prs(repo=repo) if r.number == number]
        if not reverts:
            return None  # a revert PR the bot did not record: nothing of ours to update
        known = reverts[0]
        context.store.upsert_revert_pr(
            repo,
            number,
            branch=branch,
            reverts_commit=known.reverts_commit,
            state=state,
            evolution_pr=known.evolution_pr,
            head_sha=current.head_sha,
            check_state=head_checks(known.head_sha, known.check_state),
            merge_commit=merge_commit,
            cause=context.cause,
        )
        entity = f"revert-pr:{repo}#{number}"
    else:
        found = [p for p in context.store.evolution_prs(repo=repo) if p.number == number]
        known_pr = found[0] if found else None
        context.store.upsert_evolution_pr(
            repo,
            number,
            branch=branch,
            state=state,
            template_version=branch.rsplit("/", 1)[-1],
            head_sha=current.head_sha,
            check_state=head_checks(
                known_pr.head_sha if known_pr else None, known_pr.check_state if known_pr else None
            ),
            merge_commit=merge_commit,
            cause=context.cause,
        )
        entity = f"evolution-pr:{repo}#{number}"
    if merge_commit:
        # The merge commit's checks may have finished before this delivery was processed.
        merged_checks = context.forge.commit_state(repo, merge_commit, branch=current.base_ref)
        record_post_merge(context, entity, merged_checks.state)
    sender = event.payload.get("sender") or {}
    if event.action == "synchronize" and sender.get("type") != "Bot":
        after = str(event.payload.get("after") or "")
        context.store.append_audit(
            entity, f"pushed to by {event.sender or 'someone'}: {after}", context.cause
        )
        return f"{entity} {state}, pushed to by a person"
    return f"{entity} {state}"
