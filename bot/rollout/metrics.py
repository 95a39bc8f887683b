"""Outcome metrics of one template version's rollout, computed from its stored state."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from bot.rollout.state import RolloutState

__all__ = ["RolloutMetrics", "rollout_metrics"]


@dataclass(frozen=True)
class RolloutMetrics:
    """PRs opened, merged, closed unmerged and reverted; the median seconds from opening to
    merge; the share of PRs whose checks passed before merge and of merges green after."""

    opened: int
    merged: int
    closed_unmerged: int
    reverted: int
    median_seconds_to_merge: float | None
    pass_rate_before_merge: float | None
    pass_rate_after_merge: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "opened": self.opened,
            "merged": self.merged,
            "closed_unmerged": self.closed_unmerged,
            "reverted": self.reverted,
            "median_seconds_to_merge": self.median_seconds_to_merge,
            "pass_rate_before_merge": self.pass_rate_before_merge,
            "pass_rate_after_merge": self.pass_rate_after_merge,
        }


def _rate(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def rollout_metrics(state: RolloutState) -> RolloutMetrics:
    consumers = state.consumers
    opened = [c for c in consumers if c.number is not None]
    merged = [c for c in consumers if c.merged_at is not None]
    durations = [
        c.merged_at - c.opened_at
        for c in merged
        if c.merged_at is not None and c.opened_at is not None
    ]
    return RolloutMetrics(
        opened=len(opened),
        merged=len(merged),
        closed_unmerged=sum(1 for c in opened if c.status == "closed" and c.merged_at is None),
        reverted=sum(1 for c in consumers if c.status == "reverted"),
        median_seconds_to_merge=statistics.median(durations) if durations else None,
        pass_rate_before_merge=_rate([c.pr_checks for c in opened if c.pr_checks is not None]),
        pass_rate_after_merge=_rate([c.post_checks for c in merged if c.post_checks is not None]),
    )
