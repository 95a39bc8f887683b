"""The emulator's non-git state (PRs, comments, checks, tokens, deliveries) in one JSON file."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from bot.errors import EvobotError

__all__ = ["StateError", "Store"]


class StateError(EvobotError):
    """A saved emulator state that cannot be resumed."""


def _load(path: Path, kind: type[Any]) -> Any:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StateError(
            f"{path}: cannot resume the emulator's saved state: {exc}",
            hint="delete the state directory (or pass another --state) to start from the seed",
        ) from None
    if not isinstance(data, kind):
        raise StateError(
            f"{path}: cannot resume the emulator's saved state: expected a JSON {kind.__name__}",
            hint="delete the state directory (or pass another --state) to start from the seed",
        )
    return data


_ID_BASES = {
    "user": 5_000,
    "repo": 100_000,
    "pull": 1_000_000,
    "issue": 2_000_000,
    "comment": 3_000_000,
    "reaction": 4_000_000,
    "label": 5_000_000,
    "check_suite": 6_000_000,
    "check_run": 7_000_000,
    "status": 8_000_000,
    "delivery": 9_000_000,
    "installation": 40_000_000,
}


def _empty() -> dict[str, Any]:
    return {
        "ids": {},
        "users": {},
        "repos": {},
        "installations": {},
        "tokens": {},
        "pulls": {},
        "comments": {},
        "reactions": {},
        "check_suites": {},
        "check_runs": {},
        "statuses": {},
        "deliveries": [],
        "ci_done": {},
    }


class Store:
    """A dict of plain JSON data behind one re-entrant lock, saved atomically on request."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.dirty = False
        self.data: dict[str, Any] = _empty()
        if path.exists():
            self.data.update(_load(path, dict))
            log = path.with_name("deliveries.json")
            if log.exists():
                self.data["deliveries"] = _load(log, list)

    @property
    def loaded_from_disk(self) -> bool:
        return bool(self.data["repos"])

    def next_id(self, kind: str) -> int:
        with self.lock:
            ids: dict[str, int] = self.data["ids"]
            value = ids.get(kind, _ID_BASES.get(kind, 10_000_000)) + 1
            ids[kind] = value
            return value

    def save(self, *, include_deliveries: bool = True) -> None:
        """Write state.json atomically; the (large) delivery log goes to deliveries.json, which
        periodic saves skip and the final save on shutdown writes."""
        for attempt in range(5):
            try:
                with self.lock:
                    data = {k: v for k, v in self.data.items() if k != "deliveries"}
                    text = json.dumps(data, sort_keys=True)
                    log = json.dumps(self.data["deliveries"]) if include_deliveries else None
                break
            except RuntimeError:  # a worker changed a nested record mid-dump; try again
                if attempt == 4:
                    raise
        self._write(self.path, text)
        if log is not None:
            self._write(self.path.with_name("deliveries.json"), log)

    @staticmethod
    def _write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
