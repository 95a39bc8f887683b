"""The errors the store raises for people: a database it cannot use, a lease that was lost."""

from __future__ import annotations

from bot.errors import EvobotError

__all__ = ["DatabaseTooNewError", "LeaseLostError", "StoreError"]


class StoreError(EvobotError):
    """A database that cannot be opened, read or written. The message names it (no password)."""


class DatabaseTooNewError(StoreError):
    """The database was migrated by a newer evobot: its schema revision is unknown to this one."""


class LeaseLostError(StoreError):
    """A worker acted on a job it no longer holds: its lease expired and another worker took it
    over (or it was completed, failed or released already). The worker must drop the job."""
