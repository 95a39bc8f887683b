"""Random orders of enqueue, claim, complete, fail, release and lease expiry never lose a job,
never let two workers hold one, never run two jobs of one key, and bound the attempts."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bot.clock import ManualClock
from bot.store import Job, LeaseLostError, RetryPolicy, Store

WORKERS = ["w1", "w2", "w3"]
LEASE = 30.0


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.clock = ManualClock(1_800_000_000.0)
        self.store = Store.open(
            f"sqlite:///{Path(self.dir.name) / 'q.db'}",
            clock=self.clock,
            retry_policy=RetryPolicy(base=5.0, cap=20.0),
        )
        self.enqueued: set[int] = set()
        self.held: dict[str, Job] = {}
        self.completed: list[int] = []

    def teardown(self) -> None:
        self.store.close()
        self.dir.cleanup()

    @rule(key=st.sampled_from([None, "repo:a", "repo:b"]), max_attempts=st.integers(1, 3))
    def enqueue(self, key: str | None, max_attempts: int) -> None:
        self.enqueued.add(self.store.enqueue("evolve", key=key, max_attempts=max_attempts))

    @rule(worker=st.sampled_from(WORKERS))
    def claim(self, worker: str) -> None:
        if worker in self.held:
            return
        job = self.store.claim(worker, lease_seconds=LEASE)
        if job is not None:
            for other, held in self.held.items():
                # Only a job whose lease expired can be taken from another worker.
                if held.id == job.id:
                    assert held.lease_expires is not None
                    assert held.lease_expires <= self.clock.now()
                    del self.held[other]
                    break
            self.held[worker] = job

    @precondition(lambda self: self.held)
    @rule(data=st.data(), action=st.sampled_from(["complete", "fail", "release", "extend"]))
    def act(self, data: st.DataObject, action: str) -> None:
        worker = data.draw(st.sampled_from(sorted(self.held)))
        job = self.held[worker]
        expired = job.lease_expires is not None and job.lease_expires <= self.clock.now()
        try:
            if action == "complete":
                self.store.complete(job)
                self.completed.append(job.id)
            elif action == "fail":
                self.store.fail(job, "boom")
            elif action == "release":
                self.store.release(job)
            else:
                self.held[worker] = self.store.extend_lease(job, LEASE)
                return
        except LeaseLostError:
            assert expired  # only an expired lease can have been lost
        del self.held[worker]

    @rule(seconds=st.sampled_from([1.0, 10.0, 31.0, 100.0]))
    def time_passes(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @invariant()
    def no_job_is_lost_or_doubly_held(self) -> None:
        jobs = self.store.jobs(limit=1000)
        assert {job.id for job in jobs} == self.enqueued
        running = [job for job in jobs if job.state == "running"]
        owners = [job.lease_owner for job in running]
        assert len(owners) == len(set(owners))
        keys = [job.key for job in running if job.key is not None]
        assert len(keys) == len(set(keys))
        assert all(0 <= job.attempts <= job.max_attempts for job in jobs)
        assert len(self.completed) == len(set(self.completed))
        done = {job.id for job in jobs if job.state == "done"}
        assert done == set(self.completed)


QueueMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_the_queue_keeps_its_invariants = QueueMachine.TestCase
