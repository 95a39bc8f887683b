"""Evolution: merge a newer template version into a consumer's files, keeping local edits."""

from __future__ import annotations

from bot.evolution.merge import FileOutcome, FileStatus, MergeResult, merge_trees
from bot.evolution.migrations import MigrationPlan, plan_migrations

__all__ = [
    "FileOutcome",
    "FileStatus",
    "MergeResult",
    "MigrationPlan",
    "merge_trees",
    "plan_migrations",
]
