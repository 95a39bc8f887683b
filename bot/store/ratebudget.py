"""One GitHub rate budget per installation, shared by every worker and replica of the App.

GitHub's secondary limits cap content-creating requests (POST, PATCH, PUT, DELETE) per minute
and per hour, and ask for a pause between them; a ``Retry-After`` or an exhausted primary budget
stops everything until a time. `RateBudgetStore.reserve_write` books the next free slot under
all of these at once, in one transaction holding the installation's row (``FOR UPDATE`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so concurrent reservers never exceed a ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.store._db import Database
from bot.store.models import RateBudgetRow, RateWriteRow

__all__ = ["RateBudgetStore", "RateCeilings"]

MINUTE = 60.0
HOUR = 3600.0


@dataclass(frozen=True)
class RateCeilings:
    """GitHub's documented secondary limits for content-creating requests, and its pause."""

    per_minute: int = 80
    per_hour: int = 500
    min_interval: float = 1.0

    def __post_init__(self) -> None:
        if self.per_minute < 1 or self.per_hour < 1 or self.min_interval < 0:
            raise ValueError("rate ceilings must be at least 1 and the interval not negative")


class RateBudgetStore:
    """The shared budget of each installation, kept in the store."""

    def __init__(self, db: Database, ceilings: RateCeilings | None = None) -> None:
        self._db = db
        self.ceilings = ceilings or RateCeilings()

    def _locked_row(self, session: Session, installation_id: int, now: float) -> RateBudgetRow:
        dialect = postgresql if self._db.is_postgresql else sqlite
        session.execute(
            dialect.insert(RateBudgetRow)
            .values(installation_id=installation_id, retry_after_until=0.0, updated_at=now)
            .on_conflict_do_nothing(index_elements=["installation_id"])
        )
        query = select(RateBudgetRow).where(RateBudgetRow.installation_id == installation_id)
        if self._db.is_postgresql:
            query = query.with_for_update()
        return session.scalars(query).one()

    def reserve_write(self, installation_id: int, now: float | None = None) -> float:
        """Book one content-creating request; the seconds to wait before sending it.

        The slot is the earliest time, not before ``now`` nor before a Retry-After or primary
        reset, at least ``min_interval`` after the previous booking, at which the sliding
        minute and hour each hold fewer than their ceiling. Bookings are never reordered, so
        every window stays within its ceiling.
        """
        ceilings = self.ceilings

        def work(session: Session) -> float:
            at = self._db.clock.now() if now is None else now
            row = self._locked_row(session, installation_id, at)
            session.execute(
                delete(RateWriteRow).where(
                    RateWriteRow.installation_id == installation_id,
                    RateWriteRow.at <= at - HOUR,
                )
            )
            depth = max(ceilings.per_minute, ceilings.per_hour)
            recent = list(
                session.scalars(
                    select(RateWriteRow.at)
                    .where(RateWriteRow.installation_id == installation_id)
                    .order_by(RateWriteRow.at.desc())
                    .limit(depth)
                )
            )
            slot = max(at, row.retry_after_until, self._primary_until(row, at))
            if recent:
                slot = max(slot, recent[0] + ceilings.min_interval)
            if len(recent) >= ceilings.per_minute:
                slot = max(slot, recent[ceilings.per_minute - 1] + MINUTE)
            if len(recent) >= ceilings.per_hour:
                slot = max(slot, recent[ceilings.per_hour - 1] + HOUR)
            session.add(RateWriteRow(installation_id=installation_id, at=slot))
            row.updated_at = at
            return slot - at

        return self._db.write(work)

    @staticmethod
    def _primary_until(row: RateBudgetRow, now: float) -> float:
        exhausted = row.primary_remaining is not None and row.primary_remaining <= 0
        if exhausted and row.primary_reset is not None and row.primary_reset > now:
            return row.primary_reset + 1.0
        return now

    def wait_before_read(self, installation_id: int, now: float | None = None) -> float:
        """Seconds any request must wait for a Retry-After or an exhausted primary budget."""
        at = self._db.clock.now() if now is None else now
        with self._db.reading() as session:
            row = session.get(RateBudgetRow, installation_id)
            if row is None:
                return 0.0
            return max(row.retry_after_until, self._primary_until(row, at)) - at

    def note_retry_after(self, installation_id: int, until: float) -> None:
        """GitHub said to wait until ``until`` (epoch seconds): every worker waits."""

        def work(session: Session) -> None:
            now = self._db.clock.now()
            row = self._locked_row(session, installation_id, now)
            row.retry_after_until = max(row.retry_after_until, until)
            row.updated_at = now

        self._db.write(work)

    def note_primary(self, installation_id: int, remaining: int, reset: float) -> None:
        """What a response's ``X-RateLimit-Remaining`` and ``-Reset`` said."""

        def work(session: Session) -> None:
            now = self._db.clock.now()
            row = self._locked_row(session, installation_id, now)
            row.primary_remaining = remaining
            row.primary_reset = reset
            row.updated_at = now

        self._db.write(work)

    def writes_between(self, installation_id: int, start: float, end: float) -> int:
        """Bookings with ``start < at <= end`` (for tests and the dashboard)."""
        with self._db.reading() as session:
            return len(
                session.scalars(
                    select(RateWriteRow.id).where(
                        RateWriteRow.installation_id == installation_id,
                        RateWriteRow.at > start,
                        RateWriteRow.at <= end,
                    )
                ).all()
            )
