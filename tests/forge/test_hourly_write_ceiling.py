"""GitHub allows 500 content-creating requests an hour as well as 80 a minute: the pacer keeps a
sliding hour budget shared by every thread, and the emulator refuses the 501st write."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from forge_helpers import FakeClock, emulated, make_forge

from bot.emulator.limits import peak_in_window
from bot.forge.ratelimit import HourlyWriteBudget, Pacer, shared_write_budget


def test_budget_grants_at_most_limit_writes_in_any_window() -> None:
    budget = HourlyWriteBudget(limit=3, window=100.0)
    grants = [budget.reserve(t) for t in (0.0, 1.0, 2.0, 3.0, 4.0, 150.0, 150.0)]
    assert grants == [0.0, 1.0, 2.0, 100.0, 101.0, 150.0, 200.0]
    assert peak_in_window(grants, 100.0) == 3
    assert budget.used(200.0) == 3


def test_budget_never_grants_before_asked_and_forgets_an_old_hour() -> None:
    budget = HourlyWriteBudget(limit=2, window=10.0)
    assert budget.reserve(5.0) == 5.0
    assert budget.reserve(6.0) == 6.0
    assert budget.reserve(100.0) == 100.0  # the old grants left the window long ago
    assert budget.reserve(100.0) == 100.0
    assert budget.reserve(100.0) == 110.0


def test_budget_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        HourlyWriteBudget(limit=0)
    with pytest.raises(ValueError):
        HourlyWriteBudget(limit=1, window=0)


def test_pacer_waits_for_the_hour_after_the_ceiling() -> None:
    clock = FakeClock(0.0)
    pacer = Pacer(clock, write_interval=1.0, hourly=HourlyWriteBudget(limit=4, window=3600.0))
    for _ in range(6):
        pacer.acquire("POST")
        pacer.release()
        pacer.acquire("GET")  # reads cost nothing against the budget
        pacer.release()
    # Four writes a second apart, then the fifth waits until the first leaves the hour.
    assert clock.slept[:3] == [1.0, 1.0, 1.0]
    assert clock.slept[3] == pytest.approx(3600.0 - 3.0)
    assert clock.now() == pytest.approx(3601.0)


def test_threads_share_one_budget() -> None:
    budget = shared_write_budget("https://example.test#installation:1", limit=50, window=3600.0)
    assert shared_write_budget("https://example.test#installation:1", 50, 3600.0) is budget
    grants: list[float] = []
    lock = threading.Lock()

    def book() -> None:
        for _ in range(20):
            granted = budget.reserve(0.0)
            with lock:
                grants.append(granted)

    workers = [threading.Thread(target=book) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(grants).count(0.0) == 50
    assert peak_in_window(sorted(grants), 3600.0) == 50


def test_emulator_refuses_writes_past_the_hourly_ceiling(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu", speed=4000) as (emu, _forge):
        # No hourly pacing in this forge: the emulator's ceiling answers, and is waited out.
        forge = make_forge(emu, write_interval=0.0, writes_per_hour=1000)
        forge.get_repository("acme/svc1")
        emu.set_limits(secondary_per_hour=3)
        emu.reset_limits()
        start = emu.clock.now()
        for n in range(4):
            forge.create_blob("acme/svc1", f"blob {n}\n".encode())
        assert emu.secondary_limit_hits == 1
        assert emu.clock.now() - start >= 3500


def test_paced_forge_stays_under_the_hourly_ceiling(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu", speed=4000) as (emu, _forge):
        forge = make_forge(emu, write_interval=0.0, writes_per_hour=3)
        forge.get_repository("acme/svc1")
        emu.set_limits(secondary_per_hour=3)
        emu.reset_limits()
        start = emu.clock.now()
        for n in range(4):
            forge.create_blob("acme/svc1", f"blob {n}\n".encode())
        assert emu.secondary_limit_hits == 0
        assert emu.clock.now() - start >= 3500
        assert emu.emulator.limiter.writes_peak("installation:7") == 3
