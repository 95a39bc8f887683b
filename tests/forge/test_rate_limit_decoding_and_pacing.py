"""Rate-limit headers decide how long to wait; backoff is bounded; the pacer spaces writes."""

from __future__ import annotations

import random

import pytest

from bot.forge.ratelimit import (
    SECONDARY_DEFAULT_WAIT,
    BackoffPolicy,
    Pacer,
    RateLimitInfo,
    is_content_creating,
    is_idempotent,
    rate_limit_wait,
)


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.t = start
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def test_retry_after_wins() -> None:
    headers = {"Retry-After": "30", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "999"}
    assert rate_limit_wait(403, headers, {"message": "x"}, now=0) == 30


def test_exhausted_primary_waits_until_reset() -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100"}
    assert rate_limit_wait(403, headers, None, now=1000) == pytest.approx(101)
    assert rate_limit_wait(429, headers, None, now=1200) == pytest.approx(1)


def test_secondary_limit_without_headers_waits_a_minute() -> None:
    body = {"message": "You have exceeded a secondary rate limit."}
    assert rate_limit_wait(403, {}, body, now=0) == SECONDARY_DEFAULT_WAIT
    assert rate_limit_wait(429, None, None, now=0) == SECONDARY_DEFAULT_WAIT


def test_plain_forbidden_and_server_errors_are_not_rate_limits() -> None:
    body = {"message": "Resource not accessible by integration"}
    assert rate_limit_wait(403, {"x-ratelimit-remaining": "4000"}, body, now=0) is None
    assert rate_limit_wait(502, {"Retry-After": "5"}, None, now=0) is None


def test_rate_limit_info_reads_headers_case_insensitively() -> None:
    info = RateLimitInfo.from_headers(
        {"X-RateLimit-Limit": "5000", "x-ratelimit-remaining": "12.0", "X-RATELIMIT-RESET": "77"}
    )
    assert (info.limit, info.remaining, info.reset) == (5000, 12, 77.0)
    assert RateLimitInfo.from_headers(None).remaining is None


def test_backoff_is_exponential_jittered_and_capped() -> None:
    policy = BackoffPolicy(base=1.0, cap=8.0)
    rng = random.Random(1)
    for attempt in range(8):
        delay = policy.delay(attempt, rng)
        ceiling = min(8.0, 2.0**attempt)
        assert ceiling / 2 <= delay <= ceiling


def test_only_safe_methods_are_idempotent() -> None:
    assert is_idempotent("get") and is_idempotent("PUT") and is_idempotent("DELETE")
    assert not is_idempotent("POST") and not is_idempotent("PATCH")
    assert is_content_creating("POST") and not is_content_creating("GET")


def test_pacer_spaces_content_creating_requests() -> None:
    clock = FakeClock()
    pacer = Pacer(clock, write_interval=1.0)
    for _ in range(3):
        pacer.acquire("POST")
        pacer.release()
        pacer.acquire("GET")  # reads are not paced
        pacer.release()
    assert clock.slept == [1.0, 1.0]


def test_pacer_waits_for_reset_when_budget_is_spent_and_spreads_when_low() -> None:
    clock = FakeClock(1000.0)
    pacer = Pacer(clock, reserve=10)
    pacer.observe(RateLimitInfo(limit=5000, remaining=0, reset=1100.0))
    pacer.acquire("GET")
    pacer.release()
    assert clock.slept == [pytest.approx(101.0)]
    pacer.observe(RateLimitInfo(limit=5000, remaining=5, reset=clock.now() + 50))
    assert pacer.wait_before("GET") == pytest.approx(10.0)


def test_pacer_refuses_zero_concurrency() -> None:
    with pytest.raises(ValueError):
        Pacer(FakeClock(), concurrency=0)
