"""Worker processes (`evobot worker`): one killed with SIGKILL mid-job loses nothing — once its
lease expires another worker takes the job over and completes it, once; one sent SIGTERM
mid-job stops claiming, gives the job back to the queue (the attempt not counted) and exits."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from evobot_testing import REPO_ROOT, build_file_tree, git_commit_all, git_init
from service_support import CONSUMER, SECRET, TEMPLATE_FILES, fleet_seed, private_key_pem

from bot.emulator.testing import running_emulator
from bot.store import Job, Store

BRANCH = "evobot/acme-greeter-template/v2"


@pytest.fixture
def silent_github() -> Iterator[str]:
    """An API address that accepts connections and never answers: a job using it hangs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/api/v3"


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "worker", "--workers", "1"],
        env=env,
        cwd=REPO_ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def worker_env(gh: object, database_url: str, state: Path, github_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVOBOT_")}
    env.update(
        EVOBOT_APP_ID=str(gh.app_id),  # type: ignore[attr-defined]
        EVOBOT_PRIVATE_KEY=gh.private_key_pem,  # type: ignore[attr-defined]
        EVOBOT_WEBHOOK_SECRET=SECRET,
        EVOBOT_DATABASE_URL=database_url,
        EVOBOT_STATE_DIR=str(state),
        EVOBOT_GITHUB_URL=github_url,
        EVOBOT_LEASE_SECONDS="5",
        EVOBOT_SHUTDOWN_GRACE="1",
    )
    return env


def queue_pull_request(gh: object, store: Store) -> Job:
    """The `pull_request` `opened` delivery the emulator logged, stored as the web edge would."""
    delivery = next(d for d in gh.deliveries if d.event == "pull_request")  # type: ignore[attr-defined]
    payload = delivery.payload
    assert store.record_delivery(
        delivery.guid,
        "pull_request",
        "opened",
        payload["installation"]["id"],
        delivery.body.decode(),
        job_key=f"repo:{CONSUMER}",
    )
    return store.jobs(state="queued")[0]


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[object]:
    template = git_init(tmp_path / "template-src")
    build_file_tree(template, TEMPLATE_FILES)
    git_commit_all(template, "v1", tag="v1.0.0")
    seed = fleet_seed(template, private_key_pem())
    seed["installations"] = [{"id": 5, "account": "acme"}]
    with running_emulator(seed, tmp_path / "gh") as gh:
        gh.push_commit(CONSUMER, BRANCH, {"a.txt": "1\n"}, author="evobot[bot]")
        gh.open_pull(CONSUMER, BRANCH, title="evolve", user="evobot[bot]")
        gh.settle()
        yield gh


def test_a_worker_killed_mid_job_is_taken_over_and_the_job_completes_once(
    tmp_path: Path, db_url: str, fleet: object, silent_github: str
) -> None:
    store = Store.open(db_url)
    try:
        job = queue_pull_request(fleet, store)
        hung = start_worker(worker_env(fleet, db_url, tmp_path, silent_github), tmp_path / "w1.log")
        try:
            wait_for(lambda: store.job(job.id).state == "running", 60, "no worker claimed the job")
        finally:
            hung.send_signal(signal.SIGKILL)
            hung.wait(timeout=10)
        assert store.job(job.id).state == "running"  # held by a dead worker's lease

        env = worker_env(fleet, db_url, tmp_path, fleet.api_url)  # type: ignore[attr-defined]
        healthy = start_worker(env, tmp_path / "w2.log")
        try:
            wait_for(lambda: store.job(job.id).state == "done", 60, "the job never completed")
        finally:
            healthy.send_signal(signal.SIGTERM)
            assert healthy.wait(timeout=30) == 0
        done = store.job(job.id)
        assert done.attempts == 2  # the killed worker's claim, then the one that completed
        assert [(p.repo, p.state) for p in store.evolution_prs()] == [(CONSUMER, "open")]
        opened = [r for r in store.audit_log(limit=1000) if r.change.startswith("opened")]
        assert len(opened) == 1
        log = (tmp_path / "w2.log").read_text()
        assert '"event": "job.done"' in log and '"event": "worker.process_stopped"' in log
    finally:
        store.close()


def test_sigterm_mid_job_releases_the_job_and_exits(
    tmp_path: Path, db_url: str, fleet: object, silent_github: str
) -> None:
    store = Store.open(db_url)
    try:
        job = queue_pull_request(fleet, store)
        worker = start_worker(
            worker_env(fleet, db_url, tmp_path, silent_github), tmp_path / "w.log"
        )
        try:
            wait_for(lambda: store.job(job.id).state == "running", 60, "no worker claimed the job")
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
        released = store.job(job.id)
        assert released.state == "queued" and released.lease_owner is None
        assert released.attempts == 0  # a released attempt is not counted
        log = (tmp_path / "w.log").read_text()
        assert '"event": "job.released"' in log
    finally:
        store.close()
