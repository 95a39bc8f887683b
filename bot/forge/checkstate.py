"""Judge a commit from its check runs and commit statuses, honouring required checks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.forge.port import CheckResult, CheckState, CommitState

__all__ = ["combine_commit_state", "run_state", "status_state"]

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
