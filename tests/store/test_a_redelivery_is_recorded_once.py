"""A webhook delivery id is the idempotency key: a redelivery stores and enqueues nothing."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.store import Store


def test_a_redelivered_id_is_stored_once_with_one_job(store: Store, clock: ManualClock) -> None:
    first = store.record_delivery(
        "d-1", "pull_request", "closed", 42, '{"number": 7}', job_key="repo:acme/billing"
    )
    clock.advance(5)
    again = store.record_delivery("d-1", "pull_request", "closed", 42, '{"number": 7}')

    assert (first, again) == (True, False)
    delivery = store.delivery("d-1")
    assert delivery is not None and delivery.received_at == clock.now() - 5
    assert [job.payload for job in store.jobs()] == [{"delivery_id": "d-1"}]


def test_processing_a_delivery_records_attempts_and_outcome(
    store: Store, clock: ManualClock
) -> None:
    store.record_delivery("d-2", "push", None, 42, "{}", job_key="repo:acme/billing")
    job = store.claim("w1")
    assert job is not None and job.delivery_id == "d-2"
    store.fail(job, "GitHub answered 502")
    clock.advance(3600)
    job = store.claim("w1")
    assert job is not None
    store.complete(job, "evolved")

    delivery = store.delivery("d-2")
    assert delivery is not None
    assert (delivery.attempts, delivery.outcome, delivery.error) == (2, "evolved", None)
    assert delivery.processed_at == clock.now()


def test_enqueue_with_a_dedupe_key_adds_one_job(store: Store) -> None:
    first = store.enqueue("bake-timer", {"wave": 1}, dedupe_key="rollout:7:wave:1")
    second = store.enqueue("bake-timer", {"wave": 1}, dedupe_key="rollout:7:wave:1")

    assert first == second
    assert len(store.jobs()) == 1
