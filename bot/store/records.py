"""What the bot remembers about the fleet: installations, templates, consumers, evolution and
revert PRs, webhook deliveries and the audit log. Every change is audited with its cause.

Records come back as frozen dataclasses, never as live ORM rows, so nothing outside the store
holds a session. Upserts write only when something changed, and say what changed in the audit
log (``state: open -> merged``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.store._db import Database
from bot.store.errors import StoreError
from bot.store.models import (
    AuditEntry,
    Base,
    ConsumerRow,
    DeliveryRow,
    EvolutionPrRow,
    InstallationRow,
    JobRow,
    RevertPrRow,
    TemplateRow,
)

__all__ = [
    "AuditRecord",
    "Consumer",
    "Delivery",
    "EvolutionPr",
    "Installation",
    "Records",
    "RevertPr",
    "Template",
]

R = TypeVar("R")

DELIVERY_JOB_KIND = "delivery"
DEFAULT_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Installation:
    id: int
    account: str
    suspended: bool
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Template:
    id: int
    name: str
    source: str
    latest_version: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Consumer:
    id: int
    repo: str
    installation_id: int | None
    template: str
    current_version: str | None
    ring: str | None
    paused: bool
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class EvolutionPr:
    repo: str
    number: int
    branch: str
    template_version: str | None
    head_sha: str | None
    state: str
    check_state: str | None
    merge_commit: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class RevertPr:
    repo: str
    number: int
    branch: str
    reverts_commit: str
    evolution_pr: int | None
    head_sha: str | None
    state: str
    check_state: str | None
    merge_commit: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    payload: str
    received_at: float
    processed_at: float | None
    attempts: int
    outcome: str | None
    error: str | None


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: float
    entity: str
    change: str
    cause: str


def _record(cls: type[R], row: Base, **extra: Any) -> R:
    values = {f.name: getattr(row, f.name) for f in fields(cls) if f.name not in extra}  # type: ignore[arg-type]
    return cls(**values, **extra)


def _apply(row: Base, values: dict[str, Any]) -> list[str]:
    """Set ``values`` on ``row``; the audit text of each field that changed."""
    changes = []
    for name, new in values.items():
        old = getattr(row, name)
        if old != new:
            changes.append(f"{name}: {old!r} -> {new!r}")
            setattr(row, name, new)
    return changes


class Records:
    """Typed reads and audited upserts of the bot's records (a part of `bot.store.Store`)."""

    _db: Database

    # -- deliveries --------------------------------------------------------------------------

    def record_delivery(
        self,
        delivery_id: str,
        event: str,
        action: str | None,
        installation_id: int | None,
        payload: str,
        *,
        job_key: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> bool:
        """Store a webhook delivery and enqueue the job that processes it, in one transaction.

        ``False`` (and nothing written) when this delivery id is already stored: a redelivery
        is acknowledged but never processed twice. ``job_key`` serializes the job with other
        work on the same key (``repo:owner/name``); the job's kind is ``delivery`` and its
        payload ``{"delivery_id": ...}``.
        """

        def work(session: Session) -> bool:
            now = self._db.clock.now()
            values = {
                "delivery_id": delivery_id,
                "event": event,
                "action": action,
                "installation_id": installation_id,
                "payload": payload,
                "received_at": now,
                "attempts": 0,
            }
            dialect = postgresql if self._db.is_postgresql else sqlite
            inserted = session.execute(
                dialect.insert(DeliveryRow)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["delivery_id"])
                .returning(DeliveryRow.id)
            ).first()
            if inserted is None:
                return False
            session.add(
                JobRow(
                    kind=DELIVERY_JOB_KIND,
                    key=job_key,
                    dedupe_key=f"delivery:{delivery_id}",
                    payload={"delivery_id": delivery_id},
                    delivery_id=delivery_id,
                    state="queued",
                    run_after=now,
                    attempts=0,
                    max_attempts=max_attempts,
                    created_at=now,
                    updated_at=now,
                )
            )
            return True

        return self._db.write(work)

    def delivery(self, delivery_id: str) -> Delivery | None:
        with self._db.reading() as session:
            row = session.scalar(select(DeliveryRow).where(DeliveryRow.delivery_id == delivery_id))
            return None if row is None else _record(Delivery, row)

    def deliveries(self, *, limit: int = 100) -> list[Delivery]:
        """The newest deliveries first."""
        with self._db.reading() as session:
            rows = session.scalars(
                select(DeliveryRow)
                .order_by(DeliveryRow.received_at.desc(), DeliveryRow.id.desc())
                .limit(limit)
            )
            return [_record(Delivery, row) for row in rows]

    # -- installations and templates ---------------------------------------------------------

    def upsert_installation(
        self, installation_id: int, account: str, *, suspended: bool = False, cause: str
    ) -> Installation:
        def work(session: Session) -> Installation:
            now = self._db.clock.now()
            row = session.get(InstallationRow, installation_id)
            values = {"account": account, "suspended": suspended}
            entity = f"installation:{installation_id}"
            if row is None:
                row = InstallationRow(id=installation_id, created_at=now, updated_at=now, **values)
                session.add(row)
                self._db.audit(session, entity, f"created: {account}", cause)
            elif changes := _apply(row, values):
                row.updated_at = now
                self._db.audit(session, entity, "; ".join(changes), cause)
            session.flush()
            return _record(Installation, row)

        return self._db.write(work)

    def installation(self, installation_id: int) -> Installation | None:
        with self._db.reading() as session:
            row = session.get(InstallationRow, installation_id)
            return None if row is None else _record(Installation, row)

    def upsert_template(
        self, name: str, source: str, *, latest_version: str | None = None, cause: str
    ) -> Template:
        def work(session: Session) -> Template:
            now = self._db.clock.now()
            row = session.scalar(select(TemplateRow).where(TemplateRow.name == name))
            values = {"source": source, "latest_version": latest_version}
            entity = f"template:{name}"
            if row is None:
                row = TemplateRow(name=name, created_at=now, updated_at=now, **values)
                session.add(row)
                self._db.audit(session, entity, f"created: {source} {latest_version}", cause)
            elif changes := _apply(row, values):
                row.updated_at = now
                self._db.audit(session, entity, "; ".join(changes), cause)
            session.flush()
            return _record(Template, row)

        return self._db.write(work)

    def template(self, name: str) -> Template | None:
        with self._db.reading() as session:
            row = session.scalar(select(TemplateRow).where(TemplateRow.name == name))
            return None if row is None else _record(Template, row)

    # -- consumers ---------------------------------------------------------------------------

    def upsert_consumer(
        self,
        repo: str,
        *,
        template: str,
        installation_id: int | None = None,
        current_version: str | None = None,
        ring: str | None = None,
        paused: bool = False,
        cause: str,
    ) -> Consumer:
        """Create or update the consumer ``repo`` (every field as given). ``template`` names a
        template already stored (`upsert_template`)."""

        def work(session: Session) -> Consumer:
            now = self._db.clock.now()
            template_row = session.scalar(select(TemplateRow).where(TemplateRow.name == template))
            if template_row is None:
                raise self._unknown_template(template, repo)
            row = session.scalar(select(ConsumerRow).where(ConsumerRow.repo == repo))
            values = {
                "template_id": template_row.id,
                "installation_id": installation_id,
                "current_version": current_version,
                "ring": ring,
                "paused": paused,
            }
            entity = f"consumer:{repo}"
            if row is None:
                row = ConsumerRow(repo=repo, created_at=now, updated_at=now, **values)
                session.add(row)
                self._db.audit(
                    session, entity, f"created: {template} {current_version} ring={ring}", cause
                )
            elif changes := _apply(row, values):
                row.updated_at = now
                self._db.audit(session, entity, "; ".join(changes), cause)
            session.flush()
            return _record(Consumer, row, template=template)

        return self._db.write(work)

    def set_consumer_paused(self, repo: str, paused: bool, *, cause: str) -> Consumer:
        return self._update_consumer(repo, {"paused": paused}, cause)

    def set_consumer_version(self, repo: str, version: str | None, *, cause: str) -> Consumer:
        return self._update_consumer(repo, {"current_version": version}, cause)

    def _update_consumer(self, repo: str, values: dict[str, Any], cause: str) -> Consumer:
        def work(session: Session) -> Consumer:
            row = session.scalar(select(ConsumerRow).where(ConsumerRow.repo == repo))
            if row is None:
                raise StoreError(f"{self._db.url}: no consumer {repo} is stored")
            if changes := _apply(row, values):
                row.updated_at = self._db.clock.now()
                self._db.audit(session, f"consumer:{repo}", "; ".join(changes), cause)
            name = session.get_one(TemplateRow, row.template_id).name
            return _record(Consumer, row, template=name)

        return self._db.write(work)

    def consumer(self, repo: str) -> Consumer | None:
        found = self._consumers(repo=repo)
        return found[0] if found else None

    def consumers(self, *, template: str | None = None) -> list[Consumer]:
        """Consumers by repository name, optionally only those of one template."""
        return self._consumers(template=template)

    def _consumers(self, *, repo: str | None = None, template: str | None = None) -> list[Consumer]:
        with self._db.reading() as session:
            query = select(ConsumerRow, TemplateRow.name).join(
                TemplateRow, ConsumerRow.template_id == TemplateRow.id
            )
            if repo is not None:
                query = query.where(ConsumerRow.repo == repo)
            if template is not None:
                query = query.where(TemplateRow.name == template)
            rows = session.execute(query.order_by(ConsumerRow.repo)).all()
            return [_record(Consumer, row, template=name) for row, name in rows]

    def _unknown_template(self, template: str, repo: str) -> StoreError:
        return StoreError(
            f"{self._db.url}: consumer {repo} names template {template!r}, which is not stored",
            hint="store the template first (upsert_template)",
        )

    # -- pull requests -----------------------------------------------------------------------

    def upsert_evolution_pr(
        self,
        repo: str,
        number: int,
        *,
        branch: str,
        state: str,
        template_version: str | None = None,
        head_sha: str | None = None,
        check_state: str | None = None,
        merge_commit: str | None = None,
        cause: str,
    ) -> EvolutionPr:
        values = {
            "branch": branch,
            "state": state,
            "template_version": template_version,
            "head_sha": head_sha,
            "check_state": check_state,
            "merge_commit": merge_commit,
        }
        return self._upsert_pr(EvolutionPrRow, EvolutionPr, repo, number, values, cause)

    def upsert_revert_pr(
        self,
        repo: str,
        number: int,
        *,
        branch: str,
        reverts_commit: str,
        state: str,
        evolution_pr: int | None = None,
        head_sha: str | None = None,
        check_state: str | None = None,
        merge_commit: str | None = None,
        cause: str,
    ) -> RevertPr:
        values = {
            "branch": branch,
            "reverts_commit": reverts_commit,
            "state": state,
            "evolution_pr": evolution_pr,
            "head_sha": head_sha,
            "check_state": check_state,
            "merge_commit": merge_commit,
        }
        return self._upsert_pr(RevertPrRow, RevertPr, repo, number, values, cause)

    def _upsert_pr(
        self,
        table: type[EvolutionPrRow] | type[RevertPrRow],
        record: type[R],
        repo: str,
        number: int,
        values: dict[str, Any],
        cause: str,
    ) -> R:
        what = "evolution-pr" if table is EvolutionPrRow else "revert-pr"

        def work(session: Session) -> R:
            now = self._db.clock.now()
            found = session.scalar(select(table).where(table.repo == repo, table.number == number))
            row = cast(EvolutionPrRow | RevertPrRow | None, found)
            entity = f"{what}:{repo}#{number}"
            if row is None:
                row = table(repo=repo, number=number, created_at=now, updated_at=now, **values)
                session.add(row)
                self._db.audit(session, entity, f"opened: {values['branch']}", cause)
            elif changes := _apply(row, values):
                row.updated_at = now
                self._db.audit(session, entity, "; ".join(changes), cause)
            session.flush()
            return _record(record, row)

        return self._db.write(work)

    def evolution_prs(
        self, *, repo: str | None = None, state: str | None = None
    ) -> list[EvolutionPr]:
        with self._db.reading() as session:
            query = select(EvolutionPrRow)
            if repo is not None:
                query = query.where(EvolutionPrRow.repo == repo)
            if state is not None:
                query = query.where(EvolutionPrRow.state == state)
            rows = session.scalars(query.order_by(EvolutionPrRow.repo, EvolutionPrRow.number))
            return [_record(EvolutionPr, row) for row in rows]

    def revert_prs(self, *, repo: str | None = None) -> list[RevertPr]:
        with self._db.reading() as session:
            query = select(RevertPrRow)
            if repo is not None:
                query = query.where(RevertPrRow.repo == repo)
            rows = session.scalars(query.order_by(RevertPrRow.repo, RevertPrRow.number))
            return [_record(RevertPr, row) for row in rows]

    # -- audit log ---------------------------------------------------------------------------

    def append_audit(self, entity: str, change: str, cause: str) -> None:
        """Record a state change made outside the store's upserts (a rollout step, a command)."""
        self._db.write(lambda session: self._db.audit(session, entity, change, cause))

    def audit_log(self, *, entity: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """The newest entries first, optionally of one entity (``consumer:acme/billing``)."""
        with self._db.reading() as session:
            query = select(AuditEntry)
            if entity is not None:
                query = query.where(AuditEntry.entity == entity)
            rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))
            return [_record(AuditRecord, row) for row in rows]
