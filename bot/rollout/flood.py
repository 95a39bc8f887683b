"""PR-flood control: whether one more evolution PR may open now for an installation.

Two caps (`FloodPolicy`): open evolution PRs at once, and new PRs in any sliding hour. A PR
that may not open yet gets the time at which to try again (the hour's oldest opening plus an
hour; for the open cap, a retry a few minutes later, when a merge or close may have freed room).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.rollout.policy import FloodPolicy

__all__ = ["OPEN_CAP_RETRY", "Admission", "admit_pr"]

OPEN_CAP_RETRY = 300.0  # seconds


@dataclass(frozen=True)
class Admission:
    allowed: bool
    retry_at: float | None = None
    reason: str | None = None


def admit_pr(
    policy: FloodPolicy, *, open_prs: int, opened_at: Sequence[float], now: float
) -> Admission:
    """``open_prs``: evolution PRs open now; ``opened_at``: when PRs were opened (any state)."""
    if open_prs >= policy.max_open_prs:
        return Admission(
            False,
            now + OPEN_CAP_RETRY,
            f"{open_prs} evolution PRs are open, the cap is {policy.max_open_prs}",
        )
    recent = sorted(t for t in opened_at if now - 3600 < t <= now)
    if len(recent) >= policy.max_new_prs_per_hour:
        # The slot frees when the oldest opening that keeps the count at the cap leaves the hour.
        oldest = recent[len(recent) - policy.max_new_prs_per_hour]
        return Admission(
            False,
            oldest + 3600,
            f"{len(recent)} PRs opened in the last hour, the cap is {policy.max_new_prs_per_hour}",
        )
    return Admission(True)
