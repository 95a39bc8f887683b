"""Helpers of the dashboard's tests: a store seeded with a realistic fleet (two releases of one
template, the second halted by a post-merge failure), the dashboard app over it, and the
dashboard served on a loopback port for the browser."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.clock import ManualClock
from bot.pipeline.preflight import ConsumerPreflight, PreflightReport
from bot.pipeline.rollout import event_detail, preflight_entity
from bot.rollout import Plan, WavePlan, new_rollout, transition
from bot.rollout.events import (
    Event,
    PostMergeChecks,
    PrChecks,
    PreflightFinished,
    PrMerged,
    PrOpened,
    RevertOpened,
    Start,
    Tick,
)
from bot.service.dashboard import DashboardAccess
from bot.service.metrics import ServiceMetrics
from bot.service.web import WebDeps, create_app
from bot.store import Store

TEMPLATE = "fastapi-service"
OLD, NEW = "1.3.0", "1.4.0"
CANARY = ("acme/billing",)
WAVE_1 = ("acme/orders", "acme/search", "acme/users")
WAVE_2 = ("acme/ledger", "acme/mail", "acme/payments")
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC).timestamp()
HOUR = 3600.0
SEARCH_PR, REVERT_PR = 13, 14


def _apply(store: Store, clock: ManualClock, key: str, event: Event, cause: str) -> None:
    stored = store.rollout(key)
    assert stored is not None
    step = transition(stored.state, event)
    assert step.change is not None, f"{event} changed nothing"
    store.record_transition(
        key,
        revision=stored.revision,
        state=step.state,
        event=type(event).__name__,
        detail=event_detail(event),
        change=step.change,
        cause=cause,
    )


def _plan(version: str) -> Plan:
    return Plan(
        TEMPLATE,
        version,
        (WavePlan(0, CANARY, 0), WavePlan(1, WAVE_1, 0), WavePlan(2, WAVE_2, 0)),
    )


def _preflight(store: Store, key: str, version: str) -> None:
    consumers = tuple(
        ConsumerPreflight(
            repo,
            changed=True,
            conflicts=("app/settings.py",) if repo == "acme/search" else (),
            files_changed=3 + i,
            lines_added=40 + 5 * i,
            lines_removed=12 + i,
        )
        for i, repo in enumerate(CANARY + WAVE_1 + WAVE_2)
    )
    report = PreflightReport(version, consumers, True, ())
    store.append_audit(preflight_entity(key), json.dumps(report.to_json()), "effect:RunPreflight")


def _merge(store: Store, clock: ManualClock, key: str, repo: str, number: int, **how: Any) -> None:
    """Open ``repo``'s PR, pass its checks, merge it after ``hours`` and judge the merge."""
    at = clock.now
    version = key.split("@")[1]
    branch = f"evobot/{TEMPLATE}/{version}"
    _apply(store, clock, key, PrOpened(repo=repo, number=number, at=at()), f"effect:OpenPr:{repo}")
    store.upsert_evolution_pr(
        repo, number, branch=branch, state="open", template_version=version, cause="delivery:o"
    )
    _apply(store, clock, key, PrChecks(repo=repo, number=number, passed=True, at=at()), "d:c")
    store.upsert_evolution_pr(
        repo,
        number,
        branch=branch,
        state="open",
        template_version=version,
        check_state="success",
        cause="delivery:c",
    )
    clock.advance(how.get("hours", 1.0) * HOUR)
    sha = f"{number:040x}"
    _apply(store, clock, key, PrMerged(repo=repo, number=number, merge_commit=sha, at=at()), "d:m")
    store.upsert_evolution_pr(
        repo,
        number,
        branch=branch,
        state="merged",
        template_version=version,
        check_state="success",
        merge_commit=sha,
        cause="delivery:m",
    )
    clock.advance(600)
    passed = how.get("green", True)
    failing = () if passed else ("tests",)
    event = PostMergeChecks(repo=repo, sha=sha, passed=passed, failing=failing, at=at())
    _apply(store, clock, key, event, "delivery:post")
    if passed:
        store.set_consumer_version(repo, version, cause="delivery:merged")


