"""The forge exports exactly its public names, and both implementations satisfy the port."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.forge
from bot.forge import Forge, GitHubForge, RecordingForge, TokenCredentials

EXPECTED = {
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
}


def test_exported_names_are_the_intended_ones() -> None:
    assert set(bot.forge.__all__) == EXPECTED
    for name in EXPECTED:
        assert hasattr(bot.forge, name), name


def test_adapter_and_fake_implement_the_port() -> None:
    assert isinstance(RecordingForge(), Forge)
    assert isinstance(GitHubForge(TokenCredentials("x" * 20)), Forge)


def test_only_the_forge_imports_github() -> None:
    root = Path(bot.forge.__file__).parent.parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.is_relative_to(root / "forge"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "github" or n.startswith("github.") for n in names):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []
