"""After a failed request the forge retries, re-reads or fails by a pure rule of the method, the
status, the headers, the attempt and whether the answer was lost: tested as a table."""

from __future__ import annotations

import pytest

from bot.forge.ratelimit import SECONDARY_DEFAULT_WAIT, BackoffPolicy
from bot.forge.retry import Decision, Fail, Failure, Reread, Retry, decide

POLICY = BackoffPolicy(base=1.0, cap=8.0, max_attempts=4, max_rate_limit_waits=3)
NOW = 1_000.0
SECONDARY = {"message": "You have exceeded a secondary rate limit."}


def _decide(failure: Failure, jitter: float = 0.0) -> Decision:
    return decide(failure, POLICY, now=NOW, jitter=jitter)


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        # Rate limits: never performed, so any method waits them out.
        (Failure("POST", 403, {"Retry-After": "30"}), Retry(30.0, "rate limited (HTTP 403)", True)),
        (Failure("GET", 429, None), Retry(SECONDARY_DEFAULT_WAIT, "rate limited (HTTP 429)", True)),
        (
            Failure("PATCH", 403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100"}),
            Retry(101.0, "rate limited (HTTP 403)", True),
        ),
        (
            Failure("POST", 403, {}, SECONDARY, rate_waits=2),
            Retry(SECONDARY_DEFAULT_WAIT, "rate limited (HTTP 403)", True),
        ),
        (Failure("POST", 403, {}, SECONDARY, rate_waits=3), Fail("rate limited 4 times in a row")),
        # The wait cap: a reset further away than evobot waits fails at once.
        (
            Failure("GET", 403, {"Retry-After": "3901"}),
            Fail("rate limited for 3901 s, longer than the 3900 s evobot waits"),
        ),
        (
            Failure("GET", 403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9000"}),
            Fail("rate limited for 8001 s, longer than the 3900 s evobot waits"),
        ),
        # A refusal that is not a rate limit fails; a 401 on a renewable token gets one retry.
        (
            Failure("GET", 403, {"x-ratelimit-remaining": "9"}, {"message": "nope"}),
            Fail("HTTP 403"),
        ),
        (Failure("GET", 404), Fail("HTTP 404")),
        (Failure("POST", 422), Fail("HTTP 422")),
        (Failure("GET", 401), Fail("HTTP 401")),
        (
            Failure("GET", 401, renewable_token=True),
            Retry(0.0, "credentials refused", renew_token=True),
        ),
        (Failure("GET", 401, renewable_token=True, attempt=1), Fail("HTTP 401")),
        # Server errors and missing answers: bounded backoff for what is safe to repeat.
        (Failure("GET", 502, answer_lost=True), Retry(0.5, "HTTP 502")),
        (Failure("GET", 503, answer_lost=True, attempt=2), Retry(2.0, "HTTP 503")),
        (Failure("GET", 500, answer_lost=True, attempt=3), Fail("HTTP 500 after 4 attempts", True)),
        (
            Failure("PUT", None, answer_lost=True, what="ReadTimeout (h)"),
            Retry(0.5, "ReadTimeout (h)"),
        ),
        (Failure("POST", 502, answer_lost=True, idempotent=True), Retry(0.5, "HTTP 502")),
        # A write whose answer was lost may have happened: look before repeating it.
        (Failure("POST", 502, answer_lost=True, can_reread=True), Reread(0.5, "HTTP 502")),
        (Failure("PATCH", None, answer_lost=True, can_reread=True), Reread(0.5, "no answer")),
        (
            Failure("POST", 504, answer_lost=True),
            Fail("HTTP 504", may_have_happened=True),
        ),
        # A write that never reached GitHub (connection refused) is simply sent again.
        (Failure("POST", None, answer_lost=False), Retry(0.5, "no answer")),
        (
            Failure("POST", 502, answer_lost=True, can_reread=True, attempt=3),
            Fail("HTTP 502 after 4 attempts", True),
        ),
    ],
)
def test_decision_table(failure: Failure, expected: Decision) -> None:
    assert _decide(failure) == expected


def test_jitter_picks_within_the_band_and_the_cap_holds() -> None:
    assert _decide(Failure("GET", 502), jitter=1.0) == Retry(1.0, "HTTP 502")
    assert _decide(Failure("GET", 502, attempt=2), jitter=0.5) == Retry(3.0, "HTTP 502")
    capped = decide(
        Failure("GET", 502, attempt=9),
        BackoffPolicy(base=1.0, cap=8.0, max_attempts=20),
        now=NOW,
        jitter=1.0,
    )
    assert capped == Retry(8.0, "HTTP 502")


def test_a_lost_post_is_never_repeated_blindly() -> None:
    for status in (None, 500, 502, 503, 504):
        for attempt in range(POLICY.max_attempts):
            decision = _decide(Failure("POST", status, answer_lost=True, attempt=attempt))
            assert isinstance(decision, Fail), (status, attempt, decision)
            reread = _decide(
                Failure("POST", status, answer_lost=True, attempt=attempt, can_reread=True)
            )
            assert not isinstance(reread, Retry), (status, attempt, reread)
