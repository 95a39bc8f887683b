"""A template's rollout policy: which tags start a rollout, how waves grow, when a wave passes.

It lives in ``rollout.yml`` beside the template's ``template.yml`` (read at the released tag),
validated with pydantic (``extra="forbid"``); without the file every default below applies.
"""

from __future__ import annotations

import re
from typing import Literal

from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.consumer import parse_yaml_model
from bot.errors import EvobotError

__all__ = [
    "POLICY_NAME",
    "FloodPolicy",
    "PreflightPolicy",
    "RolloutPolicy",
    "RolloutPolicyError",
    "is_release_tag",
    "parse_rollout_policy",
]

POLICY_NAME = "rollout.yml"


class RolloutPolicyError(EvobotError):
    """A template's ``rollout.yml`` that is malformed or invalid."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PreflightPolicy(_Model):
    """What the preflight (every consumer evolved in memory) must show before any PR opens."""

    max_conflict_percent: float = Field(default=10.0, ge=0, le=100)
    allow_blocking: bool = False


class FloodPolicy(_Model):
    """Fleet-wide caps on evolution PRs, per installation.

    A new PR costs about five content-creating requests (tree, commit, ref, PR, maybe a label);
    GitHub allows 500 an hour, so 80 new PRs an hour leaves room for comments and reverts.
    """

    max_open_prs: int = Field(default=200, ge=1)
    max_new_prs_per_hour: int = Field(default=80, ge=1)


class RolloutPolicy(_Model):
    """How one template's versions reach its consumers."""

    tag_pattern: str | None = Field(
        default=None,
        description="a regular expression a tag must match in full; default: PEP 440 releases",
    )
    canary_percent: float = Field(default=5.0, ge=0, le=100)
    waves: list[float] = Field(default_factory=lambda: [10.0, 50.0, 100.0], min_length=1)
    bake_seconds: float = Field(default=3600.0, ge=0)
    canary_failure_limit: int = Field(default=0, ge=0)
    failure_limit: int = Field(default=0, ge=0)
    on_newer_version: Literal["supersede", "queue"] = "supersede"
    preflight: PreflightPolicy = Field(default_factory=PreflightPolicy)
    flood: FloodPolicy = Field(default_factory=FloodPolicy)
    onboarding: Literal["none", "one-pr"] = Field(
        default="none",
        description="a consumer that appears after releases were made: no PR until the next "
        "rollout (none), or one PR to the newest version (one-pr)",
    )

    @field_validator("tag_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _waves_grow_to_all(self) -> RolloutPolicy:
        previous = 0.0
        for percent in self.waves:
            if not previous < percent <= 100:
                raise ValueError(
                    "waves: each percentage must be above the one before and at most 100, "
                    f"got {self.waves}"
                )
            previous = percent
        if self.waves[-1] != 100:
            raise ValueError(f"waves: the last wave must reach 100, got {self.waves}")
        return self


def parse_rollout_policy(text: str | bytes | None, *, source: str = POLICY_NAME) -> RolloutPolicy:
    """The policy in ``text`` (a ``rollout.yml``), or the defaults when there is none."""
    if text is None or not str(text if isinstance(text, str) else text.decode()).strip():
        return RolloutPolicy()
    return parse_yaml_model(text, RolloutPolicy, source=source, error=RolloutPolicyError)


def is_release_tag(tag: str, policy: RolloutPolicy) -> bool:
    """Whether ``tag`` starts a rollout: it matches ``tag_pattern`` in full, or by default it
    is a PEP 440 final release (``1.2.0``, ``v1.2.0``; not ``1.2.0rc1`` nor ``1.2.0.dev3``)."""
    if policy.tag_pattern is not None:
        return re.fullmatch(policy.tag_pattern, tag) is not None
    try:
        version = Version(tag[1:] if tag[:1] in ("v", "V") else tag)
    except InvalidVersion:
        return False
    return not (version.is_prerelease or version.is_devrelease)
