"""Helpers for rollout tests: a rollout from literal waves, and events applied in turn."""

from __future__ import annotations

from collections.abc import Sequence

from bot.rollout import RolloutState, new_rollout, transition
from bot.rollout.events import Effect, Event, PreflightFinished, PrMerged, PrOpened, Start
from bot.rollout.plan import Plan, WavePlan


def make_rollout(
    waves: Sequence[Sequence[str]],
    *,
    bake: float = 0.0,
    limits: Sequence[int] | None = None,
    template: str = "svc",
    version: str = "1.1.0",
) -> RolloutState:
    plan = Plan(
        template,
        version,
        tuple(
            WavePlan(i, tuple(repos), (limits[i] if limits else 0)) for i, repos in enumerate(waves)
        ),
    )
    return new_rollout(plan, bake_seconds=bake)


def run(state: RolloutState, *events: Event) -> tuple[RolloutState, list[Effect]]:
    """Apply ``events`` in order; the final state and every effect asked for."""
    effects: list[Effect] = []
    for event in events:
        step = transition(state, event)
        state = step.state
        effects.extend(step.effects)
    return state, effects


def started(waves: Sequence[Sequence[str]], **kwargs: object) -> RolloutState:
    """A rollout past its preflight, the canary wave's PRs being opened."""
    state, _ = run(
        make_rollout(waves, **kwargs),  # type: ignore[arg-type]
        Start(at=0),
        PreflightFinished(passed=True, summary="ok", at=0),
    )
    return state


def open_and_merge(repo: str, number: int, at: float = 1.0) -> list[Event]:
    return [
        PrOpened(repo=repo, number=number, at=at),
        PrMerged(repo=repo, number=number, merge_commit=f"m{number}", at=at),
    ]
