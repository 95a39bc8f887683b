"""Judge a commit from its check runs and commit statuses, honouring required checks.

Required checks come from two places on GitHub: rulesets (``GET rules/branches/{branch}``) and
classic branch protection (``protection`` of ``GET branches/{branch}``); both are read as
plain data here and united.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.forge.port import CheckResult, CheckState, CommitState

__all__ = [
    "combine_commit_state",
    "required_from_protection",
    "required_from_rules",
    "run_state",
    "status_state",
    "union_required",
]


def required_from_rules(rules: Any) -> tuple[str, ...]:
    """Contexts of the ``required_status_checks`` rules in a ``rules/branches`` answer."""
    contexts: list[str] = []
    if not isinstance(rules, list):
        return ()
    for rule in rules:
        if not isinstance(rule, Mapping) or rule.get("type") != "required_status_checks":
            continue
        for check in (rule.get("parameters") or {}).get("required_status_checks") or []:
            context = str(check.get("context") or "") if isinstance(check, Mapping) else ""
            if context and context not in contexts:
                contexts.append(context)
    return tuple(contexts)


def required_from_protection(branch: Any) -> tuple[str, ...]:
    """Contexts required by classic protection in a ``branches/{branch}`` answer.

    ``required_status_checks`` lists them twice over: ``contexts`` (names) and ``checks``
    (names with an app id); both count. Enforcement ``off`` requires nothing.
    """
    if not isinstance(branch, Mapping):
        return ()
    protection = branch.get("protection")
    if not isinstance(protection, Mapping):
        return ()
    required = protection.get("required_status_checks")
    if not isinstance(required, Mapping) or required.get("enforcement_level") == "off":
        return ()
    contexts: list[str] = []
    names = [str(c) for c in required.get("contexts") or []]
    names += [
        str(c.get("context") or "") for c in required.get("checks") or [] if isinstance(c, Mapping)
    ]
    for name in names:
        if name and name not in contexts:
            contexts.append(name)
    return tuple(contexts)


def union_required(*sources: Sequence[str]) -> tuple[str, ...]:
    """Every context required by any source, once each, in first-seen order."""
    seen: list[str] = []
    for source in sources:
        seen.extend(name for name in source if name not in seen)
    return tuple(seen)


_GOOD = {"success", "neutral", "skipped"}
_BAD = {"failure", "timed_out", "cancelled", "action_required", "startup_failure", "stale"}


def run_state(status: str | None, conclusion: str | None) -> CheckState:
    """A check run's state: ``completed`` with a good conclusion succeeds, a bad one fails."""
    if status != "completed" or conclusion is None:
        return "pending"
    if conclusion in _GOOD:
        return "success"
    if conclusion in _BAD:
        return "failure"
    return "pending"


def status_state(state: str | None) -> CheckState:
    """A commit status's state (``error`` and ``failure`` fail)."""
    if state == "success":
        return "success"
    if state in ("failure", "error"):
        return "failure"
    return "pending"


def combine_commit_state(
    sha: str, checks: Iterable[CheckResult], required: Sequence[str] = ()
) -> CommitState:
    """Overall state: over the required contexts when there are any, else over every check.

    A required context that has not reported yet is pending (and listed as missing). When a
    name reports several times (re-runs), a success anywhere wins over failures elsewhere only
    if it is the newest; callers pass checks newest first.
    """
    latest: dict[str, CheckResult] = {}
    for check in checks:
        latest.setdefault(check.name, check)
    results = tuple(latest.values())
    if required:
        relevant = [latest[name] for name in required if name in latest]
        missing = tuple(name for name in required if name not in latest)
    else:
        relevant = list(results)
        missing = ()
    state: CheckState
    if any(c.state == "failure" for c in relevant):
        state = "failure"
    elif missing or any(c.state == "pending" for c in relevant):
        state = "pending"
    else:
        state = "success"
    return CommitState(
        sha=sha, state=state, checks=results, required=tuple(required), missing=missing
    )
