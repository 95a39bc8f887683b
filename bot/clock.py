"""Time as evobot's code sees it: one `Clock` protocol, the system clock and a manual one.

The core never reads the wall clock itself; whatever needs the time (provenance timestamps,
token expiry, rate-limit waits, the emulator's accelerated time) takes a `Clock`, so tests and
the benchmark decide what time it is and how long a wait lasts.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock", "utc_now"]


@runtime_checkable
class Clock(Protocol):
    """Seconds since the epoch, and a way to wait that many seconds of this clock's time."""

    def now(self) -> float:
        """Seconds since the epoch (UTC)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time (nothing for zero or less)."""
        ...


class SystemClock(Clock):
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ManualClock(Clock):
    """A clock that moves only when told: ``advance`` and ``sleep`` jump ahead at once."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._now += seconds

    def advance(self, seconds: float) -> None:
        """Move ``seconds`` ahead (never backwards)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._now += seconds


def utc_now(clock: Clock) -> datetime:
    """``clock``'s now as an aware UTC datetime."""
    return datetime.fromtimestamp(clock.now(), tz=UTC)
