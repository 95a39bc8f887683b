"""What the dashboard's pages show, read from the store: plain frozen views, no HTML.

Rollouts and their waves come from the stored state machine state; each consumer's PR, checks
and revert from that state and the stored PRs; churn and conflicts from the rollout's preflight
report (`bot.pipeline.rollout.PREFLIGHT_ENTITY`); a consumer's version history from its audit
log and its evolution PRs; outcome metrics from `bot.rollout.metrics.rollout_metrics`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.pipeline.rollout import preflight_entity
from bot.rollout.machine import FAILED, UNSETTLED
from bot.rollout.metrics import RolloutMetrics, rollout_metrics
from bot.rollout.state import ConsumerState, RolloutState
from bot.store import AuditRecord, Consumer, EvolutionPr, RevertPr, Store, StoredRollout

__all__ = [
    "ConsumerPage",
    "ConsumerRow",
    "RolloutPage",
    "RolloutSummary",
    "WaveProgress",
    "consumer_page",
    "rollout_page",
    "rollout_summaries",
]


@dataclass(frozen=True)
class WaveProgress:
    """One wave: its consumers, how many are done (green or skipped), failed, still moving."""

    number: int
    label: str
    status: str
    total: int
    done: int
    failed: int
    waiting: int
    failure_limit: int

    @property
    def settled(self) -> int:
        return self.done + self.failed


@dataclass(frozen=True)
class RolloutSummary:
    key: str
    template: str
    version: str
    status: str
    reason: str | None
    current_wave: int | None
    waves: tuple[WaveProgress, ...]
    consumers: int
    metrics: RolloutMetrics
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class ConsumerRow:
    """One consumer in one rollout, as the rollout page lists it."""

    repo: str
    wave: int
    status: str
    paused: bool
    number: int | None
    pr_checks: bool | None
    post_checks: bool | None
    merge_commit: str | None
    reason: str | None
    revert_number: int | None
    revert_state: str | None
    files_changed: int | None
    lines_added: int | None
    lines_removed: int | None
    conflicts: tuple[str, ...] | None

    @property
    def failed(self) -> bool:
        return self.status in FAILED


@dataclass(frozen=True)
class Transition:
    revision: int
    event: str
    change: str
    cause: str
    at: float


@dataclass(frozen=True)
class RolloutPage:
    summary: RolloutSummary
    consumers: tuple[ConsumerRow, ...]
    transitions: tuple[Transition, ...]
    preflight_known: bool


@dataclass(frozen=True)
class ConsumerRollout:
    key: str
    version: str
    rollout_status: str
    wave: int
    status: str
    number: int | None
    revert_number: int | None


@dataclass(frozen=True)
class ConsumerPage:
    repo: str
    record: Consumer | None
    history: tuple[AuditRecord, ...]
    evolution_prs: tuple[EvolutionPr, ...]
    revert_prs: tuple[RevertPr, ...]
    rollouts: tuple[ConsumerRollout, ...]


def _wave_number(state: RolloutState, c: ConsumerState) -> int:
    return state.waves[c.wave].number if c.wave < len(state.waves) else c.wave


def _wave_label(number: int) -> str:
    return "canary" if number == 0 else f"wave {number}"


def _progress(state: RolloutState) -> tuple[WaveProgress, ...]:
    waves = []
    for index, wave in enumerate(state.waves):
        members = state.in_wave(index)
        done = sum(1 for c in members if c.status in ("green", "skipped"))
        failed = sum(1 for c in members if c.status in FAILED)
        waiting = sum(1 for c in members if c.status in UNSETTLED)
        waves.append(
            WaveProgress(
                number=wave.number,
                label=_wave_label(wave.number),
                status=wave.status,
                total=len(members),
                done=done,
                failed=failed,
                waiting=waiting,
                failure_limit=wave.failure_limit,
            )
        )
    return tuple(waves)


def _summary(stored: StoredRollout) -> RolloutSummary:
    state = stored.state
    running = state.waves and state.status not in ("planned", "queued", "preflight")
    return RolloutSummary(
        key=stored.key,
        template=state.template,
        version=state.version,
        status=state.status,
        reason=state.reason,
        current_wave=state.waves[state.current].number if running else None,
        waves=_progress(state),
        consumers=len(state.consumers),
        metrics=rollout_metrics(state),
        created_at=stored.created_at,
        updated_at=stored.updated_at,
    )


def rollout_summaries(store: Store) -> list[RolloutSummary]:
    """Every stored rollout, newest first."""
    return [_summary(r) for r in reversed(store.rollouts())]


def _preflight(store: Store, key: str) -> dict[str, dict[str, Any]] | None:
    """The newest stored preflight report of rollout ``key``, per consumer; None if none."""
    entries = store.audit_log(entity=preflight_entity(key), limit=1)
    if not entries:
        return None
    try:
        report = json.loads(entries[0].change)
        return {str(c["repo"]): c for c in report["consumers"] if isinstance(c, dict)}
    except (ValueError, KeyError, TypeError):
        return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _row(
    state: RolloutState,
    c: ConsumerState,
    reverts: dict[tuple[str, int], RevertPr],
    pre: dict[str, Any] | None,
) -> ConsumerRow:
    churn = pre.get("churn") if pre else None
    churn = churn if isinstance(churn, dict) else {}
    conflicts = pre.get("conflicts") if pre else None
    revert = reverts.get((c.repo, c.revert_number)) if c.revert_number is not None else None
    return ConsumerRow(
        repo=c.repo,
        wave=_wave_number(state, c),
        status=c.status,
        paused=c.paused,
        number=c.number,
        pr_checks=c.pr_checks,
        post_checks=c.post_checks,
        merge_commit=c.merge_commit,
        reason=c.reason,
        revert_number=c.revert_number,
        revert_state=revert.state if revert else None,
        files_changed=_int(churn.get("files_changed")),
        lines_added=_int(churn.get("lines_added")),
        lines_removed=_int(churn.get("lines_removed")),
        conflicts=tuple(str(p) for p in conflicts) if isinstance(conflicts, list) else None,
    )


def rollout_page(store: Store, key: str) -> RolloutPage | None:
    """Rollout ``key`` with each consumer's PR, checks, churn, conflicts and revert; None if
    no such rollout is stored."""
    stored = store.rollout(key)
    if stored is None:
        return None
    state = stored.state
    reverts = {(r.repo, r.number): r for r in store.revert_prs()}
    preflight = _preflight(store, key)
    rows = tuple(
        _row(state, c, reverts, preflight.get(c.repo) if preflight else None)
        for c in sorted(state.consumers, key=lambda c: (c.wave, c.repo))
    )
    transitions = tuple(
        Transition(t.revision, t.event, t.change, t.cause, t.at)
        for t in reversed(store.rollout_transitions(key))
    )
    return RolloutPage(_summary(stored), rows, transitions, preflight is not None)


def consumer_page(store: Store, repo: str) -> ConsumerPage | None:
    """Consumer ``repo``: its record, version history (audit log, newest first), its PRs and
    the rollouts it is part of; None if the store knows nothing of it."""
    record = store.consumer(repo)
    history = tuple(store.audit_log(entity=f"consumer:{repo}", limit=200))
    evolution = tuple(sorted(store.evolution_prs(repo=repo), key=lambda p: -p.number))
    reverts = tuple(sorted(store.revert_prs(repo=repo), key=lambda p: -p.number))
    rollouts = []
    for stored in reversed(store.rollouts()):
        c = stored.state.consumer(repo)
        if c is not None:
            rollouts.append(
                ConsumerRollout(
                    key=stored.key,
                    version=stored.state.version,
                    rollout_status=stored.state.status,
                    wave=_wave_number(stored.state, c),
                    status=c.status,
                    number=c.number,
                    revert_number=c.revert_number,
                )
            )
    if record is None and not (history or evolution or reverts or rollouts):
        return None
    return ConsumerPage(repo, record, history, evolution, reverts, tuple(rollouts))
