"""The whole rollout loop, end to end over HTTP: the GitHub emulator (accelerated clock) seeded
with a template and N consumers, the webhook service (web edge + workers, in threads) receiving
the emulator's signed webhooks, a release tag pushed to the template, and a maintainer merging
each green evolution PR — until the rollout completes (or halts).

Used by `bench/rollout.py` (500 consumers), by the rollout tests in `tests/service/` and
`tests/rollout/`, and by a demo: `run_rollout_loop(work_dir)` runs the whole story once.
It lives outside `bot/` because it composes the emulator and the service, which the package's
layering keeps apart.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.emulator.clock import EmulatorClock  # noqa: E402
from bot.emulator.handle import EmulatorHandle  # noqa: E402
from bot.emulator.testing import running_emulator  # noqa: E402
from bot.pipeline import CheckOptions, EvolvePrOptions, GitTemplateFetcher  # noqa: E402
from bot.pipeline.preflight import PreflightOptions  # noqa: E402
from bot.rollout import RolloutState  # noqa: E402
from bot.service import Service, load_settings  # noqa: E402
from bot.service.inprocess import serving_in_thread  # noqa: E402
from bot.service.logs import configure_logging  # noqa: E402
from bot.service.rollouts import RolloutOptions  # noqa: E402
from bot.service.worker import WorkerPool  # noqa: E402
from bot.store import Store  # noqa: E402

__all__ = [
    "SECRET",
    "TEMPLATE",
    "Loop",
    "LoopSummary",
    "fleet_seed",
    "rollout_loop",
    "run_rollout_loop",
]

SECRET = "rollout-loop-webhook-secret"
TEMPLATE = "acme/tpl"
INSTALLATION = 7
MANIFEST = "name: svc\nquestions:\n  name:\n    type: str\n    default: demo\n"
PEOPLE = {"maria": "maintain", "alice": "write", "bob": "read"}
FINISHED = ("completed", "halted", "rolled-back", "superseded", "preflight-failed")


def consumer_name(n: int) -> str:
    return f"acme/svc{n:03d}"


def fleet_seed(
    consumers: int,
    *,
    canaries: int = 1,
    waves: tuple[float, ...] = (50.0, 100.0),
    bake_seconds: float = 0.0,
    policy: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A template ``acme/tpl`` (v1 tagged, ``rollout.yml`` beside ``template.yml``) and
    ``consumers`` repositories rendered from v1, the first ``canaries`` in the canary ring;
    CI green on every commit; maria maintains, alice writes and bob reads every repository.
    The App is not installed yet: `rollout_loop` installs it so the service hears of it."""
    rollout = {"waves": list(waves), "bake_seconds": bake_seconds, **(policy or {})}
    repos: list[dict[str, Any]] = [
        {
            "full_name": TEMPLATE,
            "files": {
                "template.yml": MANIFEST,
                "rollout.yml": yaml.safe_dump(rollout),
                "files/README.md": "# {{ name }}\n\nline 1\nline 2\n",
                "files/app.py": "VERSION = 1\n",
            },
            "commits": [{"message": "v1", "tag": "v1.0.0"}],
            "collaborators": PEOPLE,
        }
    ]
    for n in range(1, consumers + 1):
        repos.append(
            {
                "full_name": consumer_name(n),
                "render": {
                    "template": TEMPLATE,
                    "ref": "v1.0.0",
                    "answers": {"name": f"svc{n}"},
                    "ring": "canary" if n <= canaries else None,
                },
                "ci": {"always": "success"},
                "collaborators": PEOPLE,
            }
        )
    return {"app": {}, "installations": [], "repos": repos, "random_seed": 11}


def loop_rollout_options(cache: Path, *, reconcile_interval: float = 600.0) -> RolloutOptions:
    """Rollout options for the loop: checks off (their own tests cover them), clones cached."""
    checks = CheckOptions(enabled=False)
    return RolloutOptions(
        templates=GitTemplateFetcher(cache),
        evolve=EvolvePrOptions(checks=checks),
        preflight=PreflightOptions(checks=checks),
        reconcile_interval=reconcile_interval,
    )


def loop_settings(gh: EmulatorHandle, database_url: str, state: Path, **extra: Any) -> Any:
    values: dict[str, Any] = {
        "app_id": str(gh.app_id),
        "private_key": gh.private_key_pem,
        "webhook_secret": SECRET,
        "database_url": database_url,
        "state_dir": state,
        "github_url": gh.api_url,
        "heal_interval": 600.0,
        "shutdown_grace": 5.0,
    }
    values.update(extra)
    return load_settings(**values)


