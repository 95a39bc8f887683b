"""The checkers evobot runs, in the order it runs them."""

from __future__ import annotations

from bot.checks.bandit import BanditChecker
from bot.checks.base import Checker
from bot.checks.licenses import LicenseChecker
from bot.checks.ruff import RuffChecker
from bot.checks.secrets import SecretsChecker
from bot.checks.validator import ValidatorChecker

__all__ = ["CHECKER_CLASSES", "checker_names", "default_checkers"]

CHECKER_CLASSES: tuple[type[Checker], ...] = (
    ValidatorChecker,
    RuffChecker,
    BanditChecker,
    SecretsChecker,
    LicenseChecker,
)


def checker_names() -> tuple[str, ...]:
    """The names a policy may mention."""
    return tuple(cls.name for cls in CHECKER_CLASSES)


def default_checkers() -> list[Checker]:
    """Fresh instances of every checker (they may hold per-run memos, so never share them)."""
    return [cls() for cls in CHECKER_CLASSES]
