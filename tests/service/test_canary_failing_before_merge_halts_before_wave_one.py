"""The canary's evolution PR fails its checks before anyone merges it: the service halts the
rollout in the canary wave and no PR is opened for any later wave."""

from __future__ import annotations

from pathlib import Path

from rollout_service_support import consumer_name, evolution_pulls, fleet_seed, rollout_loop


def test_a_failing_canary_halts_the_rollout_before_wave_one(tmp_path: Path) -> None:
    with rollout_loop(tmp_path, fleet_seed(4)) as loop:
        canary = consumer_name(1)
        loop.gh.set_ci(canary, {"always": "failure"})
        key = loop.release("v1.1.0")

        state = loop.wait_status(key, "halted", timeout=120)
        loop.quiet()

        assert state.reason is not None and "wave 0" in state.reason
        assert [w.status for w in state.waves] == ["failed", "pending", "pending"]
        c = state.consumer(canary)
        assert c is not None and c.status == "checks-failed" and c.pr_checks is False
        assert [p["state"] for p in evolution_pulls(loop.gh, canary)] == ["open"]
        for n in range(2, 5):
            assert evolution_pulls(loop.gh, consumer_name(n)) == []
        assert loop.state(key) == state  # nothing moved while the queue drained
