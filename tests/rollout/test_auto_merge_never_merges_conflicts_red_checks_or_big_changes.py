"""Auto-merge decisions, pure: a table of each reason a green-looking PR stays unmerged, and a
property over every combination — a merge is decided only when the consumer opted in, the
rollout runs, the consumer is open and not paused, the checks are green, GitHub says there is no
conflict and the churn is at most ``max_churn_lines``."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.consumer import AutoMergeSettings, parse_consumer_config
from bot.errors import ConsumerConfigError
from bot.rollout.automerge import MergeFacts, decide_auto_merge
from bot.rollout.state import ACTIVE, CONSUMER_STATUSES, ROLLOUT_STATUSES

ON = AutoMergeSettings(enabled=True)
GREEN = MergeFacts(
    rollout_status="wave-open",
    consumer_status="open",
    paused=False,
    pr_open=True,
    checks_passed=True,
    mergeable=True,
    additions=120,
    deletions=80,
)


@pytest.mark.parametrize(
    ("settings", "facts", "reason"),
    [
        (None, GREEN, "auto-merge is off"),
        (AutoMergeSettings(), GREEN, "auto-merge is off"),
        (ON, replace(GREEN, pr_open=False), "the PR is not open"),
        (ON, replace(GREEN, rollout_status="halted"), "the rollout is halted"),
        (ON, replace(GREEN, rollout_status="paused"), "the rollout is paused"),
        (ON, replace(GREEN, paused=True), "the consumer is paused"),
        (ON, replace(GREEN, consumer_status="checks-failed"), "the consumer is checks-failed"),
        (ON, replace(GREEN, checks_passed=None), "the checks are not green"),
        (ON, replace(GREEN, checks_passed=False), "the checks are not green"),
        (ON, replace(GREEN, mergeable=None), "GitHub has not computed"),
        (ON, replace(GREEN, mergeable=False), "does not merge without conflicts"),
        (ON, replace(GREEN, additions=121), "201 lines, above max_churn_lines (200)"),
        (
            AutoMergeSettings(enabled=True, max_churn_lines=10),
            GREEN,
            "200 lines, above max_churn_lines (10)",
        ),
    ],
)
def test_each_reason_keeps_the_pr_open(
    settings: AutoMergeSettings | None, facts: MergeFacts, reason: str
) -> None:
    decision = decide_auto_merge(settings, facts)
    assert not decision.merge
    assert reason in decision.reason


def test_a_green_small_pr_of_a_consumer_that_opted_in_is_merged() -> None:
    decision = decide_auto_merge(ON, GREEN)
    assert decision.merge and "200 lines (at most 200)" in decision.reason
    assert decide_auto_merge(ON, replace(GREEN, rollout_status="wave-baking")).merge


@given(
    enabled=st.booleans(),
    limit=st.none() | st.integers(0, 500),
    rollout=st.sampled_from(ROLLOUT_STATUSES),
    consumer=st.sampled_from(CONSUMER_STATUSES),
    paused=st.booleans(),
    pr_open=st.booleans(),
    checks=st.sampled_from([None, True, False]),
    mergeable=st.sampled_from([None, True, False]),
    additions=st.integers(0, 400),
    deletions=st.integers(0, 400),
)
def test_a_merge_is_decided_only_when_every_condition_holds(
    enabled: bool,
    limit: int | None,
    rollout: str,
    consumer: str,
    paused: bool,
    pr_open: bool,
    checks: bool | None,
    mergeable: bool | None,
    additions: int,
    deletions: int,
) -> None:
    settings = AutoMergeSettings(enabled=enabled, max_churn_lines=limit)
    facts = MergeFacts(rollout, consumer, paused, pr_open, checks, mergeable, additions, deletions)
    expected = (
        enabled
        and rollout in ACTIVE
        and consumer == "open"
        and not paused
        and pr_open
        and checks is True
        and mergeable is True
        and additions + deletions <= (200 if limit is None else limit)
    )
    assert decide_auto_merge(settings, facts).merge is expected


def test_evobot_yml_keys_are_checked() -> None:
    base = "template: gh:acme/tpl\nversion: {commit: abc123}\n"
    config = parse_consumer_config(
        base + "pr: {auto_merge: {enabled: true, max_churn_lines: 50}}\ndashboard_issue: true\n"
    )
    assert config.pr is not None and config.pr.auto_merge is not None
    assert config.pr.auto_merge.churn_limit == 50 and config.dashboard_issue is True
    with pytest.raises(ConsumerConfigError, match=r"pr.auto_merge.when: Extra inputs"):
        parse_consumer_config(base + "pr: {auto_merge: {when: green}}\n")
    with pytest.raises(ConsumerConfigError, match=r"pr.auto_merge.max_churn_lines: Input should"):
        parse_consumer_config(base + "pr: {auto_merge: {max_churn_lines: -1}}\n")
