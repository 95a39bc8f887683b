"""Hidden ``<!-- evobot:... -->`` markers that make PR bodies and comments idempotent.

The evolution PR body records which commit the bot last wrote and a digest of the change it
carried, so a re-run knows without another request whether anything is new and whether a
person has pushed to the bot's branch since.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from bot.forge.port import TreeChange
from bot.parsing import parse_json

__all__ = ["PrMarker", "change_digest", "comment_marker", "has_marker", "with_pr_marker"]

_PR_MARKER = re.compile(r"<!-- evobot:pr (\{.*?\}) -->")


@dataclass(frozen=True)
class PrMarker:
    """What the bot wrote last: the branch, its commit, the base commit and the change digest."""

    branch: str
    head: str
    base: str
    digest: str
    template: str
    version: str

    def render(self) -> str:
        return f"<!-- evobot:pr {json.dumps(asdict(self), sort_keys=True)} -->"

    @classmethod
    def parse(cls, body: str | None) -> PrMarker | None:
        """The last marker in ``body``, or None if there is none or it is damaged."""
        if not body:
            return None
        found = _PR_MARKER.findall(body)
        if not found:
            return None
        try:
            data = parse_json(found[-1])
            return cls(**{k: str(data[k]) for k in cls.__dataclass_fields__})
        except (ValueError, KeyError, TypeError):  # DocumentError is a ValueError
            return None


def with_pr_marker(body: str, marker: PrMarker) -> str:
    """``body`` without any old PR marker, ending with ``marker``."""
    clean = _PR_MARKER.sub("", body).rstrip()
    return f"{clean}\n\n{marker.render()}\n"


def change_digest(changes: Mapping[str, TreeChange], blobs: Mapping[str, bytes]) -> str:
    """A sha256 over the changed paths, their modes and contents (``blobs`` for binary ones)."""
    h = hashlib.sha256()
    for path in sorted(changes):
        change = changes[path]
        h.update(path.encode() + b"\0")
        if change.delete:
            h.update(b"-\n")
            continue
        data = blobs[path] if path in blobs else (change.content or "").encode()
        h.update(change.mode.encode() + b"\0" + hashlib.sha256(data).digest() + b"\n")
    return h.hexdigest()


def comment_marker(kind: str, key: str | int = "") -> str:
    """The hidden marker that identifies one bot comment, e.g. ``<!-- evobot:human-commits -->``."""
    suffix = f":{key}" if key != "" else ""
    return f"<!-- evobot:{kind}{suffix} -->"


def has_marker(body: str | None, marker: str) -> bool:
    return bool(body) and marker in (body or "")
