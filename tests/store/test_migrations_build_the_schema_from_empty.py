"""`evobot db upgrade` builds the schema from nothing on SQLite and PostgreSQL, is idempotent,
matches the models exactly, and a database a newer evobot migrated is refused in one line."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from bot.store import DatabaseTooNewError, Store, create_engine_for, head_revision, schema_status
from bot.store.models import Base
from bot.store.schema import upgrade


def test_upgrade_from_empty_creates_every_table_at_the_head(db_url: str) -> None:
    engine = create_engine_for(db_url)
    assert schema_status(engine).current is None

    status = upgrade(engine)
    again = upgrade(engine)

    assert status.current == again.current == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    engine.dispose()


def test_a_database_from_a_newer_evobot_is_refused_in_one_line(db_url: str) -> None:
    engine = create_engine_for(db_url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))

    with pytest.raises(DatabaseTooNewError) as raised:
        Store.open(db_url)

    message = raised.value.message
    assert "\n" not in message
    assert "9999_future" in message and "a newer evobot migrated it" in message
    engine.dispose()


def test_the_audit_log_is_append_only(store: Store) -> None:
    store.append_audit("consumer:acme/billing", "paused", "command:/evobot pause")

    for statement in ("UPDATE audit_log SET change = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.execute(text(statement))

    assert [entry.change for entry in store.audit_log()] == ["paused"]


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    store = Store.open(f"sqlite:///{tmp_path / 'evobot.db'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    store.close()
