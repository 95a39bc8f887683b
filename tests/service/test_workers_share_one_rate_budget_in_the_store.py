"""Every worker and replica of one App paces its content-creating requests in one budget kept in
the store: two forges (two processes, as far as the budget knows) writing as one installation
are spaced as if they were one, and the store counts both."""

from __future__ import annotations

from pathlib import Path

from service_support import private_key_pem

from bot.clock import ManualClock
from bot.forge.auth import AppCredentials
from bot.forge.github import ForgeSettings, GitHubForge
from bot.service.budget import StoreWriteBudget, store_write_budgets
from bot.store import RateCeilings, Store

INSTALLATION = 77


def forge_over(store: Store, clock: ManualClock) -> GitHubForge:
    return GitHubForge(
        AppCredentials("1", private_key_pem()),
        settings=ForgeSettings(base_url="http://127.0.0.1:9/api/v3"),
        clock=clock,
        write_budget=store_write_budgets(store.rate_budget),
    )


def test_two_forges_writing_as_one_installation_share_the_store_budget(
    db_url: str, tmp_path: Path
) -> None:
    clock = ManualClock(1_800_000_000.0)
    store = Store.open(
        db_url, clock=clock, rate_ceilings=RateCeilings(per_minute=3, min_interval=1.0)
    )
    try:
        first, second = forge_over(store, clock), forge_over(store, clock)
        assert isinstance(first.pacer(INSTALLATION).hourly, StoreWriteBudget)
        waits = [
            first.pacer(INSTALLATION).wait_before("POST"),
            second.pacer(INSTALLATION).wait_before("POST"),  # one second after the first
            first.pacer(INSTALLATION).wait_before("PATCH"),
            second.pacer(INSTALLATION).wait_before("POST"),  # the minute holds 3 already
        ]
        assert waits[0] == 0.0
        assert waits[1] >= 1.0
        assert waits[2] >= 2.0
        assert waits[3] >= 60.0
        now = clock.now()
        assert store.rate_budget.writes_between(INSTALLATION, now - 1, now + 3600) == 4
        # Reads are not booked.
        assert second.pacer(INSTALLATION).wait_before("GET") == 0.0
    finally:
        store.close()
