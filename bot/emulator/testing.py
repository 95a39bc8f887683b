"""`running_emulator`: start an emulator for a test or benchmark and stop it afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.emulator.clock import EmulatorClock
from bot.emulator.handle import Delivery, EmulatorHandle
from bot.emulator.seed import Seed
from bot.emulator.server import EmulatorServer

__all__ = ["Delivery", "EmulatorHandle", "running_emulator"]


@contextmanager
def running_emulator(
    seed: Seed | dict[str, Any],
    state_dir: Path,
    *,
    clock: EmulatorClock | None = None,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
) -> Iterator[EmulatorHandle]:
    """Serve ``seed`` on a free loopback port (uvicorn in a thread) and yield its handle.

    Returns once the server answers; stops it (and its webhook and CI workers) on exit.
    """
    server = EmulatorServer(
        seed,
        state_dir,
        clock=clock,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
    )
    handle = server.start()
    try:
        yield handle
    finally:
        server.stop()
