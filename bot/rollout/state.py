"""The rollout's persisted state: the rollout, its waves and each consumer, as frozen records.

`RolloutState.to_json` / `from_json` round-trip it through the store; nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, get_args

from bot.rollout.plan import Plan

__all__ = [
    "ACTIVE",
    "TERMINAL",
    "ConsumerState",
    "ConsumerStatus",
    "RolloutState",
    "RolloutStatus",
    "WaveState",
    "WaveStatus",
    "new_rollout",
    "rollout_id",
]

RolloutStatus = Literal[
    "planned",
    "queued",
    "preflight",
    "preflight-failed",
    "wave-open",
    "wave-baking",
    "paused",
    "halted",
    "completed",
    "rolled-back",
    "superseded",
]
WaveStatus = Literal["pending", "open", "baking", "passed", "failed"]
ConsumerStatus = Literal[
    "pending",  # its wave has not opened (or it is paused)
    "opening",  # an OpenPr effect is under way
    "open",  # its evolution PR is open
    "checks-failed",  # its PR's checks failed before merge (a failure; a push may fix it)
    "merged",  # merged, waiting for the checks on the default branch
    "green",  # merged and green on the default branch
    "closed",  # closed unmerged (a failure)
    "blocked",  # evolve_pr could not open it (a failure)
    "reverted",  # a revert PR was opened for it
    "skipped",  # `/evobot skip`, or already at this version
]

ROLLOUT_STATUSES: tuple[str, ...] = get_args(RolloutStatus)
WAVE_STATUSES: tuple[str, ...] = get_args(WaveStatus)
CONSUMER_STATUSES: tuple[str, ...] = get_args(ConsumerStatus)

ACTIVE: frozenset[RolloutStatus] = frozenset({"wave-open", "wave-baking"})
TERMINAL: frozenset[RolloutStatus] = frozenset({"completed", "rolled-back", "superseded"})


def rollout_id(template: str, version: str) -> str:
    """The rollout's key: one rollout per template version."""
    return f"{template}@{version}"


@dataclass(frozen=True)
class ConsumerState:
    repo: str
    wave: int
    status: ConsumerStatus = "pending"
    paused: bool = False
    number: int | None = None
    merge_commit: str | None = None
    revert_number: int | None = None
    halt_noticed: bool = False
    reason: str | None = None
    opened_at: float | None = None
    merged_at: float | None = None
    green_at: float | None = None
    pr_checks: bool | None = None
    post_checks: bool | None = None


@dataclass(frozen=True)
class WaveState:
    number: int
    failure_limit: int
    status: WaveStatus = "pending"
    opened_at: float | None = None
    bake_until: float | None = None
    accepted_failures: int = 0


@dataclass(frozen=True)
class RolloutState:
    """One template version's rollout. ``current`` indexes ``waves``; ``template_repo`` and
    ``tag_sha`` say where the release was made (the preflight's verdict goes there as a commit
    status), ``release_issue`` an issue or PR there to comment on."""

    template: str
    version: str
    status: RolloutStatus
    waves: tuple[WaveState, ...]
    consumers: tuple[ConsumerState, ...]
    bake_seconds: float
    current: int = 0
    paused_from: RolloutStatus | None = None
    reason: str | None = None
    template_repo: str | None = None
    tag_sha: str | None = None
    release_issue: int | None = None

    @property
    def id(self) -> str:
        return rollout_id(self.template, self.version)

    def consumer(self, repo: str) -> ConsumerState | None:
        for c in self.consumers:
            if c.repo == repo:
                return c
        return None

    def in_wave(self, index: int) -> tuple[ConsumerState, ...]:
        return tuple(c for c in self.consumers if c.wave == index)

    def with_consumer(self, repo: str, **changes: Any) -> RolloutState:
        return replace(
            self,
            consumers=tuple(replace(c, **changes) if c.repo == repo else c for c in self.consumers),
        )

    def with_wave(self, index: int, **changes: Any) -> RolloutState:
        return replace(
            self,
            waves=tuple(
                replace(w, **changes) if i == index else w for i, w in enumerate(self.waves)
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RolloutState:
        values = dict(data)
        values["waves"] = tuple(WaveState(**w) for w in data["waves"])
        values["consumers"] = tuple(ConsumerState(**c) for c in data["consumers"])
        return cls(**values)


def new_rollout(
    plan: Plan,
    *,
    bake_seconds: float,
    status: RolloutStatus = "planned",
    template_repo: str | None = None,
    tag_sha: str | None = None,
    release_issue: int | None = None,
) -> RolloutState:
    """The state of a rollout about to start (``planned``, or ``queued`` behind another).

    The plan's paused consumers are not part of it: they stay at their version."""
    return RolloutState(
        template=plan.template,
        version=plan.version,
        status=status,
        waves=tuple(WaveState(w.number, w.failure_limit) for w in plan.waves),
        consumers=tuple(
            sorted(
                (ConsumerState(r, index) for index, w in enumerate(plan.waves) for r in w.repos),
                key=lambda c: c.repo,
            )
        ),
        bake_seconds=bake_seconds,
        template_repo=template_repo,
        tag_sha=tag_sha,
        release_issue=release_issue,
    )
