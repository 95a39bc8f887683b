"""What every part of the emulator's model shares: the attributes `Emulator.__init__` sets.

The model is split by job (accounts and tokens, repositories and pushes, seeding, pull
requests); each part is a class over this state, and `bot.emulator.core.Emulator` combines them.
"""

from __future__ import annotations

import contextlib
import random
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from bot.emulator.clock import EmulatorClock
from bot.emulator.gitstore import GitRepo
from bot.emulator.limits import Counters, Faults, RateLimiter
from bot.emulator.seed import Seed
from bot.emulator.store import Store

if TYPE_CHECKING:
    from bot.emulator.ci import CiRunner
    from bot.emulator.webhooks import WebhookSender
    from bot.template import ResolvedTemplate

__all__ = ["CodeloadGrant", "EmulatorState", "J"]

J = dict[str, Any]


class CodeloadGrant(NamedTuple):
    """A short-lived tarball download: which repository and commit, and until when."""

    full_name: str
    sha: str
    expires_at: float


class EmulatorState:
    """The state of one emulated GitHub, behind one lock for non-git data."""

    seed: Seed
    state_dir: Path
    base_url: str
    api_url: str
    host: str
    clock: EmulatorClock
    rng: random.Random
    id_rng: random.Random
    store: Store
    repos_root: Path
    lock: threading.RLock
    limiter: RateLimiter
    faults: Faults
    counters: Counters
    codeload: dict[str, CodeloadGrant]
    app: J
    ci_app: J
    apps: dict[int, J]
    bot_login: str
    ci_sender: str
    webhooks: WebhookSender
    ci: CiRunner
    public_key_pem: bytes
    _private_key_pem: bytes
    _git: dict[str, GitRepo]
    _save_lock: threading.Lock
    _stop_saving: threading.Event
    _template_stack: contextlib.ExitStack | None
    _open_templates: dict[tuple[str, str | None, str | None], ResolvedTemplate]

    def save(self) -> None:
        """Write the state to disk now."""
        with self._save_lock:
            self.store.save()
