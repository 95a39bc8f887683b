"""The :class:`~bot.forge.port.AppPort` over :class:`~bot.forge.github.GitHubForge`: the App's
installations, their repositories, its webhook delivery log and redeliveries.

Every request goes through ``GitHubForge.app_json``, so it shares the adapter's credentials,
pacing, retries and scrubbing; this module only shapes requests and answers.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from bot.consumer import CONFIG_NAME
from bot.errors import ForgeError
from bot.forge.github import GitHubForge
from bot.forge.port import DeliveryPage, HookDelivery, InstallationInfo

__all__ = ["GitHubApp", "next_cursor"]

_PER_PAGE = 100
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


def next_cursor(link_header: str | None) -> str | None:
    """The ``cursor`` of the ``rel="next"`` URL of a ``Link`` header; None on the last page."""
    if not link_header:
        return None
    match = _NEXT.search(link_header)
    if match is None:
        return None
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(match.group(1)).query)
    values = query.get("cursor")
    return values[0] if values else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _delivery(item: Mapping[str, Any]) -> HookDelivery:
    installation = item.get("installation_id")
    return HookDelivery(
        id=int(item["id"]),
        guid=str(item.get("guid") or ""),
        event=str(item.get("event") or ""),
        action=item.get("action"),
        status_code=int(item.get("status_code") or 0),
        status=str(item.get("status") or ""),
        delivered_at=str(item.get("delivered_at") or ""),
        redelivery=bool(item.get("redelivery")),
        installation_id=int(installation) if installation is not None else None,
    )


class GitHubApp:
    """The App-level calls the service makes, over one :class:`GitHubForge`'s credentials."""

    def __init__(self, forge: GitHubForge) -> None:
        self.forge = forge

    def __repr__(self) -> str:
        return f"GitHubApp({self.forge!r})"

    def list_installations(self) -> list[InstallationInfo]:
        found: list[InstallationInfo] = []
        page = 1
        while True:
            data, _ = self.forge.app_json(
                "GET",
                "/app/installations",
                {"per_page": _PER_PAGE, "page": page},
                op="list the App's installations",
            )
            for item in data:
                account = (item.get("account") or {}).get("login") or ""
                found.append(
                    InstallationInfo(
                        id=int(item["id"]),
                        account=str(account),
                        suspended=item.get("suspended_at") is not None,
                    )
                )
            if len(data) < _PER_PAGE:
                return found
            page += 1

    def installation_repositories(self, installation_id: int) -> list[str]:
        names: list[str] = []
        page = 1
        while True:
            data, _ = self.forge.app_json(
                "GET",
                "/installation/repositories",
                {"per_page": _PER_PAGE, "page": page},
                installation_id=installation_id,
                op=f"list the repositories of installation {installation_id}",
            )
            repos = data.get("repositories") or [] if isinstance(data, Mapping) else []
            names.extend(str(r["full_name"]) for r in repos)
            if len(repos) < _PER_PAGE:
                return names
            page += 1

    def hook_deliveries(self, *, cursor: str | None = None, per_page: int = 100) -> DeliveryPage:
        params: dict[str, Any] = {"per_page": per_page}
        if cursor:
            params["cursor"] = cursor
        data, headers = self.forge.app_json(
            "GET", "/app/hook/deliveries", params, op="list the App's webhook deliveries"
        )
        if not isinstance(data, list):
            raise ForgeError("GitHub answered the delivery log with something not a list")
        return DeliveryPage(
            deliveries=tuple(_delivery(item) for item in data),
            next_cursor=next_cursor(_header(headers, "Link")),
        )

    def redeliver(self, delivery_id: int) -> None:
        self.forge.app_json(
            "POST",
            f"/app/hook/deliveries/{int(delivery_id)}/attempts",
            op=f"redeliver webhook delivery {delivery_id}",
        )

    def consumer_config(self, repo: str) -> bytes | None:
        return self.forge.read_file(repo, CONFIG_NAME)
