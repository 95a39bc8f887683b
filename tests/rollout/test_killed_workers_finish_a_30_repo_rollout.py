"""Worker processes killed with SIGKILL at random moments of a 30-consumer rollout (and
replaced) do not stop it: it completes, with exactly one evolution PR per consumer — none
lost, none duplicated — and no comment twice. EVOBOT_KILL_RUNS sets how many runs (seeds);
one by default, to keep the suite fast."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from rollout_service_support import (
    SECRET,
    Loop,
    consumer_name,
    evolution_pulls,
    fleet_seed,
    markers,
    rollout_loop,
)

REPOS = 30
WORKER = Path(__file__).with_name("rollout_worker_main.py")
RUNS = int(os.environ.get("EVOBOT_KILL_RUNS", "1"))
SPEED = 100.0


def spawn(loop: Loop, work: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVOBOT_")}
    settings = loop.service.settings
    env.update(
        EVOBOT_APP_ID=str(loop.gh.app_id),
        EVOBOT_PRIVATE_KEY=loop.gh.private_key_pem,
        EVOBOT_WEBHOOK_SECRET=SECRET,
        EVOBOT_DATABASE_URL=str(settings.database_url),
        EVOBOT_STATE_DIR=str(settings.state_dir),
        EVOBOT_GITHUB_URL=loop.gh.api_url,
        EVOBOT_LEASE_SECONDS="300",  # emulated: 3 s of wall time at x100
        EVOBOT_HEAL_INTERVAL="600",
        EVOBOT_SHUTDOWN_GRACE="1",
        EVOBOT_TEST_CLOCK_SPEED=str(SPEED),
        EVOBOT_TEST_CLOCK_NOW=repr(loop.gh.clock.now()),
        EVOBOT_TEST_CLOCK_WALL=repr(time.time()),
    )
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(work / "template-cache")],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


@pytest.mark.parametrize("seed", range(RUNS))
def test_sigkilled_workers_complete_the_rollout_without_duplicates(
    tmp_path: Path, seed: int
) -> None:
    chance = random.Random(seed)
    with rollout_loop(
        tmp_path, fleet_seed(REPOS), speed=SPEED, serve_workers=False, install=False
    ) as loop:
        log = tmp_path / "workers.log"
        workers = [spawn(loop, tmp_path, log) for _ in range(2)]
        kills = 0
        next_kill = time.monotonic() + chance.uniform(0.5, 3.0)

        def kill_now_and_then(_repo: str = "", _number: int = 0) -> None:
            nonlocal next_kill, kills
            if time.monotonic() < next_kill:
                return
            victim = chance.randrange(len(workers))
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait(timeout=10)
            workers[victim] = spawn(loop, tmp_path, log)
            kills += 1
            next_kill = time.monotonic() + chance.uniform(0.5, 3.0)

        try:
            loop.install(timeout=120)
            key = loop.release("v1.1.0")
            deadline = time.monotonic() + 600
            while (state := loop.state(key)) is None or state.status != "completed":
                assert time.monotonic() < deadline, f"still {state and state.status}"
                assert state is None or state.status not in ("halted", "preflight-failed")
                kill_now_and_then()
                for repo, number in loop.mergeable(key):
                    if (repo, number) not in loop.merged:
                        loop.merge(repo, number)
                time.sleep(0.1)
            loop.quiet(timeout=120)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)

        assert kills >= 1
        repos = [consumer_name(n) for n in range(1, REPOS + 1)]
        assert {c.status for c in state.consumers} == {"green"}
        for repo in repos:
            pulls = evolution_pulls(loop.gh, repo)
            assert [(p["head_ref"], p["state"]) for p in pulls] == [
                ("evobot/svc/v1.1.0", "closed")
            ], repo
            assert pulls[0]["merged_at"] is not None
        assert set(markers(loop.gh, repos).values()) <= {1}
        stored = loop.store.evolution_prs()
        assert sorted(p.repo for p in stored) == repos  # one stored PR per consumer
