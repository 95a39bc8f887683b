"""The rate-limit rules at their edges: which headers and messages count, where the pacer starts
and stops waiting, and what the hourly budget counts (found by `make mutate`)."""

from __future__ import annotations

import pytest
from forge_helpers import FakeClock

from bot.forge.ratelimit import (
    SECONDARY_DEFAULT_WAIT,
    BackoffPolicy,
    HourlyWriteBudget,
    Pacer,
    RateLimitInfo,
    is_content_creating,
    rate_limit_wait,
    shared_write_budget,
)
from bot.forge.retry import Failure, Retry, decide


def test_every_header_is_read() -> None:
    info = RateLimitInfo.from_headers(
        {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "7",
            "x-ratelimit-reset": "99",
            "x-ratelimit-used": "4993",
            "x-ratelimit-resource": "core",
        }
    )
    assert info == RateLimitInfo(limit=5000, remaining=7, reset=99.0, used=4993, resource="core")
    assert RateLimitInfo.from_headers({"x-ratelimit-remaining": "lots"}).remaining is None


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (403, {"Retry-After": "0"}, None, 0.0),
        (403, {"Retry-After": "-5"}, None, 0.0),
        (403, {"x-ratelimit-remaining": "5", "x-ratelimit-reset": "2000"}, {"message": "no"}, None),
        (403, {"x-ratelimit-remaining": "0"}, {"message": "no"}, None),
        (403, {}, {"message": "You have triggered an abuse detection mechanism."}, 60.0),
        (403, {}, "API rate limit exceeded", SECONDARY_DEFAULT_WAIT),
        (403, {}, "Forbidden", None),
        (403, {}, {"errors": []}, None),
        (403, {}, 12, None),
    ],
)
def test_rate_limit_wait_edges(
    status: int, headers: dict[str, str], body: object, expected: float | None
) -> None:
    assert rate_limit_wait(status, headers, body, now=1000.0) == expected


def test_all_four_writing_methods_are_content_creating() -> None:
    assert all(is_content_creating(m) for m in ("post", "PATCH", "put", "DELETE"))
    assert not any(is_content_creating(m) for m in ("GET", "HEAD", "OPTIONS"))


def test_a_wait_exactly_at_the_cap_is_still_waited() -> None:
    policy = BackoffPolicy(max_rate_limit_wait=3900.0)
    decision = decide(Failure("GET", 403, {"Retry-After": "3900"}), policy, now=0.0, jitter=0.0)
    assert decision == Retry(3900.0, "rate limited (HTTP 403)", rate_limited=True)


def test_jitter_outside_zero_to_one_is_clamped() -> None:
    policy = BackoffPolicy(base=1.0, cap=8.0)
    assert policy.backoff(2, 5.0) == 4.0
    assert policy.backoff(2, -1.0) == 2.0


def test_pacer_waits_only_on_a_known_budget_before_its_reset() -> None:
    clock = FakeClock(1000.0)
    pacer = Pacer(clock, reserve=10)
    pacer.observe(RateLimitInfo(limit=None, remaining=0, reset=None))
    assert pacer.wait_before("GET") == 0.0  # no reset time: nothing to wait for
    pacer.observe(RateLimitInfo(limit=None, remaining=0, reset=1000.0))
    assert pacer.wait_before("GET") == 0.0  # the window resets now
    pacer.observe(RateLimitInfo(limit=None, remaining=1, reset=1050.0))
    assert pacer.wait_before("GET") == pytest.approx(50.0)  # one left: spread, not exhausted
    pacer.observe(RateLimitInfo(limit=None, remaining=10, reset=1050.0))
    assert pacer.wait_before("GET") == 0.0  # at the reserve, not below it


def test_a_write_waits_for_an_exhausted_budget_too() -> None:
    clock = FakeClock(1000.0)
    pacer = Pacer(clock, write_interval=1.0)
    pacer.observe(RateLimitInfo(limit=None, remaining=0, reset=1100.0))
    assert pacer.wait_before("POST") == pytest.approx(101.0)
    pacer.observe(RateLimitInfo(limit=None, remaining=4000, reset=1100.0))
    assert pacer.wait_before("POST") == pytest.approx(102.0)  # a second after that write


def test_pacer_adds_up_what_it_waited() -> None:
    clock = FakeClock(0.0)
    pacer = Pacer(clock, write_interval=2.0, concurrency=1)
    for _ in range(3):
        pacer.acquire("POST")
        pacer.release()
    assert pacer.waited == pytest.approx(4.0)


def test_budget_counts_a_grant_exactly_one_window_old_as_gone() -> None:
    budget = HourlyWriteBudget(limit=5, window=10.0)
    budget.reserve(0.0)
    budget.reserve(5.0)
    assert budget.used(10.0) == 1
    assert budget.used(9.0) == 2


def test_each_identity_and_limit_has_its_own_budget() -> None:
    one = shared_write_budget("https://a.test#installation:1", 500)
    assert shared_write_budget("https://a.test#installation:2", 500) is not one
    assert shared_write_budget("https://a.test#installation:1", 400) is not one
