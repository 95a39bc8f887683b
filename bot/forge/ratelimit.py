"""Rate-limit decoding, backoff and pacing for GitHub requests, as pure functions over headers.

Nothing here opens a socket or reads the wall clock: a :class:`Clock` is injected, so tests and
the benchmark can run an hour of rate-limit windows against the emulator's accelerated clock.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "BackoffPolicy",
    "Clock",
    "Pacer",
    "RateLimitInfo",
    "SystemClock",
    "is_content_creating",
    "is_idempotent",
    "rate_limit_wait",
]

# GitHub: "wait at least one minute" when a secondary limit answers without a Retry-After.
SECONDARY_DEFAULT_WAIT = 60.0


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
    """Bounded exponential backoff with full jitter for 5xx answers and timeouts."""

    base: float = 1.0
    cap: float = 30.0
    max_attempts: int = 5
    max_rate_limit_waits: int = 3
    max_rate_limit_wait: float = 3900.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds before retry number ``attempt`` (0-based): uniform in [0, min(cap, base*2^n)]."""
        ceiling = min(self.cap, self.base * (2**attempt))
        return rng.uniform(ceiling / 2, ceiling)


@dataclass
class Pacer:
    """Spaces requests so one installation stays under GitHub's primary and secondary limits.

    Content-creating requests are at least ``write_interval`` seconds apart (GitHub asks for
    one second); at most ``concurrency`` requests are in flight; when the primary budget runs
    low the remaining requests are spread until the reset, and at zero the pacer waits for it.
    One pacer belongs to one installation; share it between adapters of that installation.
    """

    clock: Clock
    write_interval: float = 1.0
    concurrency: int = 10
    reserve: int = 50
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
                if self._last_write is not None:
                    wait = max(wait, self._last_write + self.write_interval - now)
                self._last_write = now + max(wait, 0.0)
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
