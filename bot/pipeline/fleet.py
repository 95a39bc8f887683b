"""Planning a fleet update: which consumers share their renders and merges, and who runs where.

`evobot update PATH... | --fleet DIR` evolves many consumers in one process with forked workers;
consumers whose settings files are byte for byte the same render the same template versions
with the same answers, so they are kept together (or their first one runs before forking), and
none of that work is computed twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.consumer import CONFIG_NAME
from bot.consumer_formats import COPIER_ANSWERS, CRUFT_FILE

__all__ = ["SETTINGS_FILES", "FleetPlan", "plan_fleet"]

# The files that make a directory a consumer, in the order they are read.
SETTINGS_FILES = (CONFIG_NAME, COPIER_ANSWERS, CRUFT_FILE)


def _work_key(path: Path) -> str:
    """Consumers with the same key render the same template versions with the same answers:
    their answers files are byte for byte the same. An unreadable one is a group of its own."""
    h = hashlib.sha256()
    for marker in SETTINGS_FILES:
        try:
            data = (path / marker).read_bytes()
        except FileNotFoundError:
            data = b""
        except OSError:
            return "unreadable:" + str(path)
        h.update(marker.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


@dataclass(frozen=True)
class FleetPlan:
    """Who runs where: ``first`` in this process before forking (so the workers inherit the
    template cache and the shared work), then ``units``, each kept together in one worker."""

    first: tuple[Path, ...]
    units: tuple[tuple[Path, ...], ...]


def plan_fleet(paths: Sequence[Path], jobs: int) -> FleetPlan:
    """Group consumers that share renders and merges so none of it is computed twice.

    The very first consumer fills the template cache. A group no bigger than a chunk goes to
    one worker whole; a bigger group has its first consumer run here first, and the rest is
    split over the workers, which each inherit what that consumer computed.
    """
    if not paths:
        return FleetPlan((), ())
    chunk = max(1, min(16, len(paths) // (max(1, jobs) * 4) or 1))
    groups: dict[str, list[Path]] = {}
    for path in paths:
        groups.setdefault(_work_key(path), []).append(path)
    first: list[Path] = [paths[0]]
    units: list[tuple[Path, ...]] = []
    singles: list[Path] = []
    for members in groups.values():
        if paths[0] in members:
            rest = [p for p in members if p != paths[0]]  # its work is done here already
        elif len(members) == 1:
            singles.extend(members)
            continue
        elif len(members) <= chunk:
            units.append(tuple(members))
            continue
        else:
            first.append(members[0])
            rest = members[1:]
        units.extend(tuple(rest[i : i + chunk]) for i in range(0, len(rest), chunk))
    units.extend(tuple(singles[i : i + chunk]) for i in range(0, len(singles), chunk))
    return FleetPlan(tuple(first), tuple(u for u in units if u))
