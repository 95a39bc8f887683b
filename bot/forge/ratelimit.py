"""Rate-limit decoding, backoff and pacing for GitHub requests, as pure functions over headers.

Nothing here opens a socket or reads the wall clock: a :class:`Clock` is injected, so tests and
the benchmark can run an hour of rate-limit windows against the emulator's accelerated clock.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "HOURLY_WRITE_CEILING",
    "PACED_HOUR",
    "BackoffPolicy",
    "Clock",
    "HourlyWriteBudget",
    "Pacer",
    "RateLimitInfo",
    "SystemClock",
    "WriteBudget",
    "is_content_creating",
    "is_idempotent",
    "rate_limit_wait",
    "shared_write_budget",
]

# GitHub: "wait at least one minute" when a secondary limit answers without a Retry-After.
SECONDARY_DEFAULT_WAIT = 60.0
# GitHub's secondary limits: 80 content-creating requests a minute and 500 an hour.
HOURLY_WRITE_CEILING = 500
# The pacer's hour is a little longer than GitHub's: GitHub counts a write when it arrives, and
# travel times vary, so a write sent exactly an hour after the one it replaces could arrive first.
PACED_HOUR = 3600.0 + 30.0


class Clock(Protocol):
    """Seconds since the epoch, and a way to wait: the wall clock or the emulator's."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower() == wanted:
            return str(value)
    return None


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class RateLimitInfo:
    """What a response's ``X-RateLimit-*`` headers say; ``None`` where a header is absent."""

    limit: int | None
    remaining: int | None
    reset: float | None
    used: int | None = None
    resource: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, Any] | None) -> RateLimitInfo:
        def as_int(name: str) -> int | None:
            value = _number(_header(headers, name))
            return None if value is None else int(value)

        return cls(
            limit=as_int("x-ratelimit-limit"),
            remaining=as_int("x-ratelimit-remaining"),
            reset=_number(_header(headers, "x-ratelimit-reset")),
            used=as_int("x-ratelimit-used"),
            resource=_header(headers, "x-ratelimit-resource"),
        )


def rate_limit_wait(
    status: int, headers: Mapping[str, Any] | None, body: Any, *, now: float
) -> float | None:
    """Seconds to wait before retrying a rate-limited response, or ``None`` if it is not one.

    Follows GitHub's rules: ``Retry-After`` wins; a primary limit (``remaining == 0``) waits
    until ``X-RateLimit-Reset``; a secondary limit without either waits at least a minute.
    A rate-limited request was not performed, so retrying it is safe whatever its method.
    """
    if status not in (403, 429):
        return None
    retry_after = _number(_header(headers, "retry-after"))
    if retry_after is not None:
        return max(retry_after, 0.0)
    info = RateLimitInfo.from_headers(headers)
    if info.remaining == 0 and info.reset is not None:
        return max(info.reset - now, 0.0) + 1.0
    message = ""
    if isinstance(body, Mapping):
        message = str(body.get("message", ""))
    elif isinstance(body, str):
        message = body
    lowered = message.lower()
    if status == 429 or "rate limit" in lowered or "abuse" in lowered:
        return SECONDARY_DEFAULT_WAIT
    return None


_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def is_idempotent(method: str) -> bool:
    """Whether repeating the request cannot do anything twice (RFC 9110 plus GitHub's PATCHes)."""
    return method.upper() in _IDEMPOTENT


def is_content_creating(method: str) -> bool:
    """GitHub's secondary limits count POST, PATCH, PUT and DELETE as content-creating."""
    return method.upper() in {"POST", "PATCH", "PUT", "DELETE"}


@dataclass(frozen=True)
class BackoffPolicy:
    """Bounded exponential backoff with equal jitter for 5xx answers and timeouts: retry number
    ``n`` waits between half and all of ``min(cap, base * 2**n)`` seconds."""

    base: float = 1.0
    cap: float = 30.0
    max_attempts: int = 5
    max_rate_limit_waits: int = 3
    max_rate_limit_wait: float = 3900.0

    def backoff(self, attempt: int, jitter: float) -> float:
        """Seconds before retry number ``attempt`` (0-based), ``jitter`` in [0, 1] picking a
        point in [c/2, c] where c = min(cap, base * 2^attempt)."""
        ceiling: float = min(self.cap, self.base * 2.0**attempt)
        return ceiling / 2 + min(max(jitter, 0.0), 1.0) * ceiling / 2

    def delay(self, attempt: int, rng: random.Random) -> float:
        """:meth:`backoff` with the jitter drawn from ``rng``."""
        return self.backoff(attempt, rng.random())


