"""One `bot.clock.Clock` decides the time for provenance, token expiry and the emulator.

A test hands the same manual clock to each of them and moves it; nothing reads the wall clock
behind its back.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock import Clock, ManualClock, SystemClock, utc_now
from bot.emulator.clock import EmulatorClock
from bot.forge.auth import InstallationTokenCache
from bot.report.provenance import build_provenance, system_clock
from bot.tree import File

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _finished_on(clock: Clock) -> str:
    statement = build_provenance(
        tree={"app.py": File(b"print('hi')\n")},
        template="https://github.com/acme/fastapi-template",
        commit="0" * 40,
        answers={"service_name": "billing"},
        clock=clock,
        new_id=lambda: "inv-1",
    )
    data = statement.model_dump(mode="json", by_alias=True, exclude_none=True)
    finished: str = data["predicate"]["runDetails"]["metadata"]["finishedOn"]
    return finished


def test_provenance_is_stamped_with_the_clock_it_is_given() -> None:
    clock = ManualClock(START.timestamp())

    assert _finished_on(clock) == "2026-11-23T09:30:00Z"
    clock.advance(90)
    assert _finished_on(clock) == "2026-11-23T09:31:30Z"


def test_the_same_clock_expires_installation_tokens() -> None:
    clock = ManualClock(START.timestamp())
    issued: list[int] = []

    def fetch(installation_id: int) -> tuple[str, str | None]:
        issued.append(installation_id)
        expires = datetime.fromtimestamp(clock.now() + 3600, tz=UTC)
        return f"token-{len(issued)}", expires.strftime("%Y-%m-%dT%H:%M:%SZ")

    cache = InstallationTokenCache(fetch, clock=clock)
    assert cache.token(7) == "token-1"
    clock.sleep(3600 - 301)  # a wait on a manual clock passes at once
    assert cache.token(7) == "token-1"
    clock.sleep(2)  # now inside the refresh margin
    assert cache.token(7) == "token-2"


def test_every_clock_in_the_product_is_a_clock() -> None:
    clocks: list[Clock] = [SystemClock(), ManualClock(), EmulatorClock(start=0), system_clock]

    assert all(isinstance(clock, Clock) for clock in clocks)
    assert not isinstance(lambda: START, Clock)


def test_a_manual_clock_only_moves_forward() -> None:
    clock = ManualClock(10)
    clock.sleep(-5)
    assert clock.now() == 10
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)
    assert utc_now(clock) == datetime(1970, 1, 1, 0, 0, 10, tzinfo=UTC)
