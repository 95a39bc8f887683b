"""The result and the error of resolving answers, shared by every kind of template."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import EvobotError

__all__ = ["AnswerError", "AnswerSet", "answer_set"]


class AnswerError(EvobotError):
    """Answers that are missing or invalid; the message names every one."""


@dataclass(frozen=True)
class AnswerSet:
    """The resolved answers, in question order, and the given keys no question asks for."""

    values: dict[str, Any]
    unknown_keys: tuple[str, ...]


def answer_set(
    values: dict[str, Any],
    given: Mapping[str, Any],
    asked: Collection[str],
    *,
    missing: Sequence[str] = (),
    invalid: Sequence[str] = (),
) -> AnswerSet:
    """The resolved answers, or one :class:`AnswerError` naming every missing and invalid one.

    ``asked`` are the names the template asks for; a given key outside them is reported as
    unknown, not refused.
    """
    if missing:
        raise AnswerError(
            f"missing answers: {', '.join(missing)}",
            hint="pass them with --data NAME=VALUE or --data-file FILE, or run on a terminal",
        )
    if invalid:
        raise AnswerError("invalid answers:\n  " + "\n  ".join(invalid))
    return AnswerSet(values=values, unknown_keys=tuple(sorted(k for k in given if k not in asked)))
