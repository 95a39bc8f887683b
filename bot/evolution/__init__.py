"""Evolution: merge a newer template version into a consumer's files, keeping local edits."""

from __future__ import annotations

from bot.evolution.evolve import Evolution, evolve_consumer
from bot.evolution.merge import FileOutcome, FileStatus, MergeResult, merge_trees
from bot.evolution.migrations import MigrationPlan, plan_migrations

__all__ = [
    "Evolution",
    "FileOutcome",
    "FileStatus",
    "MergeResult",
    "MigrationPlan",
    "evolve_consumer",
    "merge_trees",
    "plan_migrations",
]
