"""Check state of evolution and revert PRs, before merge (their head) and after it (their merge
commit on the default branch). Any check event on such a commit re-reads the commit's combined
state from GitHub, judged on the default branch's required checks, so order does not matter."""

from __future__ import annotations

from bot.forge.webhook import WebhookEvent
from bot.service.context import HandlerContext
from bot.service.router import Router

__all__ = ["POST_MERGE", "event_sha", "record_post_merge", "router"]

router = Router()
POST_MERGE = "post-merge checks: "


def event_sha(event: WebhookEvent) -> str | None:
    """The commit a check event is about (a check suite's or run's head, a status's sha)."""
    payload = event.payload
    for key in ("check_suite", "check_run"):
        item = payload.get(key)
        if isinstance(item, dict) and item.get("head_sha"):
            return str(item["head_sha"])
    sha = payload.get("sha")
    return str(sha) if event.event == "status" and sha else None


def _last_post_merge(context: HandlerContext, entity: str) -> str | None:
    for record in context.store.audit_log(entity=entity, limit=50):
        if record.change.startswith(POST_MERGE):
            return record.change.removeprefix(POST_MERGE)
    return None


def record_post_merge(context: HandlerContext, entity: str, state: str) -> None:
    """Audit the checks of a merge commit on the default branch, when they changed."""
    if _last_post_merge(context, entity) != state:
        context.store.append_audit(entity, POST_MERGE + state, context.cause)


@router.register("check_suite", "completed", "requested", "rerequested")
@router.register("check_run", "created", "completed", "rerequested")
@router.register("status")
def checks_changed(event: WebhookEvent, context: HandlerContext) -> str | None:
    repo, sha = event.repository, event_sha(event)
    if repo is None or sha is None:
        return None
    store = context.store
    evolution = [p for p in store.evolution_prs(repo=repo) if sha in (p.head_sha, p.merge_commit)]
    reverts = [p for p in store.revert_prs(repo=repo) if sha in (p.head_sha, p.merge_commit)]
    if not evolution and not reverts:
        return None
    default = (event.payload.get("repository") or {}).get("default_branch")
    state = context.forge.commit_state(repo, sha, branch=default or None).state
    outcomes = []
    for pr in evolution:
        entity = f"evolution-pr:{repo}#{pr.number}"
        if pr.head_sha == sha and pr.check_state != state:
            store.upsert_evolution_pr(
                repo,
                pr.number,
                branch=pr.branch,
                state=pr.state,
                template_version=pr.template_version,
                head_sha=pr.head_sha,
                check_state=state,
                merge_commit=pr.merge_commit,
                cause=context.cause,
            )
        if pr.merge_commit == sha:
            record_post_merge(context, entity, state)
        outcomes.append(f"{entity} checks {state}")
    for revert in reverts:
        entity = f"revert-pr:{repo}#{revert.number}"
        if revert.head_sha == sha and revert.check_state != state:
            store.upsert_revert_pr(
                repo,
                revert.number,
                branch=revert.branch,
                reverts_commit=revert.reverts_commit,
                state=revert.state,
                evolution_pr=revert.evolution_pr,
                head_sha=revert.head_sha,
                check_state=state,
                merge_commit=revert.merge_commit,
                cause=context.cause,
            )
        if revert.merge_commit == sha:
            record_post_merge(context, entity, state)
        outcomes.append(f"{entity} checks {state}")
    return "; ".join(outcomes)
