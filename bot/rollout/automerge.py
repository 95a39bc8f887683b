"""Auto-merge, pure: whether the bot may merge one of its evolution PRs now.

Opt-in per consumer (`.evobot.yml` ``pr.auto_merge``). A PR is merged only while its rollout is
running (a wave open or baking), the consumer is neither paused nor failed, its checks are green,
GitHub says it merges without conflict, and it changes at most ``max_churn_lines`` lines.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.consumer import AutoMergeSettings
from bot.rollout.state import ACTIVE

__all__ = ["MergeDecision", "MergeFacts", "decide_auto_merge", "merge_blocker"]


@dataclass(frozen=True)
class MergeFacts:
    """What is known of one evolution PR when its checks have finished."""

    rollout_status: str
    consumer_status: str
    paused: bool
    pr_open: bool
    checks_passed: bool | None
    mergeable: bool | None
    additions: int
    deletions: int

    @property
    def churn(self) -> int:
        return self.additions + self.deletions


@dataclass(frozen=True)
class MergeDecision:
    merge: bool
    reason: str


def merge_blocker(facts: MergeFacts) -> str | None:
    """Why the PR cannot be merged now whatever the consumer's settings say; None if it can."""
    if not facts.pr_open:
        return "the PR is not open"
    if facts.rollout_status not in ACTIVE:
        return f"the rollout is {facts.rollout_status}"
    if facts.paused:
        return "the consumer is paused"
    if facts.consumer_status != "open":
        return f"the consumer is {facts.consumer_status}"
    if facts.checks_passed is not True:
        return "the checks are not green"
    if facts.mergeable is None:
        return "GitHub has not computed whether it merges yet"
    if not facts.mergeable:
        return "it does not merge without conflicts"
    return None


def decide_auto_merge(settings: AutoMergeSettings | None, facts: MergeFacts) -> MergeDecision:
    """Merge only when every condition holds; otherwise the first one that does not, as text."""
    if settings is None or not settings.enabled:
        return MergeDecision(False, "auto-merge is off (.evobot.yml pr.auto_merge.enabled)")
    blocker = merge_blocker(facts)
    if blocker is not None:
        return MergeDecision(False, blocker)
    limit = settings.churn_limit
    if facts.churn > limit:
        return MergeDecision(
            False, f"it changes {facts.churn} lines, above max_churn_lines ({limit})"
        )
    return MergeDecision(True, f"checks green, no conflict, {facts.churn} lines (at most {limit})")
