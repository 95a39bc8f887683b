"""Rollouts, pure: policy, planning, the state machine, metrics, command parsing and
authorisation. Nothing here talks to GitHub or the database; `bot.pipeline.rollout` carries out
the effects and `bot.store` persists the state (docs/rollouts.md, docs/commands.md).
"""

from __future__ import annotations

from bot.rollout.machine import Step, transition
from bot.rollout.plan import Member, Plan, WavePlan, describe_plan, plan_rollout, sample_key
from bot.rollout.policy import (
    POLICY_NAME,
    RolloutPolicy,
    RolloutPolicyError,
    is_release_tag,
    parse_rollout_policy,
)
from bot.rollout.state import (
    ConsumerState,
    RolloutState,
    WaveState,
    new_rollout,
    rollout_id,
)

__all__ = [
    "POLICY_NAME",
    "ConsumerState",
    "Member",
    "Plan",
    "RolloutPolicy",
    "RolloutPolicyError",
    "RolloutState",
    "Step",
    "WavePlan",
    "WaveState",
    "describe_plan",
    "is_release_tag",
    "new_rollout",
    "parse_rollout_policy",
    "plan_rollout",
    "rollout_id",
    "sample_key",
    "transition",
]