def _bake(store: Store, clock: ManualClock, key: str) -> None:
    clock.advance(HOUR + 1)
    _apply(store, clock, key, Tick(at=clock.now()), "timer")


@dataclass(frozen=True)
class Fleet:
    old_key: str
    new_key: str


def seed_fleet(store: Store, clock: ManualClock) -> Fleet:
    """Two releases: 1.3.0 completed over three waves; 1.4.0 halted in wave 1, where
    acme/search failed its checks after the merge and got revert PR #14, acme/orders is
    green and acme/users's PR is still open; wave 2 never opened."""
    store.upsert_template(
        TEMPLATE, "https://github.com/acme/fastapi-template", latest_version=NEW, cause="d:t"
    )
    for repo in CANARY + WAVE_1 + WAVE_2:
        store.upsert_consumer(
            repo,
            template=TEMPLATE,
            current_version="1.2.0",
            ring="canary" if repo in CANARY else None,
            cause="delivery:installation",
        )
    numbers = iter(range(3, 100))
    for version, outcome in ((OLD, "completed"), (NEW, "halted")):
        state = new_rollout(_plan(version), bake_seconds=HOUR)
        store.create_rollout(state, cause=f"delivery:push-{version}")
        key = state.id
        _apply(store, clock, key, Start(at=clock.now()), f"delivery:push-{version}")
        _preflight(store, key, version)
        clock.advance(300)
        _apply(store, clock, key, PreflightFinished(passed=True, summary="ok", at=clock.now()), "e")
        _merge(store, clock, key, "acme/billing", next(numbers), hours=2)
        _bake(store, clock, key)
        if outcome == "completed":
            for i, repo in enumerate(WAVE_1):
                _merge(store, clock, key, repo, next(numbers), hours=1 + i)
            _bake(store, clock, key)
            for repo in WAVE_2:
                _merge(store, clock, key, repo, next(numbers), hours=4)
            _bake(store, clock, key)
            clock.advance(24 * HOUR)
            continue
        _merge(store, clock, key, "acme/orders", 11, hours=3)
        users = 12
        _apply(store, clock, key, PrOpened(repo="acme/users", number=users, at=clock.now()), "e")
        store.upsert_evolution_pr(
            "acme/users",
            users,
            branch=f"evobot/{TEMPLATE}/{version}",
            state="open",
            template_version=version,
            cause="delivery:u",
        )
        _merge(store, clock, key, "acme/search", SEARCH_PR, hours=1, green=False)
        _apply(
            store,
            clock,
            key,
            RevertOpened(repo="acme/search", number=REVERT_PR, at=clock.now()),
            "e",
        )
        store.upsert_revert_pr(
            "acme/search",
            REVERT_PR,
            branch=f"evobot/revert/{TEMPLATE}/{version}",
            reverts_commit=f"{SEARCH_PR:040x}",
            evolution_pr=SEARCH_PR,
            state="open",
            cause="effect:RevertEvolution",
        )
    return Fleet(f"{TEMPLATE}@{OLD}", f"{TEMPLATE}@{NEW}")


def dashboard_app(store: Store, access: DashboardAccess) -> FastAPI:
    """The service's web app over ``store``, with the dashboard behind ``access``."""
    return create_app(
        WebDeps(
            store=store,
            secret="dashboard-test-secret",
            metrics=ServiceMetrics(),
            readiness=list,
            dashboard=access,
        )
    )


LOOPBACK = ("127.0.0.1", 50000)


def local_client(app: FastAPI, client: tuple[str, int] = LOOPBACK) -> TestClient:
    """A test client asking ``app`` for http://127.0.0.1:8000/... from ``client``'s address."""
    return TestClient(app, base_url="http://127.0.0.1:8000", client=client)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on a free loopback port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
