"""The emulator's model: one `Emulator` made of its parts, and what they share.

Accounts and tokens (``bot.emulator.accounts``), repositories and pushes (``bot.emulator.repos``),
seeding (``bot.emulator.seeding``) and pull requests (``bot.emulator.pulls``) are classes over the
state in ``bot.emulator.state``; routes (``bot.emulator.api_*``) and the test handle call them
through `Emulator`. Pushes fan out to webhooks (``bot.emulator.webhooks``) and CI
(``bot.emulator.ci``).
"""

from __future__ import annotations

import random
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from bot.emulator.ci import CiRunner
from bot.emulator.clock import EmulatorClock
from bot.emulator.errors import ApiError, not_found, required_contexts, validation_failed
from bot.emulator.limits import Counters, Faults, RateLimiter
from bot.emulator.pulls import Pulls
from bot.emulator.seed import Seed
from bot.emulator.seeding import Seeding
from bot.emulator.state import J
from bot.emulator.store import StateError, Store
from bot.emulator.webhooks import WebhookSender

__all__ = ["ApiError", "Emulator", "not_found", "required_contexts", "validation_failed"]

log = structlog.get_logger(__name__)

CI_APP_ID = 15368


class Emulator(Seeding, Pulls):
    """All state of one emulated GitHub, behind one lock for non-git data."""

    def __init__(
        self,
        seed: Seed,
        state_dir: Path,
        *,
        base_url: str,
        clock: EmulatorClock | None = None,
    ) -> None:
        self.seed = seed
        self.state_dir = state_dir
        self.base_url = base_url.rstrip("/")
        self.api_url = f"{self.base_url}/api/v3"
        self.host = urlsplit(self.base_url).netloc
        self.clock = clock or EmulatorClock(speed=seed.clock_speed)
        # Separate streams, so background work (webhook ids) never shifts the fault sequence.
        self.rng = random.Random(seed.random_seed)  # noqa: S311 - reproducible fault injection
        self.id_rng = random.Random(seed.random_seed + 1)  # noqa: S311 - delivery/request ids
        if state_dir.exists() and not state_dir.is_dir():
            raise StateError(f"{state_dir}: the emulator's state directory is a file")
        self.store = Store(state_dir / "state.json")
        self.repos_root = state_dir / "repos"
        self.repos_root.mkdir(parents=True, exist_ok=True)
        self._git = {}
        self._stats_cache = {}
        self.limiter = RateLimiter(self.clock, seed.limits)
        self.faults = Faults(seed.faults, self.rng)
        self.counters = Counters()
        self.codeload = {}
        self.lock = self.store.lock
        self._private_key_pem, self.public_key_pem = self._load_key(seed, state_dir)
        self.app = {
            "id": seed.app.id,
            "slug": seed.app.slug,
            "client_id": seed.app.client_id,
            "name": seed.app.name,
            "owner": seed.app.owner,
            "description": "Keeps generated services in step with their templates.",
            "created_at": self.clock.iso(),
            "permissions": {
                "checks": "write",
                "contents": "write",
                "issues": "write",
                "metadata": "read",
                "pull_requests": "write",
                "statuses": "write",
            },
            "events": [
                "check_run",
                "check_suite",
                "issue_comment",
                "pull_request",
                "push",
                "status",
            ],
        }
        self.ci_app = {
            "id": CI_APP_ID,
            "slug": "emulator-ci",
            "name": "Emulator CI",
            "owner": "emulator",
            "description": "Runs each repository's configured check on every pushed commit.",
            "created_at": self.clock.iso(),
            "permissions": {"checks": "write", "contents": "read", "metadata": "read"},
            "events": ["push"],
        }
        self.apps = {self.app["id"]: self.app, CI_APP_ID: self.ci_app}
        self.bot_login = f"{self.app['slug']}[bot]"
        self.ci_sender = f"{self.ci_app['slug']}[bot]"
        self.webhooks = WebhookSender(self)
        self.ci = CiRunner(self)
        self._save_lock = threading.Lock()
        self._stop_saving = threading.Event()
        self._template_stack = None
        self._open_templates = {}
        self._seed_everything()

    # -- shapes that need the whole emulator ------------------------------------------------
    def user_for_email(self, email: str) -> J | None:
        from bot.emulator.shapes import user_json

        match = re.fullmatch(r"(?:\d+\+)?([^@]+)@users\.noreply\.github\.com", email)
        if match and match.group(1) in self.store.data["users"]:
            return user_json(self, match.group(1))
        return None

    def start_saver(self, interval: float = 2.0) -> None:
        """Save changed state every ``interval`` seconds from a daemon thread."""

        def run() -> None:
            while not self._stop_saving.wait(interval):
                if self.store.dirty:
                    self.store.dirty = False
                    try:
                        with self._save_lock:
                            self.store.save(include_deliveries=False)
                    except (OSError, RuntimeError):  # try again on the next tick
                        log.exception("saving the emulator state failed")
                        self.store.dirty = True

        self._stop_saving.clear()
        threading.Thread(target=run, name="emulator-saver", daemon=True).start()

    def close(self) -> None:
        self._stop_saving.set()
        self.ci.stop()
        self.webhooks.stop()
        self.save()
