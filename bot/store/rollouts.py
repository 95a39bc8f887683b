"""Rollouts in the store: each template version's state machine state, its waves, and every
transition with its cause, written together in one transaction.

A transition is saved against the revision it was computed from (optimistic locking: a
concurrent writer makes it fail with `RolloutConflictError`, to be recomputed), and an event
with an ``event_key`` (a delivery id, a command's comment id) is saved once: the second time
`record_transition` answers False and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.rollout.state import RolloutState
from bot.store._db import Database
from bot.store.errors import StoreError
from bot.store.models import RolloutRow, RolloutTransitionRow, RolloutWaveRow

__all__ = ["RolloutConflictError", "RolloutRecords", "StoredRollout", "TransitionRecord"]


class RolloutConflictError(StoreError):
    """The rollout changed since it was read: read it again and re-apply the event."""


@dataclass(frozen=True)
class StoredRollout:
    key: str
    state: RolloutState
    revision: int
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class TransitionRecord:
    revision: int
    event: str
    detail: dict[str, Any]
    change: str
    cause: str
    event_key: str | None
    at: float


def _stored(row: RolloutRow) -> StoredRollout:
    return StoredRollout(
        row.key, RolloutState.from_json(row.state), row.revision, row.created_at, row.updated_at
    )


class RolloutRecords:
    """Rollout reads and writes (a part of `bot.store.Store`)."""

    _db: Database

    def create_rollout(self, state: RolloutState, *, cause: str) -> StoredRollout:
        """Store a new rollout (revision 0). Storing one that exists returns it unchanged."""

        def work(session: Session) -> StoredRollout:
            row = session.scalar(select(RolloutRow).where(RolloutRow.key == state.id))
            if row is not None:
                return _stored(row)
            now = self._db.clock.now()
            row = RolloutRow(
                key=state.id,
                template=state.template,
                version=state.version,
                status=state.status,
                revision=0,
                state=state.to_json(),
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            self._write_waves(session, row.id, state)
            self._db.audit(
                session,
                f"rollout:{state.id}",
                f"created: {state.status}, {len(state.waves)} waves, "
                f"{len(state.consumers)} consumers",
                cause,
            )
            return _stored(row)

        return self._db.write(work)

    def rollout(self, key: str) -> StoredRollout | None:
        with self._db.reading() as session:
            row = session.scalar(select(RolloutRow).where(RolloutRow.key == key))
            return None if row is None else _stored(row)

    def rollouts(
        self, *, template: str | None = None, status: str | None = None
    ) -> list[StoredRollout]:
        """Rollouts oldest first, optionally of one template or in one status."""
        with self._db.reading() as session:
            query = select(RolloutRow)
            if template is not None:
                query = query.where(RolloutRow.template == template)
            if status is not None:
                query = query.where(RolloutRow.status == status)
            rows = session.scalars(query.order_by(RolloutRow.created_at, RolloutRow.id))
            return [_stored(row) for row in rows]

    def record_transition(
        self,
        key: str,
        *,
        revision: int,
        state: RolloutState,
        event: str,
        detail: dict[str, Any],
        change: str,
        cause: str,
        event_key: str | None = None,
    ) -> bool:
        """Save ``state``, computed from ``revision``, as the result of ``event``.

        False (nothing written) when ``event_key`` was recorded for this rollout before;
        `RolloutConflictError` when the rollout is no longer at ``revision``.
        """

        def work(session: Session) -> bool:
            row = session.scalar(select(RolloutRow).where(RolloutRow.key == key).with_for_update())
            if row is None:
                raise StoreError(f"{self._db.url}: no rollout {key} is stored")
            if event_key is not None:
                seen = session.scalar(
                    select(RolloutTransitionRow.id).where(
                        RolloutTransitionRow.rollout_id == row.id,
                        RolloutTransitionRow.event_key == event_key,
                    )
                )
                if seen is not None:
                    return False
            if row.revision != revision:
                raise RolloutConflictError(
                    f"{self._db.url}: rollout {key} is at revision {row.revision}, "
                    f"not {revision}: another worker moved it; read it again"
                )
            now = self._db.clock.now()
            row.revision = revision + 1
            row.status = state.status
            row.state = state.to_json()
            row.updated_at = now
            session.add(
                RolloutTransitionRow(
                    rollout_id=row.id,
                    revision=row.revision,
                    event=event,
                    detail=detail,
                    change=change,
                    cause=cause,
                    event_key=event_key,
                    at=now,
                )
            )
            self._write_waves(session, row.id, state)
            self._db.audit(session, f"rollout:{key}", f"{event}: {change}", cause)
            return True

        return self._db.write(work)

    def rollout_transitions(self, key: str) -> list[TransitionRecord]:
        """Every transition of rollout ``key``, oldest first."""
        with self._db.reading() as session:
            rows = session.scalars(
                select(RolloutTransitionRow)
                .join(RolloutRow, RolloutTransitionRow.rollout_id == RolloutRow.id)
                .where(RolloutRow.key == key)
                .order_by(RolloutTransitionRow.revision)
            )
            return [
                TransitionRecord(
                    r.revision, r.event, r.detail, r.change, r.cause, r.event_key, r.at
                )
                for r in rows
            ]

    def _write_waves(self, session: Session, rollout: int, state: RolloutState) -> None:
        session.execute(delete(RolloutWaveRow).where(RolloutWaveRow.rollout_id == rollout))
        for position, wave in enumerate(state.waves):
            session.add(
                RolloutWaveRow(
                    rollout_id=rollout,
                    position=position,
                    number=wave.number,
                    status=wave.status,
                    consumers=len(state.in_wave(position)),
                    opened_at=wave.opened_at,
                    bake_until=wave.bake_until,
                )
            )
