"""Every webhook delivered three times and out of order (a relay between the emulator and the
service duplicates and shuffles them) leads the rollout — through a post-merge failure, its
revert, a resume and completion — to the same end as single, ordered deliveries: no duplicate
PR, no duplicate comment."""

from __future__ import annotations

from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rollout_service_support import (
    consumer_name,
    evolution_pulls,
    fleet_seed,
    markers,
    rollout_loop,
    shuffling_relay,
)

CONSUMERS = 4


def run(tmp_path: Path, *, relay: bool) -> dict[str, Any]:
    with rollout_loop(tmp_path, fleet_seed(CONSUMERS)) as loop, ExitStack() as stack:
        repos = [consumer_name(n) for n in range(1, CONSUMERS + 1)]
        sent = stack.enter_context(shuffling_relay(loop)) if relay else None
        canary = repos[0]
        key = loop.release("v1.1.0")
        loop.wait(lambda: bool(loop.mergeable(key)), 120, "the canary's PR to be green")
        ((_, number),) = loop.mergeable(key)
        loop.gh.set_ci(canary, {"always": "failure"})
        loop.merge(canary, number)
        loop.wait_status(key, "halted", timeout=120)
        loop.quiet()
        loop.gh.set_ci(canary, {"always": "success"})
        loop.gh.comment(canary, number, "/evobot resume --rollout", user="maria")
        loop.wait(lambda: loop.wait_status(key).status != "halted", 60, "the resume")
        state = loop.drive(key, timeout=240)
        loop.quiet()
        if sent is not None:
            loop.wait(sent.idle, 30, "the relay to forward everything")
            loop.quiet()
            assert sent.sent >= 3 * len(loop.gh.deliveries) - 3 * 5  # all but the last batch
        return {
            "status": state.status,
            "consumers": sorted((c.repo, c.wave, c.status) for c in state.consumers),
            "pulls": sorted(
                (repo, p["head_ref"], p["state"])
                for repo in repos
                for p in evolution_pulls(loop.gh, repo)
            ),
            "markers": markers(loop.gh, repos),
            # Each recorded change, counted once: which transition carries "wave 1 passed"
            # depends on which of two merges is observed last, not on how often it happened.
            "changes": Counter(
                part for t in loop.store.rollout_transitions(key) for part in t.change.split("; ")
            ),
        }


def test_deliveries_three_times_out_of_order_change_nothing(tmp_path: Path) -> None:
    once = run(tmp_path / "once", relay=False)
    thrice = run(tmp_path / "thrice", relay=True)

    assert once["status"] == thrice["status"] == "completed"
    assert thrice["consumers"] == once["consumers"]
    assert thrice["pulls"] == once["pulls"]
    assert len(thrice["pulls"]) == CONSUMERS + 1  # one evolution PR each, one revert PR
    assert set(thrice["markers"].values()) == {1}  # no comment twice
    assert thrice["markers"].keys() == once["markers"].keys()
    assert thrice["changes"] == once["changes"]  # each transition applied once
