"""Path globs of `exclude`, `skip_if_exists` and `protect`, with gitignore-like matching.

``*`` and ``?`` stay inside one path part, ``**`` spans parts, a pattern without ``/`` matches a
name at any depth, and a pattern matching a directory matches everything under it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

__all__ = ["matches_any", "path_matches", "validate_glob"]


def validate_glob(pattern: str) -> str:
    """Refuse patterns that can never match a relative path."""
    if not pattern.strip("/"):
        raise ValueError(f"glob {pattern!r} is empty")
    if "\\" in pattern or "\0" in pattern:
        raise ValueError(f"glob {pattern!r} contains a backslash or NUL")
    _compile(pattern)
    return pattern


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str) -> tuple[re.Pattern[str], bool]:
    anchored = "/" in pattern.strip("/")
    body = pattern.strip("/")
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if body.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = body.find("]", i + 2 if body[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
                continue
            inner = body[i + 1 : end]
            if inner.startswith("!"):
                inner = "^" + inner[1:]
            out.append("[" + inner.replace("\\", "\\\\").replace("/", "") + "]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    try:
        return re.compile("".join(out)), anchored
    except re.error as exc:
        raise ValueError(f"glob {pattern!r} is invalid: {exc}") from None


def path_matches(pattern: str, path: str) -> bool:
    """Whether the POSIX relative ``path`` (or a directory above it) matches ``pattern``."""
    regex, anchored = _compile(pattern)
    parts = path.split("/")
    if not anchored:
        return any(regex.fullmatch(part) for part in parts)
    return any(regex.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1))


def matches_any(patterns: Iterable[str], path: str) -> bool:
    """Whether any of ``patterns`` matches ``path``."""
    return any(path_matches(p, path) for p in patterns)
