"""The store's tables as typed SQLAlchemy 2 ORM classes (the migrations create exactly these).

Times are seconds since the epoch (UTC) as double-precision numbers, taken from an injected
`bot.clock.Clock`, so the same comparisons hold on SQLite and PostgreSQL and tests move time.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AuditEntry",
    "Base",
    "ConsumerRow",
    "DeliveryRow",
    "EvolutionPrRow",
    "InstallationRow",
    "JobRow",
    "RateBudgetRow",
    "RateWriteRow",
    "RevertPrRow",
    "RolloutRow",
    "RolloutTransitionRow",
    "RolloutWaveRow",
    "TemplateRow",
]

# Constraint names fixed by convention, so migrations can name what they alter on both engines.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, float: Double}


class InstallationRow(Base):
    """A GitHub App installation (its id is GitHub's)."""

    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account: Mapped[str] = mapped_column(String(255))
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float]
    updated_at: Mapped[float]


class TemplateRow(Base):
    """A template the bot evolves consumers of: its name, where it lives, its newest version."""

    __tablename__ = "templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    source: Mapped[str] = mapped_column(Text)
    latest_version: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[float]
    updated_at: Mapped[float]


class ConsumerRow(Base):
    """A repository generated from a template, and where it is in the rollout."""

    __tablename__ = "consumers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo: Mapped[str] = mapped_column(String(255), unique=True)
    installation_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("installations.id"), index=True
    )
    template_id: Mapped[int] = mapped_column(Integer, ForeignKey("templates.id"), index=True)
    current_version: Mapped[str | None] = mapped_column(String(255))
    ring: Mapped[str | None] = mapped_column(String(32))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float]
    updated_at: Mapped[float]


class EvolutionPrRow(Base):
    """An evolution pull request the bot opened in a consumer repository."""

    __tablename__ = "evolution_prs"
    __table_args__ = (UniqueConstraint("repo", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo: Mapped[str] = mapped_column(String(255), index=True)
    number: Mapped[int]
    branch: Mapped[str] = mapped_column(String(255))
    template_version: Mapped[str | None] = mapped_column(String(255))
    head_sha: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    check_state: Mapped[str | None] = mapped_column(String(16))
    merge_commit: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[float]
    updated_at: Mapped[float]


class RevertPrRow(Base):
    """A pull request reverting an evolution that broke a consumer's default branch."""

    __tablename__ = "revert_prs"
    __table_args__ = (UniqueConstraint("repo", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo: Mapped[str] = mapped_column(String(255), index=True)
    number: Mapped[int]
    branch: Mapped[str] = mapped_column(String(255))
    reverts_commit: Mapped[str] = mapped_column(String(64))
    evolution_pr: Mapped[int | None]
    head_sha: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    check_state: Mapped[str | None] = mapped_column(String(16))
    merge_commit: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[float]
    updated_at: Mapped[float]


class DeliveryRow(Base):
    """A webhook delivery as GitHub sent it; its delivery id is the idempotency key."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    installation_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[float]
    processed_at: Mapped[float | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)


class JobRow(Base):
    """One unit of work in the queue (a table, not a broker).

    ``state`` is ``queued`` → ``running`` (held under a lease) → ``done`` | ``failed``; a failed
    attempt goes back to ``queued`` with a later ``run_after`` until ``max_attempts``. At most
    one job per ``key`` is ``running``: the partial unique index enforces it on both engines.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_claimable", "state", "run_after"),
        Index(
            "uq_jobs_one_running_per_key",
            "key",
            unique=True,
            sqlite_where=text("state = 'running'"),
            postgresql_where=text("state = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str | None] = mapped_column(String(255))
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    payload: Mapped[dict[str, Any]]
    delivery_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("deliveries.delivery_id"), index=True
    )
    state: Mapped[str] = mapped_column(String(16))
    run_after: Mapped[float]
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_expires: Mapped[float | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int]
    outcome: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float]
    updated_at: Mapped[float]
    finished_at: Mapped[float | None]


class RateBudgetRow(Base):
    """One installation's shared GitHub budget: the row every reserver of it locks."""

    __tablename__ = "rate_budget"

    installation_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    retry_after_until: Mapped[float] = mapped_column(Double, default=0.0)
    primary_remaining: Mapped[int | None]
    primary_reset: Mapped[float | None]
    updated_at: Mapped[float]


class RateWriteRow(Base):
    """A content-creating request reserved at ``at`` (kept for the sliding hour)."""

    __tablename__ = "rate_writes"
    __table_args__ = (Index("ix_rate_writes_installation_at", "installation_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("rate_budget.installation_id")
    )
    at: Mapped[float]


class AuditEntry(Base):
    """One state change and its cause (``delivery:<id>``, ``command:<text>``, ``cli:<cmd>``).

    Append-only: triggers refuse UPDATE and DELETE on both engines.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[float] = mapped_column(index=True)
    entity: Mapped[str] = mapped_column(String(255), index=True)
    change: Mapped[str] = mapped_column(Text)
    cause: Mapped[str] = mapped_column(String(255))


class RolloutRow(Base):
    """One template version's rollout: its state machine's state as JSON, with the columns a
    dashboard filters on. ``revision`` grows with every transition (optimistic locking)."""

    __tablename__ = "rollouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    template: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[dict[str, Any]]
    created_at: Mapped[float]
    updated_at: Mapped[float]


class RolloutWaveRow(Base):
    """One wave of a rollout as of its last transition (kept in step with ``rollouts.state``)."""

    __tablename__ = "rollout_waves"
    __table_args__ = (UniqueConstraint("rollout_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rollout_id: Mapped[int] = mapped_column(Integer, ForeignKey("rollouts.id"), index=True)
    position: Mapped[int]
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    consumers: Mapped[int]
    opened_at: Mapped[float | None]
    bake_until: Mapped[float | None]


class RolloutTransitionRow(Base):
    """One event applied to a rollout, what it changed and its cause. ``event_key`` (a delivery
    id, a command's comment id) makes an event count once: a second one is refused."""

    __tablename__ = "rollout_transitions"
    __table_args__ = (UniqueConstraint("rollout_id", "event_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rollout_id: Mapped[int] = mapped_column(Integer, ForeignKey("rollouts.id"), index=True)
    revision: Mapped[int]
    event: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]]
    change: Mapped[str] = mapped_column(Text)
    cause: Mapped[str] = mapped_column(String(255))
    event_key: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[float]
