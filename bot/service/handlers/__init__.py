"""The service's webhook concerns, one module each, each with its own :class:`Router` (and, for
the rollout's concerns, its own :class:`JobRouter`): installations (consumer discovery),
template pushes, releases (a rollout begins), pull requests, checks, rollout progress and
comments (commands). Order matters where one concern reads what another records: a template's
newest version before its release, a PR's record before the rollout reads it."""

from __future__ import annotations

from bot.service.handlers import (
    checks,
    comments,
    installations,
    onboarding,
    pulls,
    releases,
    rollout_events,
    templates,
)

__all__ = ["JOBS", "ROUTERS"]

ROUTERS = (
    installations.router,
    templates.router,
    releases.router,
    pulls.router,
    checks.router,
    rollout_events.router,
    comments.router,
)

JOBS = (releases.jobs, rollout_events.jobs, comments.jobs, onboarding.jobs)
