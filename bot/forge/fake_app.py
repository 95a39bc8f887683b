"""An in-memory :class:`~bot.forge.port.AppPort` that records every call, for the service's
tests: installations, their repositories' ``.evobot.yml`` files, and a delivery log whose
redeliveries are handed to a callback (as GitHub would POST them again)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bot.errors import ForgeError
from bot.forge.port import DeliveryPage, HookDelivery, InstallationInfo

__all__ = ["AppCall", "RecordingApp"]


@dataclass(frozen=True)
class AppCall:
    method: str
    args: tuple[object, ...] = ()


@dataclass
class RecordingApp:
    """Installations (id → account), repositories per installation, files per repository."""

    installations: dict[int, str] = field(default_factory=dict)
    repositories: dict[int, list[str]] = field(default_factory=dict)
    configs: dict[str, bytes] = field(default_factory=dict)
    deliveries: list[HookDelivery] = field(default_factory=list)
    on_redeliver: Callable[[HookDelivery], None] | None = None
    calls: list[AppCall] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def log_delivery(
        self, guid: str, event: str, *, action: str | None = None, status_code: int = 202
    ) -> HookDelivery:
        """Append an attempt to the delivery log (what GitHub did when it sent ``guid``)."""
        delivery = HookDelivery(
            id=next(self._ids),
            guid=guid,
            event=event,
            action=action,
            status_code=status_code,
            status="OK" if 200 <= status_code < 300 else "failed to connect to host",
            delivered_at="2026-01-01T00:00:00Z",
        )
        self.deliveries.append(delivery)
        return delivery

    def list_installations(self) -> list[InstallationInfo]:
        self.calls.append(AppCall("list_installations"))
        return [InstallationInfo(i, account) for i, account in sorted(self.installations.items())]

    def installation_repositories(self, installation_id: int) -> list[str]:
        self.calls.append(AppCall("installation_repositories", (installation_id,)))
        if installation_id not in self.installations:
            raise ForgeError(f"no installation {installation_id}", status=404)
        return list(self.repositories.get(installation_id, []))

    def hook_deliveries(self, *, cursor: str | None = None, per_page: int = 100) -> DeliveryPage:
        self.calls.append(AppCall("hook_deliveries", (cursor, per_page)))
        newest_first = sorted(self.deliveries, key=lambda d: d.id, reverse=True)
        if cursor is not None:
            newest_first = [d for d in newest_first if d.id < int(cursor)]
        page, rest = newest_first[:per_page], newest_first[per_page:]
        return DeliveryPage(tuple(page), str(page[-1].id) if rest else None)

    def redeliver(self, delivery_id: int) -> None:
        self.calls.append(AppCall("redeliver", (delivery_id,)))
        original = next((d for d in self.deliveries if d.id == delivery_id), None)
        if original is None:
            raise ForgeError(f"no webhook delivery {delivery_id}", status=404)
        again = replace(original, id=next(self._ids), redelivery=True)
        self.deliveries.append(again)
        if self.on_redeliver is not None:
            self.on_redeliver(again)

    def consumer_config(self, repo: str) -> bytes | None:
        self.calls.append(AppCall("consumer_config", (repo,)))
        return self.configs.get(repo)
