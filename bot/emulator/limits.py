"""Request counters, GitHub's primary and secondary rate limits, and injected faults.

Secondary limits on content-creating requests are GitHub's two: 80 a minute and 500 in any
hour (``secondary_per_minute``, ``secondary_per_hour``), both sliding windows on the emulator's
clock, both answered with a ``Retry-After`` for when the oldest write leaves the window.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.clock import EmulatorClock
from bot.emulator.seed import FaultSettings, Limits

__all__ = ["Counters", "Fault", "Faults", "RateLimiter", "RateState", "peak_in_window"]

WINDOW = 3600.0


class Counters:
    """Requests per endpoint (``"GET /repos/{owner}/{repo}"``) overall and per installation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_endpoint: Counter[str] = Counter()
        self.by_installation: dict[int, Counter[str]] = {}

    def add(self, endpoint: str, installation_id: int | None) -> None:
        with self._lock:
            self.by_endpoint[endpoint] += 1
            if installation_id is not None:
                self.by_installation.setdefault(installation_id, Counter())[endpoint] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.by_endpoint.values())

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self.by_endpoint.values()),
                "endpoints": dict(sorted(self.by_endpoint.items())),
                "installations": {
                    str(k): dict(sorted(v.items())) for k, v in self.by_installation.items()
                },
            }

    def reset(self) -> None:
        with self._lock:
            self.by_endpoint.clear()
            self.by_installation.clear()

    def __getitem__(self, endpoint: str) -> int:
        with self._lock:
            return self.by_endpoint.get(endpoint, 0)


@dataclass
class RateState:
    limit: int
    used: int
    reset: float

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


@dataclass
class _Bucket:
    start: float
    used: int = 0
    writes: deque[float] = field(default_factory=deque)
    hour_writes: deque[float] = field(default_factory=deque)
    in_flight: int = 0


class RateLimiter:
    """Hourly primary windows per installation; content creation per minute and per hour;
    concurrency. Every accepted content-creating request's time is kept for reports."""

    def __init__(self, clock: EmulatorClock, limits: Limits) -> None:
        self.clock = clock
        self.limits = limits.model_copy()
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._accepted: dict[str, list[float]] = {}
        self.secondary_hits = 0
        self.primary_hits = 0

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None or now >= bucket.start + WINDOW:
            bucket = _Bucket(
                start=now,
                writes=bucket.writes if bucket else deque(),
                hour_writes=bucket.hour_writes if bucket else deque(),
            )
            self._buckets[key] = bucket
        return bucket

    def limit_for(self, key: str) -> int:
        return (
            self.limits.anonymous_rate_limit if key.startswith("anon") else self.limits.rate_limit
        )

    def peek(self, key: str) -> RateState:
        with self._lock:
            now = self.clock.now()
            bucket = self._bucket(key, now)
            return RateState(self.limit_for(key), bucket.used, bucket.start + WINDOW)

    def acquire(self, key: str, *, content_creating: bool) -> tuple[str | None, RateState, float]:
        """Count one request; ``(refusal, state, retry_after)`` where refusal is None on success.

        refusal is ``"primary"`` or ``"secondary"``.
        """
        with self._lock:
            now = self.clock.now()
            bucket = self._bucket(key, now)
            limit = self.limit_for(key)
            state = RateState(limit, bucket.used, bucket.start + WINDOW)
            if bucket.used >= limit:
                self.primary_hits += 1
                return "primary", state, max(1.0, state.reset - now)
            if bucket.in_flight >= self.limits.concurrent:
                self.secondary_hits += 1
                return "secondary", state, 60.0
            if content_creating:
                while bucket.writes and bucket.writes[0] <= now - 60:
                    bucket.writes.popleft()
                if len(bucket.writes) >= self.limits.secondary_per_minute:
                    self.secondary_hits += 1
                    return "secondary", state, max(1.0, bucket.writes[0] + 60 - now)
                while bucket.hour_writes and bucket.hour_writes[0] <= now - WINDOW:
                    bucket.hour_writes.popleft()
                if len(bucket.hour_writes) >= self.limits.secondary_per_hour:
                    self.secondary_hits += 1
                    return "secondary", state, max(1.0, bucket.hour_writes[0] + WINDOW - now)
                bucket.writes.append(now)
                bucket.hour_writes.append(now)
                self._accepted.setdefault(key, []).append(now)
            bucket.used += 1
            bucket.in_flight += 1
            state.used = bucket.used
            return None, state, 0.0

    def writes_peak(self, key: str, window: float = WINDOW) -> int:
        """Most content-creating requests ``key`` had accepted within any ``window`` seconds."""
        with self._lock:
            times = sorted(self._accepted.get(key, []))
        return peak_in_window(times, window)

    def refund(self, key: str) -> None:
        """Give back one request (GitHub does not count a conditional request's 304)."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None and bucket.used > 0:
                bucket.used -= 1

    def release(self, key: str) -> None:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None and bucket.in_flight > 0:
                bucket.in_flight -= 1

    def update(self, **changes: Any) -> None:
        with self._lock:
            self.limits = self.limits.model_copy(update=changes)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._accepted.clear()
            self.primary_hits = self.secondary_hits = 0


def peak_in_window(times: list[float], window: float) -> int:
    """Most of the sorted ``times`` that fit in any half-open window of ``window`` seconds."""
    best = 0
    first = 0
    for last, moment in enumerate(times):
        while times[first] <= moment - window:
            first += 1
        best = max(best, last - first + 1)
    return best


@dataclass(frozen=True)
class Fault:
    kind: str  # "error" | "timeout"
    status: int = 500
    delay: float = 0.0
    after: bool = False  # the request is carried out, only its answer is lost


@dataclass
class _Scripted:
    remaining: int
    fault: Fault
    pattern: re.Pattern[str] | None


class Faults:
    """Random faults from a seeded RNG plus scripted ones (``fail_next``) for exact tests."""

    def __init__(self, settings: FaultSettings, rng: random.Random) -> None:
        self.settings = settings.model_copy()
        self.rng = rng
        self._lock = threading.Lock()
        self._scripted: list[_Scripted] = []
        self.injected = 0

    def update(self, **changes: Any) -> None:
        with self._lock:
            self.settings = FaultSettings.model_validate({**self.settings.model_dump(), **changes})

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 502,
        match: str | None = None,
        timeout: bool = False,
        after: bool = False,
    ) -> None:
        fault = (
            Fault("timeout", 504, self.settings.timeout_delay, after)
            if timeout
            else Fault("error", status, 0.0, after)
        )
        with self._lock:
            self._scripted.append(_Scripted(count, fault, re.compile(match) if match else None))

    def clear(self) -> None:
        with self._lock:
            self._scripted.clear()
            self.settings = FaultSettings()

    @property
    def latency(self) -> float:
        return self.settings.latency

    def decide(self, endpoint: str) -> Fault | None:
        with self._lock:
            for item in self._scripted:
                if item.remaining > 0 and (item.pattern is None or item.pattern.search(endpoint)):
                    item.remaining -= 1
                    self._scripted = [s for s in self._scripted if s.remaining > 0]
                    self.injected += 1
                    return item.fault
            s = self.settings
            if s.only and not re.search(s.only, endpoint):
                return None
            if s.error_rate and self.rng.random() < s.error_rate:
                self.injected += 1
                return Fault("error", self.rng.choice(s.error_statuses or [500]))
            if s.timeout_rate and self.rng.random() < s.timeout_rate:
                self.injected += 1
                return Fault("timeout", 504, s.timeout_delay)
        return None
