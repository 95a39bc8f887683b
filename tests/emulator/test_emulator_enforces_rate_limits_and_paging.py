"""Primary and secondary rate limits with GitHub's headers, a clock that makes an hour pass in
a test, Link pagination and conditional requests (ETag → 304)."""

from __future__ import annotations

import threading

import httpx

from bot.emulator.testing import EmulatorHandle


def test_primary_limit_answers_403_with_reset_and_recovers_when_the_window_ends(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    emulator.set_limits(rate_limit=3)
    for expected_remaining in (2, 1, 0):
        ok = api.get("/repos/acme/svc")
        assert ok.status_code == 200
        assert ok.headers["X-RateLimit-Remaining"] == str(expected_remaining)
        assert ok.headers["X-RateLimit-Limit"] == "3"
        assert ok.headers["X-RateLimit-Resource"] == "core"
    refused = api.get("/repos/acme/svc")
    assert refused.status_code == 403
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "rate limit exceeded" in refused.json()["message"]
    reset = int(refused.headers["X-RateLimit-Reset"])
    assert 0 < reset - emulator.clock.now() <= 3600
    assert emulator.primary_limit_hits == 1

    emulator.clock.advance(reset - emulator.clock.now() + 1)
    # An hour later the token has expired too; the limit belongs to the installation.
    api.headers["Authorization"] = f"token {emulator.installation_token('acme')}"
    again = api.get("/repos/acme/svc")
    assert again.status_code == 200
    assert again.headers["X-RateLimit-Remaining"] == "2"


def test_rate_limit_endpoint_reports_without_spending(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    api.get("/repos/acme/svc")
    first = api.get("/rate_limit").json()["resources"]["core"]
    second = api.get("/rate_limit").json()["resources"]["core"]
    assert first["used"] == second["used"] == 1
    assert first["limit"] == 5000


def test_content_creation_beyond_the_minute_budget_gets_retry_after(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    emulator.set_limits(secondary_per_minute=3)
    for i in range(3):
        assert api.post("/repos/acme/svc/labels", json={"name": f"l{i}"}).status_code == 201
    refused = api.post("/repos/acme/svc/labels", json={"name": "late"})
    assert refused.status_code == 403
    assert "secondary rate limit" in refused.json()["message"]
    retry_after = int(refused.headers["Retry-After"])
    assert 0 < retry_after <= 60
    assert api.get("/repos/acme/svc").status_code == 200  # reads are not content creation
    emulator.clock.advance(retry_after)
    assert api.post("/repos/acme/svc/labels", json={"name": "late"}).status_code == 201
    assert emulator.secondary_limit_hits == 1


def test_too_many_concurrent_requests_hit_the_secondary_limit(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    emulator.set_limits(concurrent=1)
    emulator.inject(latency=0.4)
    statuses: list[int] = []

    def one() -> None:
        statuses.append(api.get("/repos/acme/svc").status_code)

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses)[0] == 200
    assert 403 in statuses


def test_an_accelerated_clock_makes_an_hour_pass_in_a_moment(emulator: EmulatorHandle) -> None:
    start = emulator.clock.now()
    emulator.clock.speed = 3600.0
    emulator.clock.sleep(1800)  # half an hour of emulated time, half a second of real time
    assert emulator.clock.now() - start >= 1800


def test_lists_paginate_with_link_headers(emulator: EmulatorHandle, api: httpx.Client) -> None:
    for i in range(5):
        api.post("/repos/acme/svc/labels", json={"name": f"label-{i}"})
    first = api.get("/repos/acme/svc/labels", params={"per_page": 2})
    assert [label["name"] for label in first.json()] == ["label-0", "label-1"]
    links = first.links
    assert set(links) == {"next", "last"}
    last = api.get(links["last"]["url"])
    assert [label["name"] for label in last.json()] == ["label-4"]
    assert set(last.links) == {"prev", "first"}
    middle = api.get(links["next"]["url"])
    assert [label["name"] for label in middle.json()] == ["label-2", "label-3"]


def test_conditional_get_answers_304_when_nothing_changed(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    first = api.get("/repos/acme/svc/branches/main")
    etag = first.headers["ETag"]
    same = api.get("/repos/acme/svc/branches/main", headers={"If-None-Match": etag})
    assert same.status_code == 304
    assert same.content == b""
    emulator.push_commit("acme/svc", "main", {"x.txt": "x\n"}, author="alice")
    changed = api.get("/repos/acme/svc/branches/main", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_a_304_does_not_spend_the_rate_limit(emulator: EmulatorHandle, api: httpx.Client) -> None:
    first = api.get("/repos/acme/svc")
    remaining = first.headers["X-RateLimit-Remaining"]
    again = api.get("/repos/acme/svc", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["X-RateLimit-Remaining"] == remaining


def test_limits_can_be_refused_with_429_as_github_sometimes_does(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    emulator.set_limits(rate_limit=1, refusal_status=429)
    assert api.get("/repos/acme/svc").status_code == 200
    refused = api.get("/repos/acme/svc")
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Remaining"] == "0"


def test_changing_the_clock_speed_keeps_time_continuous(emulator: EmulatorHandle) -> None:
    clock = emulator.clock
    before = clock.now()
    clock.speed = 1000.0
    assert clock.now() - before < 5
    clock.sleep(100)  # a tenth of a real second
    clock.speed = 1.0
    middle = clock.now()
    assert middle - before >= 100
    assert clock.now() - middle < 1
