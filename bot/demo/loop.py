"""The whole loop (`evobot demo`): the GitHub emulator and the webhook service on loopback ports
in a scratch state directory, the FastAPI template and its consumers seeded, the teams' local
edits pushed, the App installed, template v1.1.0 released, and a maintainer merging PRs until the
rollout ends — with one consumer's CI failing after its merge, a revert PR, a halt and a
`/evobot resume`.

The demo may import the emulator but not the service (they sit side by side in the layers), so
the caller hands in ``start_service``: given where GitHub is and the App's credentials, it runs
the service and yields what the demo reads (its URL and store). `bot/cli/demo.py` builds it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bot.clock import Clock
from bot.demo.fleet import ORG, PLATFORM, RELEASE, Fleet, edit_consumers, make_fleet, release
from bot.demo.maintainer import Maintainer
from bot.demo.steps import DemoError
from bot.demo.summary import Summary, summarise
from bot.emulator.clock import EmulatorClock
from bot.emulator.testing import EmulatorHandle, running_emulator
from bot.rollout import RolloutState
from bot.store import Store

__all__ = [
    "DEFAULT_REPOS",
    "LoopOptions",
    "RunningService",
    "ServiceInputs",
    "ServiceStarter",
    "run_loop",
]

DEFAULT_REPOS = 12
FINISHED = frozenset({"completed", "rolled-back", "superseded", "preflight-failed"})


@dataclass(frozen=True)
class ServiceInputs:
    """What the service needs to run against the demo's emulator."""

    api_url: str
    app_id: int
    private_key_pem: str
    webhook_secret: str
    state_dir: Path
    clock: Clock


class RunningService(Protocol):
    """A running service, as the demo sees it."""

    @property
    def url(self) -> str: ...

    @property
    def store(self) -> Store: ...


ServiceStarter = Callable[[ServiceInputs], AbstractContextManager[RunningService]]


@dataclass(frozen=True)
class LoopOptions:
    repos: int = DEFAULT_REPOS
    speed: float = 100.0  # the emulated clock runs this many times faster than the wall
    timeout: float = 110.0  # wall seconds for the rollout, from the release on
    break_one: bool = True


@dataclass
class Running:
    """The loop while it runs: for the live view, and for `--serve` afterwards."""

    gh: EmulatorHandle
    service: RunningService
    fleet: Fleet
    key: str
    maintainer: Maintainer
    story: list[str] = field(default_factory=list)

    def state(self) -> RolloutState | None:
        stored = self.service.store.rollout(self.key)
        return stored.state if stored is not None else None

    def summary(self, *, stopped: str | None = None) -> Summary:
        transitions = [
            {"event": t.event, "change": t.change, "cause": t.cause}
            for t in self.service.store.rollout_transitions(self.key)
        ]
        return summarise(
            self.gh,
            self.fleet,
            self.key,
            self.state(),
            self.maintainer,
            self.story,
            stopped,
            transitions,
        )


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise DemoError(f"the demo waited {timeout:.0f} s for {what}")
        time.sleep(0.05)


@contextmanager
def running_loop(
    work_dir: Path,
    start_service: ServiceStarter,
    options: LoopOptions,
    *,
    say: Callable[[str], None] = lambda _text: None,
) -> Iterator[Running]:
    """Start everything, seed, edit, install and release; yield the loop (the rollout begun).
    Stops the service and the emulator on exit."""
    fleet = make_fleet(options.repos)
    clock = EmulatorClock(speed=options.speed)
    story: list[str] = []
    webhook_secret = secrets.token_hex(16)  # a fresh one each run, known to both sides only

    def note(text: str) -> None:
        story.append(text)
        say(text)

    note(f"emulator: {fleet.template_repo} at v1.0.0 and {options.repos} consumers rendered")
    with running_emulator(fleet.seed(), work_dir / "github", clock=clock) as gh:
        inputs = ServiceInputs(
            api_url=gh.api_url,
            app_id=gh.app_id,
            private_key_pem=gh.private_key_pem,
            webhook_secret=webhook_secret,
            state_dir=work_dir / "service",
            clock=clock,
        )
        with start_service(inputs) as service:
            gh.set_webhook(f"{service.url}/webhook", secret=webhook_secret)
            note(f"service: {service.url} (state in {inputs.state_dir})")
            edit_consumers(gh, fleet)
            note("teams: local edits committed (routes, on-call notes, dependencies, changelog)")
            gh.settle()
            gh.install(ORG)
            _wait(
                lambda: len(service.store.consumers()) >= len(fleet.consumers),
                30,
                "the service to discover the consumers",
            )
            note(f"App installed on {ORG}: the service found {len(fleet.consumers)} consumers")
            key = release(gh, fleet)
            note(f"@{PLATFORM} tagged {RELEASE}: request ids in headers and logs")
            store = service.store

            def status() -> str | None:
                stored = store.rollout(key)
                return stored.state.status if stored is not None else None

            maintainer = Maintainer(
                gh,
                repos=tuple(c.repo for c in fleet.consumers),
                canaries=fleet.canaries,
                status=status,
                break_one=options.break_one,
                say=note,
            )
            running = Running(gh, service, fleet, key, maintainer, story)
            yield running


def drive(
    running: Running,
    options: LoopOptions,
    *,
    on_tick: Callable[[Running], None] = lambda _r: None,
) -> Summary:
    """Let the maintainer act until the rollout finishes or ``options.timeout`` passes; the
    summary says honestly where it stopped."""
    deadline = time.monotonic() + options.timeout
    seen: str | None = None
    while True:
        state = running.state()
        status = state.status if state is not None else None
        if status != seen and status is not None:
            running.story.append(f"rollout {running.key}: {status}")
            seen = status
        on_tick(running)
        if status in FINISHED:
            return running.summary()
        if time.monotonic() > deadline:
            return running.summary(stopped=_where(running, status, options.timeout))
        running.maintainer.step()
        time.sleep(0.2)


def _where(running: Running, status: str | None, timeout: float) -> str:
    if status is None:
        return (
            f"after {timeout:.0f} s the service had not begun a rollout for {running.key}: "
            "the release tag did not start one"
        )
    return f"after {timeout:.0f} s the rollout {running.key} was still {status}"


def run_loop(
    work_dir: Path,
    start_service: ServiceStarter,
    options: LoopOptions | None = None,
    *,
    say: Callable[[str], None] = lambda _text: None,
    on_tick: Callable[[Running], None] = lambda _r: None,
    after: Callable[[Running, Summary], None] = lambda _r, _s: None,
) -> Summary:
    """The whole loop once; ``after`` runs while everything is still up (for `--serve`)."""
    options = options or LoopOptions()
    with running_loop(work_dir, start_service, options, say=say) as running:
        summary = drive(running, options, on_tick=on_tick)
        after(running, summary)
        return summary
