"""Quiet onboarding decisions, pure: a consumer discovered after releases gets no PR under
``onboarding: none`` (the default), and under ``one-pr`` one PR to the newest version — unless
there is no release yet, it is already there, it is paused, or that version's rollout has it."""

from __future__ import annotations

import pytest

from bot.rollout import RolloutPolicyError, parse_rollout_policy
from bot.rollout.onboarding import decide_onboarding


@pytest.mark.parametrize(
    ("policy_text", "current", "latest", "in_rollout", "paused", "version", "reason"),
    [
        ("", "v1", "v3", False, False, None, "onboarding: none"),
        ("onboarding: none\n", "v1", "v3", False, False, None, "joins the next rollout"),
        ("onboarding: one-pr\n", "v1", "v3", False, False, "v3", "one onboarding PR to v3"),
        ("onboarding: one-pr\n", "v1", None, False, False, None, "no release"),
        ("onboarding: one-pr\n", "v3", "v3", False, False, None, "already at v3"),
        ("onboarding: one-pr\n", "v1", "v3", True, False, None, "already has it"),
        ("onboarding: one-pr\n", "v1", "v3", False, True, None, "paused"),
    ],
)
def test_one_pr_to_the_newest_version_or_none(
    policy_text: str,
    current: str,
    latest: str | None,
    in_rollout: bool,
    paused: bool,
    version: str | None,
    reason: str,
) -> None:
    decision = decide_onboarding(
        parse_rollout_policy(policy_text),
        current_version=current,
        latest_version=latest,
        in_rollout_of_latest=in_rollout,
        paused=paused,
    )
    assert decision.open_pr is (version is not None)
    assert decision.version == version
    assert reason in decision.reason


def test_an_unknown_onboarding_mode_is_refused_naming_the_key() -> None:
    with pytest.raises(RolloutPolicyError, match=r"rollout.yml: onboarding: Input should be"):
        parse_rollout_policy("onboarding: storm\n")
