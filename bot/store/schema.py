"""The store's schema version: upgrade to this evobot's newest, and refuse a newer database.

Alembic runs programmatically from the migrations shipped in ``bot/store/migrations`` (no
alembic.ini). On PostgreSQL an advisory lock makes replicas starting together upgrade one at a
time; on SQLite the upgrade runs in one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot import __version__
from bot.store.engine import WRITE, display_url
from bot.store.errors import DatabaseTooNewError, StoreError

__all__ = ["SchemaStatus", "check_schema", "head_revision", "schema_status", "upgrade"]

# Any constant will do: replicas of evobot agree on it, nothing else in the database uses it.
_UPGRADE_LOCK = 0x65766F626F74  # "evobot"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", "bot.store:migrations")
    return config


def head_revision() -> str:
    """The newest schema revision this evobot knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise StoreError("evobot's store migrations are missing from the installed package")
    return head


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database stands: its revision (``None`` when empty) and this evobot's head."""

    url: str
    current: str | None
    head: str
    known: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        """One line for people."""
        if not self.known:
            return _too_new_message(self)
        if self.current is None:
            return f"{self.url}: empty (no schema yet); `evobot db upgrade` creates {self.head}"
        if self.up_to_date:
            return f"{self.url}: at revision {self.current} (the newest this evobot knows)"
        return (
            f"{self.url}: at revision {self.current}; `evobot db upgrade` brings it to {self.head}"
        )


def _too_new_message(status: SchemaStatus) -> str:
    return (
        f"{status.url}: the database is at schema revision {status.current}, which this evobot "
        f"({__version__}, newest revision {status.head}) does not know: a newer evobot migrated "
        "it; run that version (or newer) against this database"
    )


def schema_status(engine: Engine) -> SchemaStatus:
    """Read the database's revision (creates nothing)."""
    url = display_url(engine.url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(f"{url}: cannot read the database: {_reason(exc)}") from None
    script = ScriptDirectory.from_config(_config())
    known = current is None or _knows(script, current)
    return SchemaStatus(url=url, current=current, head=head_revision(), known=known)


def _knows(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown id (ResolutionError, ...)
        return False


def check_schema(engine: Engine) -> SchemaStatus:
    """Raise `DatabaseTooNewError` for a database a newer evobot migrated; else its status."""
    status = schema_status(engine)
    if not status.known:
        raise DatabaseTooNewError(
            _too_new_message(status), hint="or point EVOBOT_DATABASE_URL at another database"
        )
    return status


def upgrade(engine: Engine) -> SchemaStatus:
    """Bring the database to this evobot's newest revision (idempotent, safe to race)."""
    check_schema(engine)
    config = _config()
    url = display_url(engine.url)
    try:
        with engine.execution_options(**{WRITE: True}).connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _UPGRADE_LOCK})
                connection.commit()
            try:
                with connection.begin():
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
            finally:
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _UPGRADE_LOCK})
                    connection.commit()
    except SQLAlchemyError as exc:
        raise StoreError(f"{url}: cannot upgrade the database: {_reason(exc)}") from None
    return check_schema(engine)


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own words, first line only (SQLAlchemy appends SQL and a link)."""
    original = getattr(exc, "orig", None)
    text_ = str(original if original is not None else exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__
