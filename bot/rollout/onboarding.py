"""Quiet onboarding, pure: what a consumer that appears after releases were made receives.

A repository newly installed (or newly given a `.evobot.yml`) is never sent one PR per past
version: under the template's ``onboarding: none`` it waits for the next rollout, which plans
it like any other consumer; under ``one-pr`` it gets one PR to the newest version, unless it is
already there or a running rollout of that version already has it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.rollout.policy import RolloutPolicy

__all__ = ["OnboardDecision", "decide_onboarding"]


@dataclass(frozen=True)
class OnboardDecision:
    open_pr: bool
    version: str | None
    reason: str


def decide_onboarding(
    policy: RolloutPolicy,
    *,
    current_version: str | None,
    latest_version: str | None,
    in_rollout_of_latest: bool,
    paused: bool = False,
) -> OnboardDecision:
    """One PR to ``latest_version`` or none, with why."""
    if policy.onboarding == "none":
        return OnboardDecision(False, None, "onboarding: none; it joins the next rollout")
    if latest_version is None:
        return OnboardDecision(False, None, "no release of the template is known yet")
    if paused:
        return OnboardDecision(False, None, "the consumer is paused")
    if current_version == latest_version:
        return OnboardDecision(False, None, f"already at {latest_version}")
    if in_rollout_of_latest:
        return OnboardDecision(False, None, f"the rollout of {latest_version} already has it")
    return OnboardDecision(True, latest_version, f"one onboarding PR to {latest_version}")
