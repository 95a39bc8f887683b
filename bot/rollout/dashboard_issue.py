"""The per-repository dashboard issue, pure: which evolutions of one consumer are pending,
blocked, skipped or reverted, and the issue body listing them.

The body ends with a hidden marker by which the bot finds its one issue again (and edits it in
place); the same rollouts always give the same bytes, so an unchanged body is never re-sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.rollout.state import TERMINAL, RolloutState

__all__ = [
    "DASHBOARD_MARKER",
    "DASHBOARD_TITLE",
    "DashboardEntry",
    "dashboard_body",
    "dashboard_entries",
    "dashboards_changed",
]

DASHBOARD_TITLE = "evobot: template evolutions"
DASHBOARD_MARKER = "<!-- evobot:dashboard -->"

Section = Literal["pending", "blocked", "skipped", "reverted"]
_SECTIONS: tuple[tuple[Section, str], ...] = (
    ("pending", "Pending"),
    ("blocked", "Blocked"),
    ("skipped", "Skipped"),
    ("reverted", "Reverted"),
)


@dataclass(frozen=True)
class DashboardEntry:
    section: Section
    template: str
    version: str
    wave: int
    paused: bool = False
    number: int | None = None
    revert_number: int | None = None
    reason: str | None = None


def dashboard_entries(repo: str, rollouts: Iterable[RolloutState]) -> list[DashboardEntry]:
    """``repo``'s evolutions worth listing: pending in a rollout still under way (a finished
    one will never open it), and blocked, skipped or reverted in any rollout."""
    entries: list[DashboardEntry] = []
    for state in rollouts:
        consumer = state.consumer(repo)
        if consumer is None:
            continue
        section: Section | None = None
        if consumer.status in ("pending", "opening") and state.status not in TERMINAL:
            section = "pending"
        elif consumer.status in ("blocked", "skipped", "reverted"):
            section = consumer.status
        if section is None:
            continue
        entries.append(
            DashboardEntry(
                section=section,
                template=state.template,
                version=state.version,
                wave=consumer.wave,
                paused=consumer.paused,
                number=consumer.number,
                revert_number=consumer.revert_number,
                reason=consumer.reason,
            )
        )
    return sorted(entries, key=lambda e: (e.template, e.version, e.section))


def dashboards_changed(before: RolloutState | None, after: RolloutState) -> list[str]:
    """The consumers of ``after`` whose entries from this rollout differ from ``before``'s: the
    only dashboard issues a step of this rollout can change (a PR merging or a wave baking
    changes none, so costs no request)."""
    return [
        c.repo
        for c in after.consumers
        if before is None
        or dashboard_entries(c.repo, [before]) != dashboard_entries(c.repo, [after])
    ]


def _line(entry: DashboardEntry) -> str:
    name = f"`{entry.template}` {entry.version}"
    match entry.section:
        case "pending":
            wave = "canary wave" if entry.wave == 0 else f"wave {entry.wave}"
            paused = ", paused for this repository" if entry.paused else ""
            return f"- {name}: waits for the {wave}{paused}"
        case "blocked":
            return f"- {name}: {_one_line(entry.reason) or 'blocked'}"
        case "skipped":
            pr = f" (#{entry.number} closed)" if entry.number is not None else ""
            return f"- {name}: skipped{pr}"
        case "reverted":
            pr = f"#{entry.number}" if entry.number is not None else "the evolution"
            by = f" by #{entry.revert_number}" if entry.revert_number is not None else ""
            return f"- {name}: {pr} reverted{by}"
    raise AssertionError(entry.section)  # pragma: no cover


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())[:300]


def dashboard_body(repo: str, entries: Iterable[DashboardEntry]) -> str:
    """The issue body: one section per kind (``None`` when empty), then the marker."""
    listed = list(entries)
    lines = [
        f"evobot keeps this list of the template evolutions of `{repo}` up to date and edits "
        "it in place. Comment `/evobot help` on an evolution PR for what you can ask.",
        "",
    ]
    for section, title in _SECTIONS:
        lines.append(f"## {title}")
        lines.append("")
        chosen = [_line(e) for e in listed if e.section == section]
        lines.extend(chosen or ["None."])
        lines.append("")
    lines.append(DASHBOARD_MARKER)
    return "\n".join(lines) + "\n"
