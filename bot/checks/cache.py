"""The content-addressed cache of check results: one SQLite table, key -> findings JSON.

A key is the sha256 of (checker name, checker version, config digest, file digest, dependency
fingerprint), so a fleet of near-identical services checks each distinct file once per checker
version. Lookups and stores are batched: one statement per chunk of keys, not one per file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.checks.base import Finding
from bot.errors import CheckError

__all__ = ["CheckCache", "cache_key", "default_cache_path"]

_SCHEMA_VERSION = 1
# SQLite's default limit on bound parameters is 999 in old builds; stay below it.
_CHUNK = 900


def cache_key(
    checker: str, version: str, config_digest: str, file_digest: str, dependency_fingerprint: str
) -> str:
    """The cache key of one checker's verdict on one file content in one context."""
    blob = json.dumps(
        [_SCHEMA_VERSION, checker, version, config_digest, file_digest, dependency_fingerprint]
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def default_cache_path(env: Mapping[str, str]) -> Path:
    """`$EVOBOT_CACHE_DIR/checks.sqlite`, else `~/.cache/evobot/checks.sqlite`."""
    base = env.get("EVOBOT_CACHE_DIR")
    if base:
        return Path(base) / "checks.sqlite"
    return Path(env.get("HOME", str(Path.home()))) / ".cache" / "evobot" / "checks.sqlite"


class CheckCache:
    """Findings by cache key, in a SQLite file (WAL mode, so several processes can share it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS results ("
                " key TEXT PRIMARY KEY, checker TEXT NOT NULL, findings TEXT NOT NULL)"
            )
        except (OSError, sqlite3.Error) as exc:
            raise CheckError(f"{path}: cannot open the check cache: {exc}") from None
        self.hits = 0
        self.misses = 0

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> CheckCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_many(self, keys: Iterable[str]) -> dict[str, list[Finding]]:
        """Findings for every key that is cached; absent keys are simply not in the result."""
        wanted = sorted(set(keys))
        found: dict[str, list[Finding]] = {}
        try:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, findings FROM results WHERE key IN ({marks})",  # noqa: S608
                    chunk,
                ).fetchall()
                for key, blob in rows:
                    found[key] = [Finding.model_validate(f) for f in json.loads(blob)]
        except sqlite3.Error as exc:
            raise CheckError(f"{self.path}: cannot read the check cache: {exc}") from None
        self.hits += len(found)
        self.misses += len(wanted) - len(found)
        return found

    def put_many(self, entries: Mapping[str, tuple[str, list[Finding]]]) -> None:
        """Store ``{key: (checker name, findings)}`` in one transaction."""
        rows = [
            (key, checker, json.dumps([f.model_dump(mode="json") for f in findings]))
            for key, (checker, findings) in sorted(entries.items())
        ]
        if not rows:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO results (key, checker, findings) VALUES (?, ?, ?)", rows
            )
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise CheckError(f"{self.path}: cannot write the check cache: {exc}") from None

    def count(self) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM results").fetchone()
        return int(row[0])
