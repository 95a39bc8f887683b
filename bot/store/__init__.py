"""The store: what evobot remembers (installations, templates, consumers, PRs, deliveries, the
audit log), its work queue and the shared GitHub rate budget, in SQLite or PostgreSQL.

`Store.open(url)` is the way in; `database_url()` picks the URL (``EVOBOT_DATABASE_URL``, else a
SQLite file in the state directory). docs/store.md describes the API and the guarantees.
"""

from __future__ import annotations

from bot.store.engine import (
    DATABASE_URL_ENV,
    STATE_DIR_ENV,
    create_engine_for,
    database_url,
    default_state_dir,
    display_url,
)
from bot.store.errors import DatabaseTooNewError, LeaseLostError, StoreError
from bot.store.queue import Job, JobState, QueueStats, RetryPolicy
from bot.store.ratebudget import RateBudgetStore, RateCeilings
from bot.store.records import (
    AuditRecord,
    Consumer,
    Delivery,
    EvolutionPr,
    Installation,
    RevertPr,
    Template,
)
from bot.store.rollouts import RolloutConflictError, StoredRollout, TransitionRecord
from bot.store.schema import SchemaStatus, check_schema, head_revision, schema_status, upgrade
from bot.store.store import Store

__all__ = [
    "DATABASE_URL_ENV",
    "STATE_DIR_ENV",
    "AuditRecord",
    "Consumer",
    "DatabaseTooNewError",
    "Delivery",
    "EvolutionPr",
    "Installation",
    "Job",
    "JobState",
    "LeaseLostError",
    "QueueStats",
    "RateBudgetStore",
    "RateCeilings",
    "RetryPolicy",
    "RevertPr",
    "RolloutConflictError",
    "SchemaStatus",
    "Store",
    "StoreError",
    "StoredRollout",
    "Template",
    "TransitionRecord",
    "check_schema",
    "create_engine_for",
    "database_url",
    "default_state_dir",
    "display_url",
    "head_revision",
    "schema_status",
    "upgrade",
]
