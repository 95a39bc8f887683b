"""Databases for the store's tests: a SQLite file always, a fresh PostgreSQL database per test
when EVOBOT_TEST_POSTGRES_URL names a server (its role needs CREATEDB)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_ENV = "EVOBOT_TEST_POSTGRES_URL"
NO_POSTGRES = (
    f"{POSTGRES_ENV} is not set: no PostgreSQL server to test against (.ci/run starts one)"
)


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the test server; dropped afterwards."""
    base = postgres_url()
    if base is None:
        pytest.skip(NO_POSTGRES)
    name = f"evobot_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'evobot.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url
