"""Helpers of the tests of auto-merge and the dashboard issue through the service: a consumer's
`.evobot.yml` changed on its default branch (as its owners would, before the App is installed)
and the issues the emulator holds."""

from __future__ import annotations

from typing import Any

import yaml

from bot.emulator.handle import EmulatorHandle
from bot.rollout.dashboard_issue import DASHBOARD_MARKER

__all__ = ["dashboard_issues", "set_consumer_settings"]


def set_consumer_settings(gh: EmulatorHandle, repo: str, **settings: Any) -> None:
    """Merge ``settings`` into ``repo``'s `.evobot.yml` on main, as a commit by its owners."""
    raw = gh.read_file(repo, "main", ".evobot.yml")
    assert raw is not None, repo
    config = yaml.safe_load(raw)
    config.update(settings)
    gh.push_commit(repo, "main", {".evobot.yml": yaml.safe_dump(config, sort_keys=True)}, "opt in")


def dashboard_issues(gh: EmulatorHandle, repo: str) -> list[dict[str, Any]]:
    """The issues of ``repo`` carrying the dashboard marker, oldest first."""
    issues = gh.emulator.store.data.get("issues", {}).values()
    return sorted(
        (i for i in issues if i["repo"] == repo and DASHBOARD_MARKER in (i["body"] or "")),
        key=lambda i: i["number"],
    )
