"""The work queue: a table, claimed under leases, serialized by key, retried with backoff.

A worker claims one job at a time: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (several
replicas), ``BEGIN IMMEDIATE`` on SQLite (one writer at a time). A claim is a lease: a worker
killed mid-job loses nothing, because once the lease expires another worker takes the job over.
At most one job per key runs at a time (a partial unique index makes it a fact of the schema),
so two deliveries about one repository never race. A failed attempt is retried after a bounded
exponential backoff; after ``max_attempts`` the job ends ``failed`` with its error.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from bot.store._db import Database
from bot.store.errors import LeaseLostError, StoreError
from bot.store.models import DeliveryRow, JobRow

__all__ = ["Job", "JobQueue", "JobState", "QueueStats", "RetryPolicy"]

JobState = Literal["queued", "running", "done", "failed"]

DEFAULT_LEASE_SECONDS = 300.0
DEFAULT_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff: attempt n (1-based) waits ``min(cap, base * 2**(n-1))``."""

    base: float = 10.0
    cap: float = 900.0

    def delay(self, attempts: int) -> float:
        return float(min(self.cap, self.base * 2 ** max(attempts - 1, 0)))


@dataclass(frozen=True)
class Job:
    """A job as one worker claimed it. ``attempts`` counts claims so far, this one included;
    (``id``, ``lease_owner``, ``attempts``) is the claim the queue checks on every update."""

    id: int
    kind: str
    key: str | None
    payload: dict[str, Any]
    delivery_id: str | None
    state: JobState
    attempts: int
    max_attempts: int
    run_after: float
    lease_owner: str | None
    lease_expires: float | None
    outcome: str | None
    error: str | None
    created_at: float
    finished_at: float | None


@dataclass(frozen=True)
class QueueStats:
    """What the metrics show: jobs per state, the oldest due job's wait, leases overdue."""

    queued: int
    running: int
    done: int
    failed: int
    oldest_queued_age: float
    expired_leases: int


def _job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        key=row.key,
        payload=dict(row.payload),
        delivery_id=row.delivery_id,
        state=row.state,  # type: ignore[arg-type]  # the column only ever holds a JobState
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        run_after=row.run_after,
        lease_owner=row.lease_owner,
        lease_expires=row.lease_expires,
        outcome=row.outcome,
        error=row.error,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


