"""Declarative template migrations: which ones an evolution crosses, and what they amount to.

Nothing from a template ever runs: a migration only renames or sets answers and renames or
deletes files, applied in PEP 440 version order for every version in (from, to].
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from packaging.version import InvalidVersion, Version

from bot.errors import ManifestError

__all__ = ["MigrationLike", "MigrationPlan", "parse_version", "plan_migrations"]


class MigrationLike(Protocol):
    """The fields of `bot.template.Migration` this module reads."""

    @property
    def version(self) -> str: ...
    @property
    def rename_files(self) -> Mapping[str, str]: ...
    @property
    def delete_files(self) -> Sequence[str]: ...
    @property
    def rename_answers(self) -> Mapping[str, str]: ...
    @property
    def set_answers(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class MigrationPlan:
    """The combined effect of the migrations crossed between two template versions."""

    applied: tuple[str, ...]
    answers: dict[str, Any]
    renames: dict[str, str]
    deletes: tuple[str, ...]
    note: str | None = None


def parse_version(ref: str | None) -> Version | None:
    """A tag such as ``v2.0.0`` or ``2.0.0rc1`` as a PEP 440 version; None when it is not one."""
    if not ref:
        return None
    text = ref.strip()
    if text[:1] in ("v", "V"):
        text = text[1:]
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _compose_rename(renames: dict[str, str], old: str, new: str) -> None:
    """Add ``old -> new`` to ``renames`` (original path -> current path), chaining renames."""
    old = old.strip("/")
    new = new.strip("/")
    chained = False
    for key, value in list(renames.items()):
        if value == old:
            renames[key] = new
            chained = True
        elif value.startswith(old + "/"):
            renames[key] = new + value[len(old) :]
            chained = True
    if not chained and old not in renames:
        renames[old] = new


def plan_migrations(
    migrations: Iterable[MigrationLike],
    from_ref: str | None,
    to_ref: str | None,
    answers: Mapping[str, Any],
) -> MigrationPlan:
    """Apply every migration with ``from < version <= to`` to ``answers``, in version order.

    Within one migration: rename_answers, set_answers, rename_files, delete_files. When either
    ref is not a PEP 440 version (a plain commit, a branch) no migration applies and ``note``
    says so.
    """
    current = dict(answers)
    start, end = parse_version(from_ref), parse_version(to_ref)
    if start is None or end is None:
        which = " and ".join(
            repr(r or "(none)") for r, v in ((from_ref, start), (to_ref, end)) if v is None
        )
        return MigrationPlan(
            (), current, {}, (), f"no migrations applied: {which} not a PEP 440 version"
        )
    if end <= start:
        return MigrationPlan((), current, {}, (), None)

    ordered: list[tuple[Version, MigrationLike]] = []
    for migration in migrations:
        version = parse_version(migration.version)
        if version is None:
            raise ManifestError(
                f"template.yml: migrations: version {migration.version!r} is not a PEP 440 version"
            )
        if start < version <= end:
            ordered.append((version, migration))
    ordered.sort(key=lambda item: item[0])

    renames: dict[str, str] = {}
    deletes: list[str] = []
    for _, migration in ordered:
        for old, new in migration.rename_answers.items():
            if old in current:
                value = current.pop(old)
                current.setdefault(new, value)
        current.update(migration.set_answers)
        for old, new in migration.rename_files.items():
            _compose_rename(renames, old, new)
        for path in migration.delete_files:
            if path not in deletes:
                deletes.append(path.strip("/"))
    return MigrationPlan(
        applied=tuple(m.version for _, m in ordered),
        answers=current,
        renames=renames,
        deletes=tuple(deletes),
    )
