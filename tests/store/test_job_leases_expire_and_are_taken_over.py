"""Claims are leases: a worker killed mid-job loses nothing, a stale worker cannot finish a job
another took over, jobs of one key never run together, failures back off and end `failed`."""

from __future__ import annotations

import pytest

from bot.clock import ManualClock
from bot.store import LeaseLostError, Store


def test_an_expired_lease_is_taken_over_and_the_old_holder_is_refused(
    store: Store, clock: ManualClock
) -> None:
    job_id = store.enqueue("evolve", {"repo": "acme/billing"}, key="repo:acme/billing")
    stale = store.claim("w1", lease_seconds=60)
    assert stale is not None and stale.id == job_id
    assert store.claim("w2", lease_seconds=60) is None  # held

    clock.advance(61)  # w1 was killed: its lease ran out
    taken = store.claim("w2", lease_seconds=60)

    assert taken is not None and taken.id == job_id
    assert (taken.lease_owner, taken.attempts) == ("w2", 2)
    with pytest.raises(LeaseLostError, match="no longer held by worker w1"):
        store.complete(stale)
    store.complete(taken)
    done = store.job(job_id)
    assert done is not None and done.state == "done"


def test_extending_a_lease_keeps_the_job(store: Store, clock: ManualClock) -> None:
    store.enqueue("evolve", key="repo:a/b")
    job = store.claim("w1", lease_seconds=60)
    assert job is not None
    clock.advance(50)
    job = store.extend_lease(job, 60)
    clock.advance(50)

    assert store.claim("w2") is None
    store.complete(job)


def test_jobs_of_one_key_never_run_together(store: Store) -> None:
    store.enqueue("delivery", {"n": 1}, key="repo:acme/billing")
    store.enqueue("delivery", {"n": 2}, key="repo:acme/billing")
    store.enqueue("delivery", {"n": 3}, key="repo:acme/other")

    first = store.claim("w1")
    second = store.claim("w2")
    assert first is not None and second is not None
    assert (first.payload, second.payload) == ({"n": 1}, {"n": 3})
    assert store.claim("w3") is None

    store.complete(first)
    third = store.claim("w3")
    assert third is not None and third.payload == {"n": 2}


def test_failures_back_off_then_end_failed_with_their_error(
    store: Store, clock: ManualClock
) -> None:
    job_id = store.enqueue("evolve", key="repo:a/b", max_attempts=3)
    waits = []
    for attempt in range(1, 4):
        job = store.claim("w1")
        assert job is not None and job.attempts == attempt
        after = store.fail(job, f"boom {attempt}")
        waits.append(after.run_after - clock.now())
        assert store.claim("w1") is None  # not due during the backoff
        clock.advance(10_000)

    assert waits[:2] == [10.0, 20.0]
    failed = store.job(job_id)
    assert failed is not None
    assert (failed.state, failed.error, failed.attempts) == ("failed", "boom 3", 3)
    assert store.queue_stats().failed == 1
    assert store.claim("w1") is None
    assert "failed: boom 3" in store.audit_log(entity=f"job:{job_id}")[0].change


def test_a_job_whose_last_lease_expires_ends_failed(store: Store, clock: ManualClock) -> None:
    job_id = store.enqueue("evolve", max_attempts=1)
    assert store.claim("w1", lease_seconds=30) is not None
    clock.advance(31)

    assert store.claim("w2") is None
    failed = store.job(job_id)
    assert failed is not None and failed.state == "failed"
    assert failed.error is not None and "lease of worker w1 expired" in failed.error


def test_release_gives_the_job_back_without_counting_the_attempt(store: Store) -> None:
    store.enqueue("evolve", key="repo:a/b")
    job = store.claim("w1")
    assert job is not None
    store.release(job)

    again = store.claim("w2")
    assert again is not None and again.attempts == 1


def test_queue_stats_count_states_and_the_oldest_wait(store: Store, clock: ManualClock) -> None:
    store.enqueue("a")
    clock.advance(30)
    store.enqueue("b")
    clock.advance(10)

    stats = store.queue_stats()
    assert (stats.queued, stats.running, stats.failed, stats.oldest_queued_age) == (2, 0, 0, 40.0)


def test_a_failed_job_can_be_queued_again(store: Store) -> None:
    job_id = store.enqueue("evolve", max_attempts=1)
    job = store.claim("w1")
    assert job is not None
    store.fail(job, "boom")

    again = store.retry_job(job_id, cause="command:/evobot retry")
    assert (again.state, again.attempts) == ("queued", 0)
    assert store.claim("w1") is not None