class JobQueue:
    """The queue's operations (a part of `bot.store.Store`)."""

    _db: Database
    retry_policy: RetryPolicy

    def enqueue(
        self,
        kind: str,
        payload: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        dedupe_key: str | None = None,
        run_after: float | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> int:
        """Add a job; its id. With ``dedupe_key`` a job is enqueued once ever: a second call
        returns the first job's id and adds nothing. ``key`` serializes it with other jobs of
        the same key (``repo:owner/name``); ``run_after`` (epoch seconds) delays it."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

        def work(session: Session) -> int:
            now = self._db.clock.now()
            values = {
                "kind": kind,
                "key": key,
                "dedupe_key": dedupe_key,
                "payload": payload or {},
                "state": "queued",
                "run_after": now if run_after is None else run_after,
                "attempts": 0,
                "max_attempts": max_attempts,
                "created_at": now,
                "updated_at": now,
            }
            dialect = postgresql if self._db.is_postgresql else sqlite
            statement = dialect.insert(JobRow).values(**values)
            if dedupe_key is not None:
                statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
            inserted: int | None = session.execute(statement.returning(JobRow.id)).scalar()
            if inserted is not None:
                return inserted
            return session.execute(
                select(JobRow.id).where(JobRow.dedupe_key == dedupe_key)
            ).scalar_one()

        return self._db.write(work)

    def claim(
        self,
        worker_id: str,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        kinds: Collection[str] | None = None,
    ) -> Job | None:
        """Take the next due job under a lease of ``lease_seconds``, or ``None``.

        Due: queued with ``run_after`` reached, or running under an expired lease (taken over;
        a job whose expired lease was its last attempt ends ``failed`` instead). Skipped: a job
        whose key has another job running. Oldest ``run_after`` first.
        """

        def work(session: Session) -> Job | None:
            now = self._db.clock.now()
            self._fail_abandoned(session, now)
            other = aliased(JobRow)
            key_busy = exists().where(
                other.key == JobRow.key, other.state == "running", other.id != JobRow.id
            )
            due = or_(
                and_(JobRow.state == "queued", JobRow.run_after <= now),
                and_(
                    JobRow.state == "running",
                    JobRow.lease_expires <= now,
                    JobRow.attempts < JobRow.max_attempts,
                ),
            )
            query = select(JobRow).where(due, ~key_busy)
            if kinds is not None:
                query = query.where(JobRow.kind.in_(list(kinds)))
            query = query.order_by(JobRow.run_after, JobRow.id).limit(1)
            if self._db.is_postgresql:
                query = query.with_for_update(skip_locked=True, of=JobRow)
            row = session.scalar(query)
            if row is None:
                return None
            row.state = "running"
            row.lease_owner = worker_id
            row.lease_expires = now + lease_seconds
            row.attempts += 1
            row.updated_at = now
            # The unique index on running keys refuses a concurrent claim of the same key here;
            # the write is then run again and sees that key busy.
            session.flush()
            if row.delivery_id is not None:
                session.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.delivery_id == row.delivery_id)
                    .values(attempts=DeliveryRow.attempts + 1)
                )
            return _job(row)

        return self._db.write(work)

    def _fail_abandoned(self, session: Session, now: float) -> None:
        """Jobs whose lease expired on their last attempt end ``failed``: never silently lost."""
        query = select(JobRow).where(
            JobRow.state == "running",
            JobRow.lease_expires <= now,
            JobRow.attempts >= JobRow.max_attempts,
        )
        if self._db.is_postgresql:
            query = query.with_for_update(skip_locked=True)
        for row in session.scalars(query).all():
            error = (
                f"the lease of worker {row.lease_owner} expired during attempt "
                f"{row.attempts} of {row.max_attempts} (the worker stopped or hung)"
            )
            self._finish(session, row, "failed", now, outcome="failed", error=error)

    def _finish(
        self,
        session: Session,
        row: JobRow,
        state: JobState,
        now: float,
        *,
        outcome: str | None,
        error: str | None,
    ) -> None:
        row.state = state
        row.outcome = outcome
        row.error = error
        row.lease_owner = None
        row.lease_expires = None
        row.finished_at = now
        row.updated_at = now
        if row.delivery_id is not None:
            session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.delivery_id == row.delivery_id)
                .values(processed_at=now, outcome=outcome, error=error)
            )
        if state == "failed":
            self._db.audit(session, f"job:{row.id}", f"{row.kind} failed: {error}", _cause(row))

    def _held(self, session: Session, job: Job) -> JobRow:
        """The row of the claim ``job`` is, locked; `LeaseLostError` when it is no longer."""
        query = select(JobRow).where(
            JobRow.id == job.id,
            JobRow.state == "running",
            JobRow.lease_owner == job.lease_owner,
            JobRow.attempts == job.attempts,
        )
        if self._db.is_postgresql:
            query = query.with_for_update()
        row = session.scalar(query)
        if row is None:
            raise LeaseLostError(
                f"job {job.id} ({job.kind}) is no longer held by worker {job.lease_owner}: "
                "its lease expired and another worker took it over, or it was finished already"
            )
        return row

    def complete(self, job: Job, outcome: str = "done") -> None:
        """The job succeeded; ``outcome`` is a short word for the dashboard and the delivery."""

        def work(session: Session) -> None:
            row = self._held(session, job)
            self._finish(session, row, "done", self._db.clock.now(), outcome=outcome, error=None)

        self._db.write(work)

    def fail(self, job: Job, error: str) -> Job:
        """The attempt failed: retried after the backoff, or ``failed`` after its last attempt.
        The job as it now stands."""

        def work(session: Session) -> Job:
            row = self._held(session, job)
            now = self._db.clock.now()
            if row.attempts >= row.max_attempts:
                self._finish(session, row, "failed", now, outcome="failed", error=error)
            else:
                row.state = "queued"
                row.error = error
                row.run_after = now + self.retry_policy.delay(row.attempts)
                row.lease_owner = None
                row.lease_expires = None
                row.updated_at = now
                if row.delivery_id is not None:
                    session.execute(
                        update(DeliveryRow)
                        .where(DeliveryRow.delivery_id == row.delivery_id)
                        .values(error=error)
                    )
            session.flush()
            return _job(row)

        return self._db.write(work)

    def release(self, job: Job) -> None:
        """Give the job back unharmed (graceful shutdown): due again now, the attempt uncounted."""

        def work(session: Session) -> None:
            row = self._held(session, job)
            now = self._db.clock.now()
            row.state = "queued"
            row.run_after = now
            row.attempts -= 1
            row.lease_owner = None
            row.lease_expires = None
            row.updated_at = now

        self._db.write(work)

    def extend_lease(self, job: Job, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> Job:
        """Keep holding a long job: its lease now ends ``lease_seconds`` from now."""

        def work(session: Session) -> Job:
            row = self._held(session, job)
            now = self._db.clock.now()
            row.lease_expires = now + lease_seconds
            row.updated_at = now
            session.flush()
            return _job(row)

        return self._db.write(work)

    def retry_job(self, job_id: int, *, cause: str) -> Job:
        """Queue a ``failed`` job again with fresh attempts (an operator's or a command's retry)."""

        def work(session: Session) -> Job:
            row = session.get(JobRow, job_id)
            if row is None or row.state != "failed":
                state = "not stored" if row is None else row.state
                raise StoreError(f"job {job_id} cannot be retried: it is {state}, not failed")
            now = self._db.clock.now()
            row.state = "queued"
            row.attempts = 0
            row.run_after = now
            row.finished_at = None
            row.outcome = None
            row.updated_at = now
            self._db.audit(session, f"job:{job_id}", f"{row.kind} queued again", cause)
            session.flush()
            return _job(row)

        return self._db.write(work)

    def job(self, job_id: int) -> Job | None:
        with self._db.reading() as session:
            row = session.get(JobRow, job_id)
            return None if row is None else _job(row)

    def jobs(self, *, state: JobState | None = None, limit: int = 100) -> list[Job]:
        """Jobs, newest first, optionally in one state (``failed`` for the dashboard)."""
        with self._db.reading() as session:
            query = select(JobRow)
            if state is not None:
                query = query.where(JobRow.state == state)
            rows = session.scalars(query.order_by(JobRow.id.desc()).limit(limit))
            return [_job(row) for row in rows]

    def queue_stats(self) -> QueueStats:
        now = self._db.clock.now()
        with self._db.reading() as session:
            counts = dict(
                session.execute(select(JobRow.state, func.count()).group_by(JobRow.state)).all()
            )
            oldest = session.scalar(
                select(func.min(JobRow.run_after)).where(
                    JobRow.state == "queued", JobRow.run_after <= now
                )
            )
            expired = session.scalar(
                select(func.count()).where(JobRow.state == "running", JobRow.lease_expires <= now)
            )
        return QueueStats(
            queued=int(counts.get("queued", 0)),
            running=int(counts.get("running", 0)),
            done=int(counts.get("done", 0)),
            failed=int(counts.get("failed", 0)),
            oldest_queued_age=0.0 if oldest is None else max(now - oldest, 0.0),
            expired_leases=int(expired or 0),
        )


def _cause(row: JobRow) -> str:
    return f"delivery:{row.delivery_id}" if row.delivery_id else f"job:{row.id}"
