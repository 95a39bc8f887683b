"""Many workers, one database: 200 jobs are each completed exactly once, and jobs of one key
never overlap — threads on SQLite, separate processes on PostgreSQL."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from store_support import fresh_postgres_database

from bot.store import Store
from bot.store.engine import WRITE

JOBS = 200
KEYS = 10


def _work(url: str, worker: str) -> None:
    store = Store.open(url, upgrade_schema=False)
    idle = 0
    while idle < 3:
        job = store.claim(worker, lease_seconds=120)
        if job is None:
            idle += 1
            continue
        idle = 0
        # A writer outside the store begins IMMEDIATE too (WRITE), or SQLite refuses the upgrade.
        with store.engine.execution_options(**{WRITE: True}).begin() as connection:
            # Record the run; the running-key check proves no other job of this key is running.
            running = connection.execute(
                text("SELECT count(*) FROM jobs WHERE key = :k AND state = 'running'"),
                {"k": job.key},
            ).scalar_one()
            connection.execute(
                text("INSERT INTO audit_log (at, entity, change, cause) VALUES (0, :e, :c, :w)"),
                {"e": f"run:{job.id}", "c": f"running={running}", "w": worker},
            )
        store.complete(job)
    store.close()


def _fill(url: str) -> Store:
    store = Store.open(url)
    for n in range(JOBS):
        store.enqueue("evolve", {"n": n}, key=f"repo:acme/{n % KEYS}")
    return store


def _check(store: Store) -> None:
    runs = store.audit_log(limit=10 * JOBS)
    ran = [entry.entity for entry in runs if entry.entity.startswith("run:")]
    assert sorted(ran) == sorted(f"run:{job.id}" for job in store.jobs(limit=JOBS))
    assert len(ran) == len(set(ran)) == JOBS
    assert {entry.change for entry in runs} == {"running=1"}
    stats = store.queue_stats()
    assert (stats.done, stats.queued, stats.running) == (JOBS, 0, 0)


def test_threads_on_sqlite_complete_each_job_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'evobot.db'}"
    store = _fill(url)
    threads = [threading.Thread(target=_work, args=(url, f"t{i}")) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    _check(store)


def test_processes_on_postgresql_complete_each_job_once() -> None:
    with fresh_postgres_database() as url:
        store = _fill(url)
        context = multiprocessing.get_context("spawn")
        workers = [context.Process(target=_work, args=(url, f"p{i}")) for i in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=180)
        assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]

        _check(store)
        store.close()


@pytest.mark.parametrize("workers", [3])
def test_concurrent_reservers_never_exceed_the_ceilings(
    db_url: str, workers: int, tmp_path: Path
) -> None:
    from bot.clock import ManualClock
    from bot.store import RateCeilings

    clock = ManualClock(1_800_000_000.0)
    ceilings = RateCeilings(per_minute=5, per_hour=12, min_interval=0.5)
    store = Store.open(db_url, clock=clock, rate_ceilings=ceilings)
    slots: list[float] = []
    lock = threading.Lock()

    def reserve() -> None:
        for _ in range(10):
            wait = store.rate_budget.reserve_write(7)
            with lock:
                slots.append(clock.now() + wait)

    threads = [threading.Thread(target=reserve) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    slots.sort()
    assert len(slots) == 30
    for i, at in enumerate(slots):
        assert sum(1 for s in slots if at - 60 < s <= at) <= 5, (i, slots)
        assert sum(1 for s in slots if at - 3600 < s <= at) <= 12, (i, slots)
        if i:
            assert at - slots[i - 1] >= 0.5 - 1e-9
    store.close()
