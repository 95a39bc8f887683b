"""SPDX expressions, the licenses checker's options, and the license policy deciding which
licenses are allowed, denied or to review."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from license_expression import (
    ExpressionError,
    LicenseSymbol,
    LicenseWithExceptionSymbol,
)

from bot.checks.base import Severity
from bot.checks.licenses._data import DEFAULT_LICENSE_FILES, HEADER_BYTES, _data, _licensing
from bot.checks.options import CheckerOptions, PositiveInt

# --------------------------------------------------------------------------------------------
# SPDX expressions and the policy


_LICENSE_REF = re.compile(r"^(?:DocumentRef-[A-Za-z0-9.\-]+:)?LicenseRef-[A-Za-z0-9.\-]+$")


@dataclass(frozen=True)
class ParsedExpression:
    """A valid SPDX expression, normalized (``gpl-2.0+`` becomes ``GPL-2.0-or-later``)."""

    normalized: str
    tree: Any  # license_expression's LicenseExpression (untyped library)


def parse_spdx(expression: str) -> ParsedExpression | str:
    """Parse ``expression``; return it normalized, or a sentence saying why it is invalid."""
    text = expression.strip()
    if not text:
        return "empty license expression"
    licensing = _licensing()
    try:
        parsed = licensing.parse(text, strict=True)
    except ExpressionError as exc:
        return f"invalid SPDX expression {text!r}: {exc}"
    if parsed is None:
        return "empty license expression"
    unknown = [k for k in licensing.unknown_license_keys(parsed) if not _LICENSE_REF.match(k)]
    if unknown:
        return f"unknown SPDX license id(s) {', '.join(sorted(unknown))} in {text!r}"
    return ParsedExpression(str(parsed), parsed)


class Status(IntEnum):
    """A license's standing under the policy, best first (OR takes the best, AND the worst)."""

    ALLOWED = 0
    REVIEW = 1
    UNLISTED = 2
    UNKNOWN = 3
    DENIED = 4


_SEVERITY = {
    Status.REVIEW: Severity.LOW,
    Status.UNLISTED: Severity.MEDIUM,
    Status.UNKNOWN: Severity.INFO,
    Status.DENIED: Severity.HIGH,
}
_RULE = {
    Status.REVIEW: "license-review",
    Status.UNLISTED: "license-not-allowlisted",
    Status.UNKNOWN: "license-unknown",
    Status.DENIED: "license-denied",
}
_WHY = {
    Status.REVIEW: "is allowed but has obligations to review (weak copyleft)",
    Status.UNLISTED: "is neither allowed nor denied by the license policy",
    Status.UNKNOWN: "is not a license the policy knows (a custom LicenseRef)",
    Status.DENIED: "is denied by the license policy",
}


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


@dataclass(frozen=True)
class LicensePolicy:
    """SPDX ids (globs allowed) that are allowed, denied, or allowed but flagged for review.

    Precedence: an exact deny, an exact allow, a deny glob, a review entry, an allow glob.
    Matching ignores case, as SPDX ids do.
    """

    allow: tuple[str, ...]
    deny: tuple[str, ...]
    review: tuple[str, ...]

    @classmethod
    def from_options(cls, options: LicenseOptions) -> LicensePolicy:
        defaults = _data()["policy"]
        lists: dict[str, tuple[str, ...]] = {}
        for key in ("allow", "deny", "review"):
            # `allow` replaces the default list; `allow_extra` adds to it (same for the others).
            given: tuple[str, ...] | None = getattr(options, key)
            extra: tuple[str, ...] = getattr(options, f"{key}_extra")
            value = [*(defaults[key] if given is None else given), *extra]
            lists[key] = tuple(v.strip().lower() for v in value if v.strip())
        return cls(lists["allow"], lists["deny"], lists["review"])

    def classify_id(self, spdx_id: str) -> Status:
        ident = spdx_id.lower()
        exact = [p for p in (*self.allow, *self.deny, *self.review) if not _is_glob(p)]
        if ident in exact:
            if ident in self.deny:
                return Status.DENIED
            if ident in self.allow:
                return Status.ALLOWED
            return Status.REVIEW
        if any(fnmatch.fnmatchcase(ident, p) for p in self.deny if _is_glob(p)):
            return Status.DENIED
        if any(fnmatch.fnmatchcase(ident, p) for p in self.review if _is_glob(p)):
            return Status.REVIEW
        if any(fnmatch.fnmatchcase(ident, p) for p in self.allow if _is_glob(p)):
            return Status.ALLOWED
        if _LICENSE_REF.match(spdx_id):
            return Status.UNKNOWN
        return Status.UNLISTED

    def classify(self, parsed: ParsedExpression) -> tuple[Status, list[str]]:
        """The expression's standing and the ids that decided it."""
        return self._walk(parsed.tree)

    def _walk(self, node: Any) -> tuple[Status, list[str]]:
        licensing = _licensing()
        if isinstance(node, LicenseWithExceptionSymbol):
            whole = f"{node.license_symbol.key} WITH {node.exception_symbol.key}"
            status = self.classify_id(whole)
            if status in (Status.UNLISTED, Status.UNKNOWN):
                status = self.classify_id(node.license_symbol.key)
            return status, [whole]
        if isinstance(node, LicenseSymbol):
            return self.classify_id(node.key), [node.key]
        parts = [self._walk(arg) for arg in node.args]
        if isinstance(node, licensing.OR):
            best = min(status for status, _ in parts)
            return best, [i for status, ids in parts if status == best for i in ids]
        worst = max(status for status, _ in parts)
        return worst, [i for status, ids in parts if status == worst for i in ids]

    def classify_candidates(self, candidates: Iterable[str]) -> Status | None:
        """One standing shared by every candidate, or None when they disagree (or are none)."""
        statuses = {self.classify_id(c) for c in candidates}
        return statuses.pop() if len(statuses) == 1 else None


def _ids(parsed: ParsedExpression) -> list[str]:
    return [str(k) for k in _licensing().license_keys(parsed.tree)]


class LicenseOptions(CheckerOptions):
    """The licenses checker's options.

    ``allow``, ``deny`` and ``review`` (SPDX ids or globs) replace the bundled defaults; the
    ``*_extra`` lists add to them. ``license_files`` are the tree paths of recorded dependency
    licenses; ``header_bytes`` is how much of each file is searched for an SPDX header.
    """

    allow: tuple[str, ...] | None = None
    deny: tuple[str, ...] | None = None
    review: tuple[str, ...] | None = None
    allow_extra: tuple[str, ...] = ()
    deny_extra: tuple[str, ...] = ()
    review_extra: tuple[str, ...] = ()
    license_files: tuple[str, ...] = DEFAULT_LICENSE_FILES
    header_bytes: PositiveInt = HEADER_BYTES
