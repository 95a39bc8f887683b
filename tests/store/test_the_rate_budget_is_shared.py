"""The rate budget lives in the store: ceilings per minute and hour, Retry-After and an
exhausted primary budget hold every reserver of the installation."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.store import RateCeilings, Store


def _open(url: str, clock: ManualClock) -> Store:
    return Store.open(url, clock=clock, rate_ceilings=RateCeilings(3, 5, 1.0))


def test_writes_are_spaced_and_capped_per_minute_and_hour(db_url: str, clock: ManualClock) -> None:
    one, other = _open(db_url, clock), _open(db_url, clock)  # two replicas, one budget
    now = clock.now()
    waits = [s.rate_budget.reserve_write(9, now) for s in (one, other, one, other, one, other)]

    # 1 s apart; the 4th waits for the 1st to leave the minute; the 6th for the hour.
    assert waits == [0.0, 1.0, 2.0, 60.0, 61.0, 3600.0]
    assert one.rate_budget.reserve_write(10, now) == 0.0  # another installation: its own budget


def test_retry_after_and_the_primary_reset_hold_every_request(
    db_url: str, clock: ManualClock
) -> None:
    store = _open(db_url, clock)
    now = clock.now()
    store.rate_budget.note_retry_after(9, now + 120)
    assert store.rate_budget.wait_before_read(9, now) == 120.0
    assert store.rate_budget.reserve_write(9, now) == 120.0

    store.rate_budget.note_primary(9, remaining=0, reset=now + 600)
    assert store.rate_budget.wait_before_read(9, now) == 601.0
    clock.advance(700)
    assert store.rate_budget.wait_before_read(9) == 0.0
