"""A value derived from the tree being checked, computed once per tree instead of per file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from bot.tree import File

__all__ = ["PerTree"]

T = TypeVar("T")


class PerTree(Generic[T]):
    """Caches ``compute(tree)`` for the last tree seen (held, so identity is reliable)."""

    def __init__(self, compute: Callable[[Mapping[str, File]], T]) -> None:
        self._compute = compute
        self._last: tuple[Mapping[str, File], T] | None = None

    def get(self, tree: Mapping[str, File]) -> T:
        if self._last is None or self._last[0] is not tree:
            self._last = (tree, self._compute(tree))
        return self._last[1]
