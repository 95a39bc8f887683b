"""Fixtures of the dashboard's tests: a store seeded with the fleet of `dashboard_support`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dashboard_support import START, Fleet, seed_fleet

from bot.clock import ManualClock
from bot.store import Store


@pytest.fixture
def fleet_store(sqlite_url: str) -> Iterator[tuple[Store, Fleet]]:
    clock = ManualClock(START)
    store = Store.open(sqlite_url, clock=clock)
    try:
        yield store, seed_fleet(store, clock)
    finally:
        store.close()
