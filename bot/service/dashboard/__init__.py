"""The service's read-only dashboard (``/dashboard``): rollouts and their waves, each consumer's
PR, checks and revert, and outcome metrics per template version, rendered on the server.
docs/dashboard.md describes the pages and who may see them."""

from __future__ import annotations

from bot.service.dashboard.access import AuthMode, DashboardAccess
from bot.service.dashboard.pages import PREFIX, DashboardDeps, dashboard_router

__all__ = ["PREFIX", "AuthMode", "DashboardAccess", "DashboardDeps", "dashboard_router"]
