"""`Store`: the one object the service, the workers and the CLI hold to reach the database."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.clock import Clock, SystemClock
from bot.store._db import Database
from bot.store.engine import create_engine_for
from bot.store.queue import JobQueue, RetryPolicy
from bot.store.ratebudget import RateBudgetStore, RateCeilings
from bot.store.records import Records
from bot.store.rollouts import RolloutRecords
from bot.store.schema import SchemaStatus, check_schema, upgrade

__all__ = ["Store"]


class Store(Records, JobQueue, RolloutRecords):
    """Records, rollouts, the job queue and the shared rate budget over one database.

    Open it with `Store.open`; every time it stores comes from ``clock``. Safe to share
    between threads (each call runs in its own transaction); open one per process.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock | None = None,
        retry_policy: RetryPolicy | None = None,
        rate_ceilings: RateCeilings | None = None,
    ) -> None:
        self._db = Database(engine, clock or SystemClock())
        self.retry_policy = retry_policy or RetryPolicy()
        self.rate_budget = RateBudgetStore(self._db, rate_ceilings)

    @classmethod
    def open(
        cls,
        url: str,
        *,
        clock: Clock | None = None,
        upgrade_schema: bool = True,
        retry_policy: RetryPolicy | None = None,
        rate_ceilings: RateCeilings | None = None,
    ) -> Store:
        """Open the database at ``url``: upgrade it to this evobot's schema (the service does on
        start) or, with ``upgrade_schema=False``, only check it. Either way a database that a
        newer evobot migrated raises `DatabaseTooNewError`, with one line saying so."""
        engine = create_engine_for(url)
        if upgrade_schema:
            upgrade(engine)
        else:
            check_schema(engine)
        return cls(engine, clock=clock, retry_policy=retry_policy, rate_ceilings=rate_ceilings)

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._db.url

    @property
    def engine(self) -> Engine:
        return self._db.engine

    def schema(self) -> SchemaStatus:
        return check_schema(self._db.engine)

    def close(self) -> None:
        """Close the pool's connections (the store is unusable afterwards)."""
        self._db.engine.dispose()
