"""The forge: evobot's one port to GitHub, its PyGithub adapter, and PR logic built on the port."""

from __future__ import annotations

from bot.forge.auth import (
    AppCredentials,
    Credentials,
    TokenCredentials,
    credentials_from_env,
    scrub,
)
from bot.forge.evolution_pr import (
    EVOLUTION_LABELS,
    PrOutcome,
    RevertOutcome,
    branch_name,
    open_or_update_evolution_pr,
    open_revert_pr,
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
    "EVOLUTION_LABELS",
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
    "PrOutcome",
    "PullRequest",
    "RecordingForge",
    "RepoInfo",
    "RevertOutcome",
    "Snapshot",
    "SystemClock",
    "TokenCredentials",
    "TreeChange",
    "branch_name",
    "credentials_from_env",
    "open_or_update_evolution_pr",
    "open_revert_pr",
    "scrub",
]
