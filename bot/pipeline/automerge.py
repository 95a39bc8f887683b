"""Auto-merge of an evolution PR whose checks are green, for consumers that opt in
(`.evobot.yml` ``pr.auto_merge``, read from the default branch: a PR cannot turn it on for
itself). The decision is `bot.rollout.automerge.decide_auto_merge`; here it is read, merged
(``PUT pulls/{n}/merge`` of the head that was checked, never another) and written to the audit
log. The merge's webhook then moves the rollout on like a person's merge.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from bot.consumer import CONFIG_NAME, AutoMergeSettings, parse_consumer_config
from bot.errors import EvobotError
from bot.forge.port import Forge, PullRequest
from bot.rollout.automerge import MergeFacts, decide_auto_merge, merge_blocker
from bot.rollout.state import RolloutState
from bot.store import Store

__all__ = ["AutoMergeOutcome", "auto_merge_pr", "auto_merge_settings"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class AutoMergeOutcome:
    merged: bool
    reason: str
    merge_commit: str | None = None


def auto_merge_settings(forge: Forge, repo: str, ref: str | None) -> AutoMergeSettings | None:
    """``pr.auto_merge`` of ``repo``'s `.evobot.yml` at ``ref``; None when unset or unreadable."""
    raw = forge.read_file(repo, CONFIG_NAME, ref)
    if raw is None:
        return None
    try:
        config = parse_consumer_config(raw, source=f"{repo}/{CONFIG_NAME}")
    except EvobotError as exc:
        log.warning("auto_merge.invalid_config", repo=repo, error=exc.message)
        return None
    return config.pr.auto_merge if config.pr else None


def auto_merge_pr(
    forge: Forge,
    store: Store,
    state: RolloutState,
    pull: PullRequest,
    *,
    repo: str,
    checks_passed: bool | None,
    cause: str,
) -> AutoMergeOutcome:
    """Merge ``pull`` if ``repo`` opts in and `decide_auto_merge` allows it now."""
    consumer = state.consumer(repo)
    if consumer is None:
        return AutoMergeOutcome(False, f"{repo} is not part of {state.id}")
    facts = MergeFacts(
        rollout_status=state.status,
        consumer_status=consumer.status,
        paused=consumer.paused,
        pr_open=pull.state == "open" and not pull.merged,
        checks_passed=checks_passed,
        mergeable=pull.mergeable,
        additions=pull.additions,
        deletions=pull.deletions,
    )
    # Refusals that need no settings first: reading .evobot.yml costs a request.
    blocker = merge_blocker(facts)
    if blocker is not None:
        return AutoMergeOutcome(False, blocker)
    decision = decide_auto_merge(auto_merge_settings(forge, repo, pull.base_ref), facts)
    if not decision.merge:
        return AutoMergeOutcome(False, decision.reason)
    sha = forge.merge_pull(repo, pull.number, sha=pull.head_sha)
    if sha is None:
        return AutoMergeOutcome(False, "GitHub refused the merge (a conflict, or the head moved)")
    store.append_audit(
        f"consumer:{repo}",
        f"auto-merged #{pull.number} ({state.id}): {decision.reason}",
        cause,
    )
    log.info("auto_merge.merged", repo=repo, number=pull.number, rollout=state.id)
    return AutoMergeOutcome(True, decision.reason, sha)
