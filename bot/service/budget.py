"""The forge's write pacing, kept in the store: every worker and replica of one App books its
content-creating requests in the same per-installation budget (per minute, per hour, the pause
between writes, Retry-After and an exhausted primary limit), through this adapter."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.forge.ratelimit import WriteBudget
from bot.store import RateBudgetStore

__all__ = ["StoreWriteBudget", "store_write_budgets"]

_INSTALLATION = re.compile(r"#installation:(\d+)$")


class StoreWriteBudget:
    """A :class:`~bot.forge.ratelimit.WriteBudget` over ``store.rate_budget`` for one
    installation (0: the App itself)."""

    def __init__(self, budget: RateBudgetStore, installation_id: int) -> None:
        self._budget = budget
        self.installation_id = installation_id

    def __repr__(self) -> str:
        return f"StoreWriteBudget(installation_id={self.installation_id})"

    def reserve(self, at: float) -> float:
        return at + self._budget.reserve_write(self.installation_id, now=at)


def store_write_budgets(budget: RateBudgetStore) -> Callable[[str, int], WriteBudget]:
    """What ``GitHubForge(write_budget=...)`` takes: the identity the forge names
    (``API#installation:ID``, or the App's or a token's) → that installation's shared budget.
    The store's ceilings apply; the forge's own hourly figure is not needed."""

    def for_identity(identity: str, _writes_per_hour: int) -> WriteBudget:
        match = _INSTALLATION.search(identity)
        return StoreWriteBudget(budget, int(match.group(1)) if match else 0)

    return for_identity
