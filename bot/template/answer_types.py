"""The result and the error of resolving answers, shared by every kind of template."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.errors import EvobotError

__all__ = ["AnswerError", "AnswerSet"]


class AnswerError(EvobotError):
    """Answers that are missing or invalid; the message names every one."""


@dataclass(frozen=True)
class AnswerSet:
    """The resolved answers, in question order, and the given keys no question asks for."""

    values: dict[str, Any]
    unknown_keys: tuple[str, ...]
