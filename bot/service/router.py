"""Routers, not if-chains: each webhook concern registers handlers for ``(event, action)`` on its
own :class:`Router`; the composition root merges them into one and dispatches each delivery.

A handler takes the verified event and the dependencies it needs (a :class:`HandlerContext`)
and returns a short outcome text for the delivery's record, or None when it did nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.forge.webhook import WebhookEvent

if TYPE_CHECKING:
    from bot.service.context import HandlerContext

__all__ = ["Handler", "Router"]

Handler = Callable[[WebhookEvent, "HandlerContext"], "str | None"]
ANY_ACTION = "*"


@dataclass(frozen=True)
class _Route:
    event: str
    action: str
    handler: Handler


class Router:
    """Handlers by ``(event, action)``; an action of None matches every action of the event."""

    def __init__(self, *routers: Router) -> None:
        self._routes: list[_Route] = []
        for router in routers:
            self._routes.extend(router._routes)

    def register(self, event: str, *actions: str) -> Callable[[Handler], Handler]:
        """Decorator: call the handler for ``event`` with any of ``actions`` (none: all)."""

        def add(handler: Handler) -> Handler:
            for action in actions or (ANY_ACTION,):
                self._routes.append(_Route(event, action, handler))
            return handler

        return add

    def handlers(self, event: str, action: str | None) -> list[Handler]:
        """The handlers for one delivery, in registration order, each once."""
        found: list[Handler] = []
        for route in self._routes:
            matches = route.event == event and route.action in (ANY_ACTION, action)
            if matches and route.handler not in found:
                found.append(route.handler)
        return found

    def events(self) -> list[tuple[str, str]]:
        """Every ``(event, action)`` routed (``*``: any action), for the docs and the tests."""
        return sorted({(r.event, r.action) for r in self._routes})

    def dispatch(self, event: WebhookEvent, context: HandlerContext) -> str:
        """Run every handler of ``event``; the outcomes joined, or ``stored`` if none acted."""
        outcomes = []
        for handler in self.handlers(event.event, event.action):
            outcome = handler(event, context)
            if outcome:
                outcomes.append(outcome)
        return "; ".join(outcomes) if outcomes else "stored"
