"""When the service never begins (or never finishes) the rollout, the demo does not pretend:
the summary has no rollout state, says where it stopped, and is not ok."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.clock import SystemClock
from bot.demo.fleet import make_fleet, release
from bot.demo.loop import LoopOptions, Running, drive
from bot.demo.maintainer import Maintainer
from bot.emulator.testing import running_emulator
from bot.store import Store


@dataclass(frozen=True)
class _Silent:
    """A service that hears nothing: its store never holds a rollout."""

    url: str
    store: Store


def test_a_rollout_never_begun_is_reported_as_stopped(tmp_path: Path) -> None:
    fleet = make_fleet(3)
    store = Store.open(f"sqlite:///{tmp_path / 'evobot.db'}", clock=SystemClock())
    try:
        with running_emulator(fleet.seed(), tmp_path / "github") as gh:
            key = release(gh, fleet)
            maintainer = Maintainer(
                gh, repos=fleet.canaries, canaries=fleet.canaries, status=lambda: None
            )
            running = Running(gh, _Silent("http://127.0.0.1:9", store), fleet, key, maintainer)

            summary = drive(running, LoopOptions(repos=3, timeout=0.5))
    finally:
        store.close()

    assert summary.ok is False
    assert summary.data["rollout"]["state"] is None
    assert summary.data["waves"] == []
    assert summary.data["stopped"] == (
        "after 0 s the service had not begun a rollout for "
        "acme/fastapi-service@v1.1.0: the release tag did not start one"
    )
    assert [c["pr_state"] for c in summary.data["not_in_rollout"]] == ["none"] * 3
