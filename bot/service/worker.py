"""Workers: claim a job from the store, run the router's handlers for its delivery (or the job
router's handler for other kinds: rollout steps, timers, commands), record the outcome. A
crash loses nothing (the lease expires and another worker takes the job over); a failure is
retried with backoff and, after the last attempt, left ``failed`` with its error.

Stopping (SIGTERM) stops claiming; a job in hand finishes within the grace period or is
released back to the queue, its attempt not counted.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from bot.clock import Clock
from bot.forge.auth import scrub
from bot.forge.port import AppPort, Forge
from bot.forge.webhook import WebhookEvent
from bot.service.context import HandlerContext
from bot.service.jobs import JobContext, JobRouter
from bot.service.metrics import ServiceMetrics
from bot.service.rollouts import RolloutRuntime
from bot.service.router import Router
from bot.store import Delivery, Job, LeaseLostError, Store

__all__ = ["Worker", "WorkerPool", "stored_event"]

log = structlog.get_logger("bot.service.worker")
OUTCOME_CHARS = 32


def stored_event(delivery: Delivery) -> WebhookEvent:
    """The event of a stored delivery (its signature was checked when it was received)."""
    payload = json.loads(delivery.payload)
    repository = payload.get("repository") if isinstance(payload, dict) else None
    sender = payload.get("sender") if isinstance(payload, dict) else None
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    login = sender.get("login") if isinstance(sender, dict) else None
    return WebhookEvent(
        event=delivery.event,
        delivery_id=delivery.delivery_id,
        action=delivery.action,
        installation_id=delivery.installation_id,
        repository=full_name if isinstance(full_name, str) else None,
        sender=login if isinstance(login, str) else None,
        payload=payload if isinstance(payload, dict) else {},
    )


@dataclass
class Worker:
    """One worker: claims and runs jobs until ``stop`` is set."""

    store: Store
    router: Router
    forge: Forge
    app: AppPort
    metrics: ServiceMetrics
    worker_id: str
    stop: threading.Event
    lease_seconds: float = 300.0
    poll_interval: float = 0.2
    # A test's hook: called with each job after it is claimed, before it is run.
    on_claim: Callable[[Job], None] | None = None
    # Jobs other than deliveries, and what the rollout handlers work with (None: not wired).
    jobs: JobRouter | None = None
    rollouts: RolloutRuntime | None = None

    def __post_init__(self) -> None:
        self._current: Job | None = None
        self._lock = threading.Lock()

    @property
    def current(self) -> Job | None:
        with self._lock:
            return self._current

    def run(self) -> None:
        """Claim and run jobs until stopped (the thread or process body)."""
        log.info("worker.started", worker=self.worker_id)
        while not self.stop.is_set():
            try:
                worked = self.run_once()
            except Exception as exc:
                log.error("worker.claim_failed", worker=self.worker_id, error=scrub(str(exc)))
                worked = False
            if not worked:
                self.stop.wait(self.poll_interval)
        log.info("worker.stopped", worker=self.worker_id)

    def run_once(self) -> bool:
        """Claim one job and run it; False when none was due."""
        job = self.store.claim(self.worker_id, lease_seconds=self.lease_seconds)
        if job is None:
            return False
        with self._lock:
            self._current = job
        structlog.contextvars.bind_contextvars(
            job_id=job.id, delivery_id=job.delivery_id, repo=job.key and job.key.split(":", 1)[-1]
        )
        started = time.perf_counter()
        event_name = "job"
        try:
            if self.on_claim is not None:
                self.on_claim(job)
            event_name, outcome = self._run(job)
            # The delivery's outcome column holds 32 characters; the log line has it whole.
            self.store.complete(job, outcome if len(outcome) <= OUTCOME_CHARS else "handled")
            self.metrics.deliveries.labels(event_name, "processed").inc()
            log.info("job.done", worker=self.worker_id, outcome=outcome, attempt=job.attempts)
        except LeaseLostError:
            log.warning("job.lease_lost", worker=self.worker_id)
        except Exception as exc:
            error = scrub(f"{type(exc).__name__}: {exc}")[:2000]
            try:
                after = self.store.fail(job, error)
            except LeaseLostError:
                log.warning("job.lease_lost", worker=self.worker_id, error=error)
            else:
                ended = after.state == "failed"
                self.metrics.deliveries.labels(event_name, "failed" if ended else "retried").inc()
                if ended:
                    self.metrics.jobs_failed.labels(job.kind).inc()
                log.warning(
                    "job.failed" if ended else "job.retry",
                    worker=self.worker_id,
                    error=error,
                    attempt=job.attempts,
                    of=job.max_attempts,
                )
        finally:
            self.metrics.processing_seconds.labels(job.kind).observe(time.perf_counter() - started)
            with self._lock:
                self._current = None
            structlog.contextvars.unbind_contextvars("job_id", "delivery_id", "repo")
        return True

    def _run(self, job: Job) -> tuple[str, str]:
        if job.kind != "delivery" or job.delivery_id is None:
            return job.kind, self._run_job(job)
        delivery = self.store.delivery(job.delivery_id)
        if delivery is None:
            return "unknown", "the delivery is not stored"
        event = stored_event(delivery)
        if event.repository:
            structlog.contextvars.bind_contextvars(repo=event.repository)
        context = HandlerContext(
            store=self.store,
            forge=self.forge,
            app=self.app,
            cause=f"delivery:{delivery.delivery_id}",
            log=log.bind(worker=self.worker_id, github_event=event.event, action=event.action),
            rollouts=self.rollouts,
        )
        return event.event, self.router.dispatch(event, context)

    def _run_job(self, job: Job) -> str:
        handler = self.jobs.handler(job.kind) if self.jobs is not None else None
        if handler is None or self.rollouts is None:
            return f"no handler for jobs of kind {job.kind!r}"
        context = JobContext(
            store=self.store,
            forge=self.forge,
            app=self.app,
            rollouts=self.rollouts,
            job=job,
            log=log.bind(worker=self.worker_id, job_kind=job.kind),
        )
        # A rollout step may open a whole wave's PRs: keep the lease while it runs, so no other
        # worker takes a live job over (a dead worker stops renewing; its lease expires).
        with _LeaseKeeper(self.store, job, self.lease_seconds, self.rollouts.clock):
            return handler(job, context)

    def release_current(self) -> None:
        """Give the job in hand back to the queue (shutdown): due now, the attempt not counted."""
        job = self.current
        if job is None:
            return
        try:
            self.store.release(job)
            log.info("job.released", worker=self.worker_id, job_id=job.id)
        except LeaseLostError:
            pass


class _LeaseKeeper:
    """Renews a job's lease every third of the lease (on the store's clock, which a test may
    run faster than the wall) while the job runs."""

    def __init__(self, store: Store, job: Job, lease_seconds: float, clock: Clock) -> None:
        self._store, self._job, self._lease, self._clock = store, job, lease_seconds, clock
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"lease-{job.id}", daemon=True)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _renew(self) -> None:
        renewed = self._clock.now()
        while not self._done.wait(min(self._lease / 3, 0.2)):
            if self._clock.now() < renewed + self._lease / 3:
                continue
            renewed = self._clock.now()
            try:
                self._store.extend_lease(self._job, self._lease)
            except LeaseLostError:
                return  # taken over: the job's outcome will not be recorded by this worker
            except Exception as exc:  # a busy database now and then: the next round retries
                log.warning("job.lease_not_renewed", job_id=self._job.id, error=scrub(str(exc)))


class WorkerPool:
    """``count`` worker threads in this process, stopped together."""

    def __init__(self, make: Callable[[int, threading.Event], Worker], count: int) -> None:
        self.stop_event = threading.Event()
        self.workers = [make(i, self.stop_event) for i in range(count)]
        self._threads = [
            threading.Thread(target=w.run, name=f"evobot-{w.worker_id}", daemon=True)
            for w in self.workers
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, grace: float) -> None:
        """Stop claiming; wait up to ``grace`` seconds for jobs in hand, then release them."""
        self.stop_event.set()
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        for worker, thread in zip(self.workers, self._threads, strict=True):
            if thread.is_alive():
                worker.release_current()
