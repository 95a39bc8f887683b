"""Each store test runs on SQLite and on PostgreSQL (skipped, saying why, without a server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_support import database

from bot.clock import ManualClock
from bot.store import Store

START = 1_800_000_000.0


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def store(db_url: str, clock: ManualClock) -> Iterator[Store]:
    opened = Store.open(db_url, clock=clock)
    yield opened
    opened.close()
