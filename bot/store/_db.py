"""The store's one connection to its database: sessions for readers and writers, the clock,
and the translation of driver errors into `StoreError` messages that name the database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.store.engine import WRITE, display_url
from bot.store.errors import StoreError
from bot.store.models import AuditEntry

T = TypeVar("T")

# A write that met a concurrent insert of the same unique key is run again this many times.
_CONFLICT_RETRIES = 5


class Database:
    """An engine, a clock and the two kinds of session the store's parts use."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.url = display_url(engine.url)
        self.is_postgresql = engine.dialect.name == "postgresql"
        self._readers = sessionmaker(engine, expire_on_commit=False)
        self._writers = sessionmaker(
            engine.execution_options(**{WRITE: True}), expire_on_commit=False
        )

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only (a plain, deferred transaction)."""
        try:
            with self._readers() as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise self.error("read", exc) from None

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one write transaction (``BEGIN IMMEDIATE`` on SQLite), committed when
        it returns. A unique-key race with another writer (PostgreSQL) runs it again."""
        for attempt in range(_CONFLICT_RETRIES):
            try:
                with self._writers() as session, session.begin():
                    return work(session)
            except IntegrityError as exc:
                if attempt == _CONFLICT_RETRIES - 1:
                    raise self.error("write", exc) from None
            except (OperationalError, SQLAlchemyError) as exc:
                raise self.error("write", exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def error(self, doing: str, exc: SQLAlchemyError) -> StoreError:
        original = getattr(exc, "orig", None)
        reason = str(original if original is not None else exc).strip()
        reason = reason.splitlines()[0] if reason else type(exc).__name__
        return StoreError(f"{self.url}: cannot {doing} the store: {reason}")

    def audit(self, session: Session, entity: str, change: str, cause: str) -> None:
        """Append one entry to the audit log inside ``session``'s transaction."""
        session.add(AuditEntry(at=self.clock.now(), entity=entity, change=change, cause=cause))
