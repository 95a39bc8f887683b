"""Checks on paths given on the command line, made before any work so that a wrong one is named
in one line (not met as an operating-system error deep inside a command)."""

from __future__ import annotations

from pathlib import Path

from bot.errors import EvobotError

__all__ = ["CliUsageError", "check_cache_dir"]


class CliUsageError(EvobotError):
    """A command-line option naming a path that cannot serve its purpose."""


def check_cache_dir(path: Path | None, option: str = "--cache-dir") -> None:
    """Refuse a cache directory that is a file, or lies under one; a missing one is created
    later. Its ancestors are checked too: `FILE/cache` fails the same way `FILE` does."""
    if path is None:
        return
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            if not candidate.is_dir():
                what = "" if candidate == path else f"{candidate} "
                raise CliUsageError(
                    f"{option} {path}: {what}is not a directory; it must be a directory"
                )
            return
