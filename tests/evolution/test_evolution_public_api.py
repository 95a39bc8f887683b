"""bot.evolution exports exactly the names other parts code against."""

from __future__ import annotations

import bot.evolution


def test_exported_names() -> None:
    assert sorted(bot.evolution.__all__) == [
        "Evolution",
        "FileOutcome",
        "FileStatus",
        "MergeResult",
        "MigrationPlan",
        "evolve_consumer",
        "merge_trees",
        "plan_migrations",
    ]
    for name in bot.evolution.__all__:
        assert getattr(bot.evolution, name).__module__.startswith("bot.evolution.")
    assert [s.value for s in bot.evolution.FileStatus] == [
        "unchanged",
        "updated",
        "added",
        "deleted",
        "conflict",
    ]
