"""Injected faults: scripted failures for exact tests, a seeded random fraction of 5xx that
repeats run after run, timeouts beyond the client's patience, and added latency."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests_emulator_support import client_for

from bot.emulator.testing import EmulatorHandle, running_emulator


def test_scripted_failures_hit_only_matching_requests_then_stop(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    emulator.fail_next(2, status=502, match=r"^GET /repos/\{owner\}/\{repo\}$")
    assert api.get("/repos/acme/svc/branches").status_code == 200
    first, second, third = (api.get("/repos/acme/svc") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (502, 502, 200)
    assert first.json()["message"] == "Server Error"
    assert emulator.injected_faults == 2


def _statuses(seed: dict[str, Any], state: Path) -> list[int]:
    seed = {**seed, "random_seed": 1234, "faults": {"error_rate": 0.3}}
    with (
        running_emulator(seed, state) as handle,
        client_for(handle, handle.installation_token("acme")) as api,
    ):
        return [api.get("/repos/acme/svc").status_code for _ in range(30)]


def test_random_faults_follow_the_seed_and_repeat_exactly(
    seed: dict[str, Any], tmp_path: Path
) -> None:
    first = _statuses(seed, tmp_path / "one")
    second = _statuses(seed, tmp_path / "two")
    assert first == second
    failures = [s for s in first if s >= 500]
    assert 3 <= len(failures) <= 20
    assert set(failures) <= {500, 502, 503}


def test_a_timeout_outlasts_the_client_and_a_retry_succeeds(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    emulator.inject(timeout_delay=1.0)
    emulator.fail_next(1, timeout=True)
    with pytest.raises(httpx.ReadTimeout):
        api.get("/repos/acme/svc", timeout=0.3)
    assert api.get("/repos/acme/svc").status_code == 200


def test_latency_is_added_to_every_api_request(emulator: EmulatorHandle, api: httpx.Client) -> None:
    emulator.inject(latency=0.25)
    start = time.monotonic()
    api.get("/repos/acme/svc")
    assert time.monotonic() - start >= 0.25
    emulator.clear_faults()
    start = time.monotonic()
    api.get("/repos/acme/svc")
    assert time.monotonic() - start < 0.25


def test_control_api_steers_a_served_emulator(emulator: EmulatorHandle, api: httpx.Client) -> None:
    control = httpx.Client(base_url=f"{emulator.base_url}/_emulator", trust_env=False)
    assert control.post("/inject", json={"fail_next": {"count": 1, "status": 503}}).is_success
    assert api.get("/repos/acme/svc").status_code == 503
    assert control.post("/limits", json={"rate_limit": 1, "reset": True}).is_success
    assert api.get("/repos/acme/svc").status_code == 200
    assert api.get("/repos/acme/svc").status_code == 403
    before = control.get("/clock").json()["now"]
    assert control.post("/clock", json={"advance": 3600}).json()["now"] >= before + 3600
    counters = control.get("/counters").json()
    assert counters["endpoints"]["GET /repos/{owner}/{repo}"] == 3
    assert counters["primary_limit_hits"] == 1
    assert control.post("/counters/reset").is_success
    assert control.get("/counters").json()["total"] == 0
    token = control.post("/tokens", json={"owner": "acme"}).json()["token"]
    assert client_for(emulator, token).get("/repos/acme/svc").status_code == 200
    assert control.post("/inject", json={"bogus": 1}).status_code == 422


def test_a_lost_answer_after_the_write_makes_a_blind_retry_collide(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    emulator.push_commit("acme/svc", "topic", {"t.txt": "t\n"}, author="alice")
    emulator.fail_next(1, status=502, match=r"^POST /repos/\{owner\}/\{repo\}/pulls$", after=True)
    body = {"title": "T", "head": "topic", "base": "main"}
    assert api.post("/repos/acme/svc/pulls", json=body).status_code == 502
    assert [p["head_ref"] for p in emulator.pulls("acme/svc")] == ["topic"]
    retry = api.post("/repos/acme/svc/pulls", json=body)
    assert retry.status_code == 422
    assert "already exists" in retry.json()["errors"][0]["message"]
