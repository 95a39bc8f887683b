"""A GitHub emulator for tests and demos: the REST subset evobot uses, over real git repositories.

Start one with :func:`bot.emulator.testing.running_emulator` (tests) or
``evobot emulator serve`` (a process); see ``docs/emulator.md``.
"""

from __future__ import annotations

from bot.emulator.clock import EmulatorClock
from bot.emulator.handle import Delivery, EmulatorHandle
from bot.emulator.seed import CiRule, Seed, SeedError, load_seed, parse_seed
from bot.emulator.server import EmulatorServer
from bot.emulator.testing import running_emulator
from bot.emulator.webhooks import sign

__all__ = [
    "CiRule",
    "Delivery",
    "EmulatorClock",
    "EmulatorHandle",
    "EmulatorServer",
    "Seed",
    "SeedError",
    "load_seed",
    "parse_seed",
    "running_emulator",
    "sign",
]