@dataclass
class Loop:
    """A running emulator and service, and what a test or the demo does with them."""

    gh: EmulatorHandle
    service: Service
    url: str
    pool: WorkerPool
    log: io.StringIO
    merged: list[tuple[str, int]] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.service.store

    @property
    def now(self) -> float:
        return self.gh.clock.now()

    def install(self, timeout: float = 60.0) -> int:
        """Install the App on acme; wait until the service has discovered its consumers."""
        installation = self.gh.install("acme", installation_id=INSTALLATION)
        expected = len([r for r in self.gh.emulator.store.data["repos"] if r != TEMPLATE])
        self.wait(lambda: len(self.store.consumers()) >= expected, timeout, "consumers discovered")
        return installation

    def release(self, version: str, files: dict[str, str] | None = None) -> str:
        """Commit ``files`` (template paths) to the template's main branch and push tag
        ``version`` on it, as a platform engineer releasing; the rollout's key."""
        sha = self.gh.push_commit(
            TEMPLATE, "main", files or {"files/app.py": f"VERSION = {version!r}\n"}, "release"
        )
        self.gh.emulator.move_ref(TEMPLATE, f"refs/tags/{version}", sha, pusher="maria")
        return f"{TEMPLATE}@{version}"

    def state(self, key: str) -> RolloutState | None:
        stored = self.store.rollout(key)
        return stored.state if stored is not None else None

    def wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f} s for: {what}")
            time.sleep(0.05)

    def wait_status(self, key: str, *statuses: str, timeout: float = 120.0) -> RolloutState:
        """The rollout once its status is one of ``statuses`` (any, when none is given)."""

        def reached() -> bool:
            state = self.state(key)
            return state is not None and (not statuses or state.status in statuses)

        self.wait(reached, timeout, f"{key} to be {' or '.join(statuses)}")
        state = self.state(key)
        assert state is not None
        return state

    def mergeable(self, key: str) -> list[tuple[str, int]]:
        """The rollout's open PRs whose checks passed (as the service saw them)."""
        state = self.state(key)
        if state is None:
            return []
        return [
            (c.repo, c.number)
            for c in state.consumers
            if c.status == "open" and c.pr_checks is True and c.number is not None
        ]

    def merge(self, repo: str, number: int, *, by: str = "maria") -> str:
        sha = self.gh.merge(repo, number, by=by)
        self.merged.append((repo, number))
        return sha

    def drive(
        self,
        key: str,
        *,
        until: tuple[str, ...] = FINISHED,
        timeout: float = 300.0,
        on_merge: Callable[[str, int], None] | None = None,
    ) -> RolloutState:
        """Merge every green PR of the rollout as a maintainer would, until its status is one
        of ``until``."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state(key)
            if state is not None and state.status in until:
                return state
            if time.monotonic() > deadline:
                status = state.status if state else "not stored"
                raise TimeoutError(f"{key} is still {status} after {timeout:.0f} s")
            for repo, number in self.mergeable(key):
                if (repo, number) in self.merged:
                    continue  # merged; the service has not heard of it yet
                if on_merge is not None:
                    on_merge(repo, number)
                self.merge(repo, number)
            time.sleep(0.1)

    def quiet(self, timeout: float = 60.0) -> None:
        """Wait until CI, webhooks and every due job are done (future timers may stay)."""
        deadline = time.monotonic() + timeout
        calm = 0
        while calm < 3:
            if time.monotonic() > deadline:
                raise TimeoutError("the emulator and the service did not settle")
            self.gh.settle(timeout)
            now = self.service.clock.now()
            busy = [
                j
                for j in self.store.jobs(limit=5000)
                if j.state == "running" or (j.state == "queued" and j.run_after <= now)
            ]
            calm = 0 if busy else calm + 1
            time.sleep(0.1)


@contextmanager
def rollout_loop(
    work_dir: Path,
    seed: dict[str, Any],
    *,
    speed: float = 100.0,
    workers: int = 2,
    database_url: str | None = None,
    install: bool = True,
    settings: dict[str, Any] | None = None,
    serve_workers: bool = True,
) -> Iterator[Loop]:
    """The emulator serving ``seed`` on a clock ``speed`` times faster than the wall, and the
    service (same clock) receiving its webhooks with ``workers`` worker threads."""
    work_dir.mkdir(parents=True, exist_ok=True)
    log = io.StringIO()
    configure_logging(log)
    clock = EmulatorClock(speed=speed)
    with running_emulator(seed, work_dir / "github", clock=clock) as gh:
        url = database_url or f"sqlite:///{work_dir / 'state' / 'evobot.db'}"
        built = loop_settings(gh, url, work_dir / "state", **(settings or {}))
        service = Service.build(
            built,
            clock=clock,
            rollouts=loop_rollout_options(
                work_dir / "template-cache", reconcile_interval=built.heal_interval
            ),
        )
        try:
            with serving_in_thread(service.web_app()) as url:
                pool = service.worker_pool(workers if serve_workers else 0)
                loop = Loop(gh, service, url, pool, log)
                gh.set_webhook(f"{loop.url}/webhook", secret=SECRET)
                pool.start()
                try:
                    if install:
                        loop.install()
                    yield loop
                finally:
                    pool.stop(built.shutdown_grace)
        finally:
            service.store.close()
            structlog.reset_defaults()


@dataclass(frozen=True)
class LoopSummary:
    rollout: str
    status: str
    consumers: int
    merged: int
    emulated_seconds: float
    wall_seconds: float


def run_rollout_loop(
    work_dir: Path, *, consumers: int = 6, speed: float = 100.0, timeout: float = 600.0
) -> LoopSummary:
    """The whole story once: start the emulator and the service, seed a template and
    ``consumers`` consumers (one canary, then waves of 50% and 100%), install the App, release
    v1.1.0, merge every green evolution PR as maintainer maria until the rollout completes."""
    with rollout_loop(work_dir, fleet_seed(consumers), speed=speed) as loop:
        started, wall = loop.now, time.monotonic()
        key = loop.release("v1.1.0")
        state = loop.drive(key, timeout=timeout)
        return LoopSummary(
            rollout=key,
            status=state.status,
            consumers=len(state.consumers),
            merged=len(loop.merged),
            emulated_seconds=loop.now - started,
            wall_seconds=time.monotonic() - wall,
        )


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(run_rollout_loop(Path(tmp)))
