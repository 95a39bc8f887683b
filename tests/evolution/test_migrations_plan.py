"""Which migrations an evolution crosses, in which order, and what they do to answers and files."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.errors import ManifestError
from bot.evolution import plan_migrations
from bot.evolution.migrations import parse_version
from bot.template.manifest import Migration


def m(version: str, **fields: object) -> Migration:
    return Migration.model_validate({"version": version, **fields})


MIGRATIONS = [
    m("3.0.0", rename_files={"b.txt": "c.txt"}, set_answers={"level": 3}),
    m("2.0.0", rename_answers={"name": "service_name"}, rename_files={"a.txt": "b.txt"}),
    m("1.5.0", set_answers={"level": 1}, delete_files=["legacy.cfg"]),
]


def test_only_crossed_versions_apply_in_version_order() -> None:
    plan = plan_migrations(MIGRATIONS, "v1.5.0", "v3.0.0", {"name": "svc", "level": 0})
    assert plan.applied == ("2.0.0", "3.0.0")
    assert plan.answers == {"service_name": "svc", "level": 3}
    assert plan.renames == {"a.txt": "c.txt"}
    assert plan.deletes == ()
    assert plan.note is None


def test_from_is_exclusive_and_to_is_inclusive() -> None:
    plan = plan_migrations(MIGRATIONS, "1.0", "2.0.0", {"name": "svc"})
    assert plan.applied == ("1.5.0", "2.0.0")
    assert plan.answers == {"service_name": "svc", "level": 1}
    assert plan.deletes == ("legacy.cfg",)


def test_plain_commits_apply_no_migration_and_say_so() -> None:
    plan = plan_migrations(MIGRATIONS, "0123abcd" * 5, "v3.0.0", {"name": "svc"})
    assert plan.applied == ()
    assert plan.answers == {"name": "svc"}
    assert plan.note is not None and "PEP 440" in plan.note


def test_downgrade_applies_nothing() -> None:
    assert plan_migrations(MIGRATIONS, "v3.0.0", "v1.0.0", {}).applied == ()


def test_invalid_migration_version_is_a_manifest_error() -> None:
    # Manifest validation refuses this too; plan_migrations must not trust its input.
    bad = SimpleNamespace(
        version="not-a-version", rename_files={}, delete_files=[], rename_answers={}, set_answers={}
    )
    with pytest.raises(ManifestError, match="not-a-version"):
        plan_migrations([bad], "1.0.0", "2.0.0", {})


@pytest.mark.parametrize(
    ("ref", "expected"),
    [("v1.2.3", "1.2.3"), ("2.0.0rc1", "2.0.0rc1"), ("main", None), (None, None)],
)
def test_parse_version(ref: str | None, expected: str | None) -> None:
    parsed = parse_version(ref)
    assert (str(parsed) if parsed else None) == expected
