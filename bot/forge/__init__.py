"""The forge: evobot's one port to GitHub, its PyGithub adapter and a recording fake.

The use cases built on the port (evolution and revert PRs) live in :mod:`bot.pipeline`.
"""

from __future__ import annotations

from bot.forge.auth import (
    AppCredentials,
    Credentials,
    TokenCredentials,
    credentials_from_env,
    scrub,
)
from bot.forge.fake import RecordingForge
from bot.forge.github import ForgeSettings, GitHubForge
from bot.forge.port import (
    CheckResult,
    Comment,
    CommitInfo,
    CommitState,
    Forge,
    PullRequest,
    RepoInfo,
    Snapshot,
    TreeChange,
)
from bot.forge.ratelimit import BackoffPolicy, Clock, Pacer, SystemClock

__all__ = [
    "AppCredentials",
    "BackoffPolicy",
    "CheckResult",
    "Clock",
    "Comment",
    "CommitInfo",
    "CommitState",
    "Credentials",
    "Forge",
    "ForgeSettings",
    "GitHubForge",
    "Pacer",
    "PullRequest",
    "RecordingForge",
    "RepoInfo",
    "Snapshot",
    "SystemClock",
    "TokenCredentials",
    "TreeChange",
    "credentials_from_env",
    "scrub",
]
