"""The service's webhook concerns, one module each, each with its own :class:`Router`:
installations (consumer discovery), template pushes, pull requests, checks and comments."""

from __future__ import annotations

from bot.service.handlers import checks, comments, installations, pulls, templates

__all__ = ["ROUTERS"]

ROUTERS = (
    installations.router,
    templates.router,
    pulls.router,
    checks.router,
    comments.router,
)
