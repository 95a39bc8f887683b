"""A template release reaches every consumer through the service, over HTTP with the emulator
sending webhooks: the tag starts a rollout (preflight, then the canary wave), each wave opens
only after the one before passed (its PRs merged by a maintainer and green on the default
branch), and the rollout completes with one evolution PR per consumer, each merged."""

from __future__ import annotations

from pathlib import Path

from rollout_service_support import (
    TEMPLATE,
    consumer_name,
    evolution_pulls,
    fleet_seed,
    rollout_loop,
)


def test_three_waves_open_in_order_and_the_rollout_completes(tmp_path: Path) -> None:
    with rollout_loop(tmp_path, fleet_seed(5, waves=(50.0, 100.0))) as loop:
        key = loop.release("v1.1.0")
        assert key == f"{TEMPLATE}@v1.1.0"
        opened_by_wave: dict[int, list[float]] = {}
        merged_by_wave: dict[int, list[float]] = {}

        state = loop.drive(key, timeout=180)

        assert state.status == "completed"
        assert [w.status for w in state.waves] == ["passed", "passed", "passed"]
        assert [len(state.in_wave(i)) for i in range(3)] == [1, 2, 2]
        assert {c.status for c in state.consumers} == {"green"}
        for c in state.consumers:
            assert c.opened_at is not None and c.merged_at is not None
            opened_by_wave.setdefault(c.wave, []).append(c.opened_at)
            merged_by_wave.setdefault(c.wave, []).append(c.merged_at)
        # No wave opened before every PR of the wave before it was merged.
        for wave in (1, 2):
            assert min(opened_by_wave[wave]) >= max(merged_by_wave[wave - 1])

        repos = [consumer_name(n) for n in range(1, 6)]
        for repo in repos:
            pulls = evolution_pulls(loop.gh, repo)
            assert [(p["head_ref"], p["merged_at"] is not None) for p in pulls] == [
                ("evobot/svc/v1.1.0", True)
            ], repo
            assert loop.gh.read_file(repo, "main", "app.py") == b"VERSION = 'v1.1.0'\n"

        # The preflight's verdict is on the tag's commit, before any PR.
        tag = loop.gh.branch_sha(TEMPLATE, "main")
        statuses = loop.gh.emulator.store.data["statuses"].values()
        assert [(s["sha"], s["context"], s["state"]) for s in statuses] == [
            (tag, "evobot/preflight", "success")
        ]
        transitions = loop.store.rollout_transitions(key)
        assert transitions[0].cause.startswith("delivery:")  # the tag's push
        assert [t.event for t in transitions[:2]] == ["Start", "PreflightFinished"]
