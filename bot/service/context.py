"""What a webhook handler is given: the store, GitHub (per repository and as the App), the
rollouts' runtime, and the cause that every record it writes is audited with. Built per
delivery by the worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.forge.port import AppPort, Forge
from bot.store import Store

if TYPE_CHECKING:
    from bot.service.rollouts import RolloutRuntime

__all__ = ["HandlerContext"]


@dataclass(frozen=True)
class HandlerContext:
    store: Store
    forge: Forge
    app: AppPort
    cause: str  # ``delivery:<id>``
    log: Any  # a structlog logger bound to the delivery, its repository and its job
    # The rollouts' runtime: handlers that move a rollout enqueue its jobs through it (None:
    # rollouts are not wired, as in tests of other concerns).
    rollouts: RolloutRuntime | None = None
