"""The per-repository dashboard issue (opt-in, `.evobot.yml` ``dashboard_issue: true``): one
issue per consumer, "evobot: template evolutions", listing its pending, blocked, skipped and
reverted evolutions from the stored rollouts; found again by its hidden marker and edited in
place, never opened twice, and an unchanged body sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import structlog

from bot.consumer import CONFIG_NAME, parse_consumer_config
from bot.errors import EvobotError
from bot.forge.port import Forge, Issue
from bot.pipeline.markers import has_marker
from bot.rollout.dashboard_issue import (
    DASHBOARD_MARKER,
    DASHBOARD_TITLE,
    dashboard_body,
    dashboard_entries,
)
from bot.store import Store

__all__ = ["DashboardOutcome", "dashboard_wanted", "refresh_dashboard_issue", "refresh_dashboards"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DashboardOutcome:
    action: Literal["off", "created", "updated", "unchanged"]
    number: int | None = None


def dashboard_wanted(forge: Forge, repo: str) -> bool:
    """Whether ``repo``'s `.evobot.yml` (default branch) opts in; one request. A missing or
    invalid file opts in to nothing."""
    raw = forge.read_file(repo, CONFIG_NAME)
    if raw is None:
        return False
    try:
        return bool(parse_consumer_config(raw, source=f"{repo}/{CONFIG_NAME}").dashboard_issue)
    except EvobotError:
        return False


def _find(forge: Forge, repo: str) -> Issue | None:
    mine = [
        i
        for i in forge.list_issues(repo, creator=forge.bot_login())
        if has_marker(i.body, DASHBOARD_MARKER)
    ]
    if not mine:
        return None
    # An open one first, then the oldest: the same issue every time.
    return min(mine, key=lambda i: (i.state != "open", i.number))


def refresh_dashboard_issue(forge: Forge, store: Store, repo: str) -> DashboardOutcome:
    """Bring ``repo``'s dashboard issue up to date (opening it the first time), if it opts in."""
    if not dashboard_wanted(forge, repo):
        return DashboardOutcome("off")
    consumer = store.consumer(repo)
    states = [
        r.state
        for r in (store.rollouts(template=consumer.template) if consumer else store.rollouts())
    ]
    body = dashboard_body(repo, dashboard_entries(repo, states))
    found = _find(forge, repo)
    if found is None:
        issue = forge.create_issue(repo, title=DASHBOARD_TITLE, body=body)
        return DashboardOutcome("created", issue.number)
    if found.body == body:
        return DashboardOutcome("unchanged", found.number)
    forge.update_issue(repo, found.number, body=body)
    return DashboardOutcome("updated", found.number)


def refresh_dashboards(forge: Forge, store: Store, repos: Iterable[str]) -> None:
    """Refresh each repository's dashboard issue; a failure is logged, never raised (the
    dashboard is a view: the rollout goes on, and the next change refreshes it again)."""
    for repo in sorted(set(repos)):
        try:
            refresh_dashboard_issue(forge, store, repo)
        except EvobotError as exc:
            log.warning("dashboard_issue.failed", repo=repo, error=exc.message)
