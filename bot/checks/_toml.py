"""TOML config files parsed once per content: every checker reads pyproject.toml per file."""

from __future__ import annotations

import functools
import tomllib
from typing import Any

__all__ = ["load_toml"]


@functools.lru_cache(maxsize=512)
def _load(data: bytes) -> dict[str, Any] | None:
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None


def load_toml(data: bytes) -> dict[str, Any] | None:
    """The parsed document, or None when it is not valid TOML. Shared: never mutate it."""
    return _load(data)
