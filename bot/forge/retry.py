"""What to do after a GitHub request failed: retry after S seconds, re-read, or fail.

:func:`decide` is a pure function of the request's method, the answer's status and headers
(``None`` when no answer arrived), how often it was tried, and whether the answer may have been
lost after the request took effect. The adapter (:mod:`bot.forge.github`) only carries out the
decision, so every rule here is tested as a table, without HTTP and without waiting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.forge.ratelimit import BackoffPolicy, is_idempotent, rate_limit_wait

__all__ = ["Decision", "Fail", "Failure", "Reread", "Retry", "decide"]


@dataclass(frozen=True)
class Failure:
    """One failed attempt, as the adapter saw it.

    ``status`` is ``None`` when no answer arrived (timeout, dropped or refused connection).
    ``answer_lost`` says the request may have taken effect although its answer did not arrive
    (a 5xx or a read timeout after the request was sent); a refused connection never reached
    GitHub, so its answer is not lost. ``attempt`` counts this request's earlier transient
    failures, ``rate_waits`` its earlier rate-limit waits. ``idempotent`` overrides the method's
    rule (content-addressed POSTs are safe to repeat); ``can_reread`` says the caller can look
    for the lost request's effect (find the PR by branch, the ref by name).
    """

    method: str
    status: int | None
    headers: Mapping[str, Any] | None = None
    body: Any = None
    attempt: int = 0
    rate_waits: int = 0
    answer_lost: bool = False
    idempotent: bool | None = None
    can_reread: bool = False
    renewable_token: bool = False
    what: str = ""

    @property
    def description(self) -> str:
        """How the failure reads in a message: ``HTTP 502``, or ``what`` for a missing answer."""
        if self.what:
            return self.what
        return "no answer" if self.status is None else f"HTTP {self.status}"


@dataclass(frozen=True)
class Retry:
    """Send the request again after ``after`` seconds; ``renew_token`` drops the cached token."""

    after: float
    reason: str
    rate_limited: bool = False
    renew_token: bool = False


@dataclass(frozen=True)
class Reread:
    """Look for the lost request's effect first; if it is not there, retry after ``after``."""

    after: float
    reason: str


@dataclass(frozen=True)
class Fail:
    """Give up; ``retried`` tells whether the failure came after retries (say "safe to re-run")."""

    reason: str
    retried: bool = False
    may_have_happened: bool = False


Decision = Retry | Reread | Fail


def decide(failure: Failure, policy: BackoffPolicy, *, now: float, jitter: float) -> Decision:
    """The next step after ``failure``; ``jitter`` in [0, 1] picks the backoff within its band.

    Rules, in order: a rate-limit answer was not performed, so any method waits it out, at most
    ``policy.max_rate_limit_waits`` times and never longer than ``policy.max_rate_limit_wait``;
    a 401 on a renewable token is retried once with a fresh token; other 4xx fail; a 5xx or
    a missing answer is retried with bounded backoff when repeating is safe, re-read first when
    the request may have happened and the caller can look, and failed otherwise.
    """
    status = failure.status
    if status is not None and status < 500:
        wait = rate_limit_wait(status, failure.headers, failure.body, now=now)
        if wait is not None:
            if failure.rate_waits >= policy.max_rate_limit_waits:
                return Fail(f"rate limited {failure.rate_waits + 1} times in a row")
            if wait > policy.max_rate_limit_wait:
                return Fail(
                    f"rate limited for {wait:.0f} s, longer than the "
                    f"{policy.max_rate_limit_wait:.0f} s evobot waits"
                )
            return Retry(wait, f"rate limited ({failure.description})", rate_limited=True)
        if status == 401 and failure.renewable_token and failure.attempt == 0:
            return Retry(0.0, "credentials refused", renew_token=True)
        return Fail(failure.description)
    attempts = failure.attempt + 1
    what = failure.description
    if attempts >= policy.max_attempts:
        return Fail(f"{what} after {attempts} attempts", retried=True)
    delay = policy.backoff(failure.attempt, jitter)
    safe = is_idempotent(failure.method) if failure.idempotent is None else failure.idempotent
    if safe or not failure.answer_lost:
        return Retry(delay, what)
    if failure.can_reread:
        return Reread(delay, what)
    return Fail(what, may_have_happened=True)
