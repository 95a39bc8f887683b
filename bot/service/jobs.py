"""Job kinds other than deliveries (rollout steps, timers, commands): each concern registers a
handler per kind on its own :class:`JobRouter`, like webhook handlers on a `Router`; the
composition root merges them and the worker dispatches each claimed job by its kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.forge.port import AppPort, Forge
from bot.store import Job, Store

if TYPE_CHECKING:
    from bot.service.rollouts import RolloutRuntime

__all__ = ["JobContext", "JobHandler", "JobRouter"]


@dataclass(frozen=True)
class JobContext:
    """What a job handler is given: the store, GitHub, the rollout runtime, the job itself and
    the cause its records are audited with (``job:<id>``, or the cause the job carries)."""

    store: Store
    forge: Forge
    app: AppPort
    rollouts: RolloutRuntime
    job: Job
    log: Any  # a structlog logger bound to the job


JobHandler = Callable[[Job, JobContext], str]


class JobRouter:
    """Handlers by job kind; merging routers that claim the same kind is an error."""

    def __init__(self, *routers: JobRouter) -> None:
        self._handlers: dict[str, JobHandler] = {}
        for router in routers:
            for kind, handler in router._handlers.items():
                self._add(kind, handler)

    def _add(self, kind: str, handler: JobHandler) -> None:
        if kind in self._handlers:
            raise ValueError(f"two handlers for jobs of kind {kind!r}")
        self._handlers[kind] = handler

    def register(self, kind: str) -> Callable[[JobHandler], JobHandler]:
        """Decorator: run the handler for jobs of ``kind``."""

        def add(handler: JobHandler) -> JobHandler:
            self._add(kind, handler)
            return handler

        return add

    def kinds(self) -> list[str]:
        return sorted(self._handlers)

    def handler(self, kind: str) -> JobHandler | None:
        return self._handlers.get(kind)
