"""evobot's one path-glob dialect, gitignore-like, for every path pattern a user writes.

Used by `template.yml` (`exclude`, `skip_if_exists`), `.evobot.yml` (`protect`,
`checks.ignore[].path`, the secrets checker's `skip_paths`) and the secrets baseline
(`accepted[].path`, `skip_paths[].glob`); docs/templates.md ("Path globs") has the examples.

``*`` and ``?`` stay inside one path part, ``**`` spans parts, ``[abc]``/``[!abc]`` is one
character of a set; a pattern without ``/`` (other than a trailing one) matches a name at any
depth, a leading ``/`` or one in the middle anchors it at the root; a pattern matching a
directory matches everything under it, and a trailing ``/`` matches directories only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["matches_any", "path_matches", "validate_glob"]


def validate_glob(pattern: str) -> str:
    """Refuse patterns that can never match a relative path."""
    if not pattern.strip("/"):
        raise ValueError(f"glob {pattern!r} is empty")
    if "\\" in pattern or "\0" in pattern:
        raise ValueError(f"glob {pattern!r} contains a backslash or NUL")
    return pattern


@dataclass(frozen=True)
class _Glob:
    regex: re.Pattern[str]
    anchored: bool  # matched against leading parts of the path, not against any one name
    dirs_only: bool  # a trailing `/`: the match must be a directory above the path


# Characters that mean something inside a regex set; a glob set takes them literally.
_SET_SPECIAL = frozenset("\\^[]&~|")


def _char_set(inner: str) -> str:
    negated = inner[:1] in ("!", "^")
    if negated:
        inner = inner[1:]
    body = "".join("\\" + c if c in _SET_SPECIAL else c for c in inner if c != "/")
    if negated:
        return "[^/" + body + "]"  # never matches `/`: a set is one character of one part
    return "[" + body + "]" if body else "(?!)"


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str) -> _Glob:
    dirs_only = pattern.endswith("/")
    anchored = "/" in pattern.rstrip("/")
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
            end = body.find("]", i + 2 if body[i + 1 : i + 2] in ("!", "^", "]") else i + 1)
            char_set = _char_set(body[i + 1 : end]) if end != -1 else ""
            try:
                if not char_set:
                    raise re.error("unterminated")
                re.compile(char_set)
            except re.error:  # `[` without `]`, or a reversed range (`[z-a]`): a literal `[`
                out.append(re.escape(c))
                i += 1
                continue
            out.append(char_set)
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return _Glob(re.compile("".join(out), re.DOTALL), anchored, dirs_only)


def path_matches(pattern: str, path: str) -> bool:
    """Whether the POSIX relative ``path`` (or a directory above it) matches ``pattern``."""
    glob = _compile(pattern)
    parts = path.split("/")
    # With a trailing `/` only the directories above the path count, never the path itself.
    last = len(parts) - 1 if glob.dirs_only else len(parts)
    if not glob.anchored:
        return any(glob.regex.fullmatch(part) for part in parts[:last])
    return any(glob.regex.fullmatch("/".join(parts[:n])) for n in range(1, last + 1))


def matches_any(patterns: Iterable[str], path: str) -> bool:
    """Whether any of ``patterns`` matches ``path``."""
    return any(path_matches(p, path) for p in patterns)
