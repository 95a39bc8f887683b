"""Routers, not if-chains: each concern registers its (event, action) pairs; the composition root
merges them; a delivery runs exactly the matching handlers, and an unknown event is stored."""

from __future__ import annotations

from typing import Any

from bot.forge.webhook import WebhookEvent
from bot.service import Router, build_router


def event(name: str, action: str | None = None) -> WebhookEvent:
    return WebhookEvent(name, "d-1", action, None, None, None, {})


def test_the_composition_root_routes_every_event_the_service_handles() -> None:
    routed = {name for name, _ in build_router().events()}
    assert routed == {
        "installation",
        "installation_repositories",
        "push",
        "pull_request",
        "check_suite",
        "check_run",
        "status",
        "issue_comment",
    }


def test_a_delivery_runs_the_handlers_of_its_event_and_action_only() -> None:
    ran: list[str] = []
    first, second = Router(), Router()

    @first.register("pull_request", "closed")
    def closed(_event: WebhookEvent, _context: Any) -> str:
        ran.append("closed")
        return "closed"

    @second.register("pull_request")
    def any_action(_event: WebhookEvent, _context: Any) -> None:
        ran.append("any")

    router = Router(first, second)
    assert router.dispatch(event("pull_request", "closed"), None) == "closed"  # type: ignore[arg-type]
    assert ran == ["closed", "any"]
    ran.clear()
    assert router.dispatch(event("pull_request", "opened"), None) == "stored"  # type: ignore[arg-type]
    assert ran == ["any"]
    assert router.dispatch(event("star", "created"), None) == "stored"  # type: ignore[arg-type]
