"""What can happen to a rollout (events) and what the rollout asks the world to do (effects).

Events come from webhook deliveries, timers, commands and the results of earlier effects; every
one carries ``at``, the time it happened, so the state machine never reads a clock. Effects are
plain data: the pipeline (`bot.pipeline.rollout`) carries them out and feeds their outcomes back
as events.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ClosePr",
    "Effect",
    "Event",
    "NoticeHalt",
    "OpenPr",
    "Pause",
    "PostMergeChecks",
    "PrBlocked",
    "PrChecks",
    "PrClosed",
    "PrMerged",
    "PrNoChange",
    "PrOpened",
    "PreflightFinished",
    "Promote",
    "ReportPreflight",
    "Resume",
    "Retry",
    "RevertEvolution",
    "RevertOpened",
    "Rollback",
    "RunPreflight",
    "Skip",
    "Start",
    "Supersede",
    "Tick",
    "Wake",
]


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Start:
    """Begin a planned (or queued) rollout: run the preflight."""

    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class PreflightFinished:
    passed: bool
    summary: str
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class PrOpened:
    """`evolve_pr` opened (or found, or updated) the consumer's evolution PR ``number``."""

    repo: str
    number: int
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class PrNoChange:
    """`evolve_pr` found the consumer already at this version: nothing to open."""

    repo: str
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class PrBlocked:
    """`evolve_pr` could not open the PR (a secret in the output, an unreadable consumer)."""

    repo: str
    reason: str
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class PrChecks:
    """The evolution PR's checks, before merge, completed green (``passed``) or red."""

    repo: str
    number: int
    passed: bool
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class PrMerged:
    repo: str
    number: int
    merge_commit: str
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class PrClosed:
    """The evolution PR was closed without being merged."""

    repo: str
    number: int
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class PostMergeChecks:
    """The checks on the evolution's merge commit ``sha`` on the default branch completed."""

    repo: str
    sha: str
    passed: bool
    failing: tuple[str, ...] = ()
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class RevertOpened:
    repo: str
    number: int
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Tick:
    """A timer: the bake time of the current wave may have elapsed."""

    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Pause:
    """``/evobot pause``: one consumer (``repo``), or the whole rollout (``repo`` None)."""

    repo: str | None = None
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Resume:
    """``/evobot resume``: one consumer, or the whole rollout (also after a halt, or to start
    despite a failed preflight)."""

    repo: str | None = None
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Promote:
    """``/evobot promote``: the current wave passes now (bake skipped); ``full``: open every
    remaining wave."""

    full: bool = False
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Rollback:
    """``/evobot rollback``: revert every merged consumer, close every open PR."""

    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Skip:
    """``/evobot skip``: this version is not for ``repo``."""

    repo: str
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Retry:
    """``/evobot retry``: evolve ``repo`` again (its PR was closed, blocked or failed checks)."""

    repo: str
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Supersede:
    """A newer version of the template started its own rollout."""

    by_version: str
    at: float = 0.0


Event = (
    Start
    | PreflightFinished
    | PrOpened
    | PrNoChange
    | PrBlocked
    | PrChecks
    | PrMerged
    | PrClosed
    | PostMergeChecks
    | RevertOpened
    | Tick
    | Pause
    | Resume
    | Promote
    | Rollback
    | Skip
    | Retry
    | Supersede
)


# --- effects ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunPreflight:
    """Evolve every consumer in memory (reads only) and answer with `PreflightFinished`."""


@dataclass(frozen=True)
class ReportPreflight:
    """Say on the template repository (commit status on the tag, a comment) how it went."""

    passed: bool
    summary: str


@dataclass(frozen=True)
class OpenPr:
    """Open (or update) ``repo``'s evolution PR; answer with `PrOpened`, `PrNoChange` or
    `PrBlocked`."""

    repo: str


@dataclass(frozen=True)
class ClosePr:
    repo: str
    number: int
    reason: str


@dataclass(frozen=True)
class RevertEvolution:
    """Open the revert PR of ``repo``'s merged evolution PR ``number`` and say why on it;
    answer with `RevertOpened`. ``failing`` names the checks that failed (none: a rollback)."""

    repo: str
    number: int
    merge_commit: str
    failing: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoticeHalt:
    """One comment on ``repo``'s open PR ``number`` explaining that the rollout halted."""

    repo: str
    number: int
    reason: str


@dataclass(frozen=True)
class Wake:
    """Send a `Tick` at ``at`` (the end of a wave's bake time)."""

    at: float


Effect = RunPreflight | ReportPreflight | OpenPr | ClosePr | RevertEvolution | NoticeHalt | Wake
