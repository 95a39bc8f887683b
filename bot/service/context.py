"""What a webhook handler is given: the store, GitHub (per repository and as the App), and the
cause that every record it writes is audited with. Built per delivery by the worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.forge.port import AppPort, Forge
from bot.store import Store

__all__ = ["HandlerContext"]


@dataclass(frozen=True)
class HandlerContext:
    store: Store
    forge: Forge
    app: AppPort
    cause: str  # ``delivery:<id>``
    log: Any  # a structlog logger bound to the delivery, its repository and its job
