"""The emulator's one clock: wall time by default, shiftable and accelerable for tests.

Token expiry, rate-limit windows, `Retry-After` and every timestamp the emulator writes come
from it, so a test can make an hour of rate-limit windows pass in seconds.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from bot.clock import Clock

__all__ = ["EmulatorClock"]


class EmulatorClock(Clock):
    """Emulated epoch seconds that run ``speed`` times faster than the wall clock (a `Clock`).

    ``advance(s)`` jumps ahead at once; ``sleep(s)`` waits ``s`` emulated seconds (``s / speed``
    real seconds), which is how a client should wait out a ``Retry-After`` or a reset.
    """

    def __init__(self, *, speed: float = 1.0, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self._lock = threading.Lock()
        self._speed = float(speed)
        self._real0 = time.monotonic()
        self._emu0 = time.time() if start is None else float(start)

    def now(self) -> float:
        """Emulated seconds since the epoch."""
        with self._lock:
            return self._emu0 + (time.monotonic() - self._real0) * self._speed

    def advance(self, seconds: float) -> None:
        """Jump ``seconds`` ahead (never backwards)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._emu0 += seconds

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if value <= 0:
            raise ValueError("clock speed must be positive")
        with self._lock:
            real = time.monotonic()
            self._emu0 += (real - self._real0) * self._speed
            self._real0 = real
            self._speed = float(value)

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds`` of emulated time."""
        if seconds > 0:
            time.sleep(seconds / self._speed)

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def iso(self, at: float | None = None) -> str:
        """``at`` (default: now) as GitHub writes timestamps: ``2024-01-02T03:04:05Z``."""
        moment = self.now() if at is None else at
        return datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
