"""Planning a rollout: which consumers go in which wave.

Wave 0 holds the consumers whose ring is ``canary`` (or ring 0); without any, a deterministic
sample of ``canary_percent`` of the fleet, chosen by a stable hash of repository name and
version, so the same release always picks the same canaries and another release picks others.
Consumers with an explicit ring number go in that wave; the rest fill the policy's waves by
cumulative percentage, in the same hash order. Paused consumers are listed, never planned.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.rollout.policy import RolloutPolicy

__all__ = ["Member", "Plan", "WavePlan", "describe_plan", "plan_rollout", "sample_key"]

Ring = Literal["canary"] | int | None


@dataclass(frozen=True)
class Member:
    """One consumer as planning sees it: its name, its ``.evobot.yml`` ring, paused or not."""

    repo: str
    ring: Ring = None
    paused: bool = False


@dataclass(frozen=True)
class WavePlan:
    """One wave: its number (0 is the canary wave) and its consumers, in opening order."""

    number: int
    repos: tuple[str, ...]
    failure_limit: int


@dataclass(frozen=True)
class Plan:
    """The waves of one template version's rollout (only the non-empty ones)."""

    template: str
    version: str
    waves: tuple[WavePlan, ...]
    paused: tuple[str, ...] = ()
    canary_sampled: bool = False

    @property
    def repos(self) -> tuple[str, ...]:
        return tuple(r for wave in self.waves for r in wave.repos)

    def to_json(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "version": self.version,
            "canary_sampled": self.canary_sampled,
            "waves": [
                {"number": w.number, "repos": list(w.repos), "failure_limit": w.failure_limit}
                for w in self.waves
            ],
            "paused": list(self.paused),
        }


def sample_key(repo: str, version: str) -> str:
    """The stable order of consumers within a release: sha256 of the lower-cased name and the
    version (never Python's randomised ``hash``)."""
    return hashlib.sha256(f"{repo.lower()}\0{version}".encode()).hexdigest()


def _count(percent: float, total: int) -> int:
    """How many of ``total`` a percentage takes: rounded up, so a non-zero share is never 0."""
    return min(total, math.ceil(percent * total / 100 - 1e-9))


def plan_rollout(
    template: str, version: str, members: Iterable[Member], policy: RolloutPolicy
) -> Plan:
    """The waves for ``members`` under ``policy`` (pure: same inputs, same plan)."""
    seen: dict[str, Member] = {}
    for member in members:
        seen.setdefault(member.repo, member)
    active = sorted(
        (m for m in seen.values() if not m.paused), key=lambda m: sample_key(m.repo, version)
    )
    paused = tuple(sorted(m.repo for m in seen.values() if m.paused))
    waves: dict[int, list[str]] = {}
    free: list[str] = []
    for m in active:
        if m.ring == "canary" or m.ring == 0:
            waves.setdefault(0, []).append(m.repo)
        elif isinstance(m.ring, int):
            waves.setdefault(m.ring, []).append(m.repo)
        else:
            free.append(m.repo)
    sampled = False
    if not waves.get(0) and free:
        take = _count(policy.canary_percent, len(free))
        if take:
            waves[0], free, sampled = free[:take], free[take:], True
    taken = 0
    for index, percent in enumerate(policy.waves, start=1):
        upto = _count(percent, len(free))
        waves.setdefault(index, []).extend(free[taken:upto])
        taken = max(taken, upto)
    return Plan(
        template=template,
        version=version,
        waves=tuple(
            WavePlan(
                number,
                tuple(waves[number]),
                policy.canary_failure_limit if number == 0 else policy.failure_limit,
            )
            for number in sorted(waves)
            if waves[number]
        ),
        paused=paused,
        canary_sampled=sampled,
    )


def describe_plan(plan: Plan, *, width: int = 8) -> Sequence[str]:
    """Lines for people: each wave with its size and first few consumers."""
    lines = [f"rollout of {plan.template} {plan.version}: {len(plan.repos)} consumers"]
    for wave in plan.waves:
        name = "canary" if wave.number == 0 else f"wave {wave.number}"
        if wave.number == 0 and plan.canary_sampled:
            name += " (sampled)"
        shown = ", ".join(wave.repos[:width])
        more = f", … {len(wave.repos) - width} more" if len(wave.repos) > width else ""
        lines.append(f"  {name}: {len(wave.repos)} ({shown}{more})")
    if plan.paused:
        lines.append(f"  paused, not planned: {', '.join(plan.paused)}")
    return lines