class WriteBudget(Protocol):
    """Start times for content-creating requests under a sliding-window ceiling.

    One budget per GitHub identity (installation or token), shared by everything that writes
    as it: :class:`HourlyWriteBudget` within a process; the service keeps one in its store to
    share it across processes.
    """

    def reserve(self, at: float) -> float:
        """Book one write at ``at`` or later; the time it may start (never before ``at``)."""
        ...


class HourlyWriteBudget:
    """At most ``limit`` writes in any ``window`` seconds (GitHub: 500 an hour), thread-safe.

    Grants are handed out in order: the next one is at least the previous one, and at least
    ``window`` after the grant ``limit`` places back, so no window ever holds more than
    ``limit``.
    """

    def __init__(self, limit: int = HOURLY_WRITE_CEILING, window: float = 3600.0) -> None:
        if limit < 1:
            raise ValueError("an hourly write budget needs a limit of at least 1")
        if window <= 0:
            raise ValueError("an hourly write budget needs a positive window")
        self.limit = limit
        self.window = window
        self._grants: deque[float] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def reserve(self, at: float) -> float:
        with self._lock:
            grants = self._grants
            if grants and (grants[-1] - at > self.window or at - grants[-1] >= self.window):
                # Every grant has left the window, or they came from another clock's timeline
                # (a restarted emulator): nothing booked constrains this write.
                grants.clear()
            start = at
            if grants:
                start = max(start, grants[-1])
            if len(grants) == self.limit:
                start = max(start, grants[0] + self.window)
            grants.append(start)
            return start

    def used(self, now: float) -> int:
        """Writes granted in the window ending at ``now`` (for reports)."""
        with self._lock:
            return sum(1 for t in self._grants if now - self.window < t <= now)


_BUDGETS: dict[tuple[str, int, float], HourlyWriteBudget] = {}
_BUDGETS_LOCK = threading.Lock()


def shared_write_budget(
    identity: str, limit: int = HOURLY_WRITE_CEILING, window: float = PACED_HOUR
) -> HourlyWriteBudget:
    """The process's one budget for ``identity`` (API URL + installation or token digest)."""
    key = (identity, limit, window)
    with _BUDGETS_LOCK:
        budget = _BUDGETS.get(key)
        if budget is None:
            budget = _BUDGETS[key] = HourlyWriteBudget(limit, window)
        return budget


@dataclass
class Pacer:
    """Spaces requests so one installation stays under GitHub's primary and secondary limits.

    Content-creating requests are at least ``write_interval`` seconds apart (GitHub asks for
    one second) and, with ``hourly``, within that budget's ceiling (GitHub: 500 an hour); at
    most ``concurrency`` requests are in flight; when the primary budget runs low the remaining
    requests are spread until the reset, and at zero the pacer waits for it. One pacer belongs
    to one installation; share it between adapters of that installation.
    """

    clock: Clock
    write_interval: float = 1.0
    concurrency: int = 10
    reserve: int = 50
    hourly: WriteBudget | None = None
    _last_write: float | None = field(default=None, init=False)
    _remaining: int | None = field(default=None, init=False)
    _reset: float | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _slots: threading.BoundedSemaphore = field(init=False)
    waited: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._slots = threading.BoundedSemaphore(self.concurrency)

    def wait_before(self, method: str) -> float:
        """Seconds the next ``method`` request should wait, reserving its write slot."""
        now = self.clock.now()
        with self._lock:
            wait = 0.0
            if self._remaining is not None and self._reset is not None and self._reset > now:
                if self._remaining <= 0:
                    wait = self._reset - now + 1.0
                elif self._remaining < self.reserve:
                    wait = (self._reset - now) / self._remaining
            if is_content_creating(method):
                start = now + max(wait, 0.0)
                if self._last_write is not None:
                    start = max(start, self._last_write + self.write_interval)
                if self.hourly is not None:
                    start = self.hourly.reserve(start)
                self._last_write = start
                wait = start - now
            return max(wait, 0.0)

    def acquire(self, method: str) -> None:
        """Block until a request of ``method`` may start (call :meth:`release` afterwards)."""
        wait = self.wait_before(method)
        if wait > 0:
            self.waited += wait
            self.clock.sleep(wait)
        self._slots.acquire()

    def release(self) -> None:
        self._slots.release()

    def observe(self, info: RateLimitInfo) -> None:
        """Record the budget a response reported."""
        with self._lock:
            if info.remaining is not None:
                self._remaining = info.remaining
            if info.reset is not None:
                self._reset = info.reset
