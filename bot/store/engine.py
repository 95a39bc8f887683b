"""Which database, and how to talk to it: URL resolution and engines tuned per engine kind.

SQLite (the default: a file in the state directory, nothing to install) runs in WAL mode with a
busy timeout and foreign keys on; its transactions are begun by evobot itself, so a writer can
say ``BEGIN IMMEDIATE`` and take the one write lock before it reads (the SQLAlchemy recipe for
pysqlite's transaction control). PostgreSQL (``EVOBOT_DATABASE_URL``) serves several replicas.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

from bot.store.errors import StoreError

__all__ = [
    "DATABASE_URL_ENV",
    "STATE_DIR_ENV",
    "WRITE",
    "create_engine_for",
    "database_url",
    "default_state_dir",
    "display_url",
]

DATABASE_URL_ENV = "EVOBOT_DATABASE_URL"
STATE_DIR_ENV = "EVOBOT_STATE_DIR"
DATABASE_FILE = "evobot.db"

# Execution option a writer's engine carries: on SQLite its transactions begin IMMEDIATE.
WRITE = "evobot_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$EVOBOT_STATE_DIR``, else ``$XDG_STATE_HOME/evobot``, else ``~/.local/state/evobot``."""
    env = os.environ if environ is None else environ
    if env.get(STATE_DIR_ENV):
        return Path(env[STATE_DIR_ENV]).expanduser()
    xdg = env.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "evobot"


def database_url(
    explicit: str | None = None,
    *,
    state_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The database to use: ``explicit``, else ``$EVOBOT_DATABASE_URL``, else a SQLite file
    ``evobot.db`` in the state directory."""
    env = os.environ if environ is None else environ
    chosen = explicit or env.get(DATABASE_URL_ENV)
    if chosen:
        return chosen
    directory = state_dir if state_dir is not None else default_state_dir(env)
    return f"sqlite+pysqlite:///{directory / DATABASE_FILE}"


def display_url(url: str | URL) -> str:
    """The URL with its password hidden, fit for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<a database URL that cannot be parsed>"


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"{DATABASE_URL_ENV} or --database-url: {url!r} is not a database URL",
            hint="use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB",
        ) from None
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        # psycopg 3 is the driver evobot installs; a bare postgresql:// would pick psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"{display_url(parsed)}: evobot's store runs on SQLite or PostgreSQL, "
            f"not {parsed.get_backend_name()}"
        )
    return parsed


def create_engine_for(url: str) -> Engine:
    """An engine for ``url`` (SQLite or PostgreSQL), configured for the store's locking.

    A SQLite file's directory is created when missing; an in-memory SQLite database is refused
    (each connection would see a different, empty database).
    """
    parsed = _parse(url)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        raise StoreError(
            f"{display_url(parsed)}: an in-memory SQLite database cannot be shared by the "
            "service and its workers; give a file path"
        )
    path = Path(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{path.parent}: cannot create the database's directory: {exc}") from None
    engine = create_engine(
        parsed.set(drivername="sqlite+pysqlite"),
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )
    _take_over_sqlite_transactions(engine)
    return engine


def _take_over_sqlite_transactions(engine: Engine) -> None:
    """pysqlite begins transactions lazily and never IMMEDIATE; evobot begins them itself."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # the driver's autocommit: no implicit BEGIN
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
