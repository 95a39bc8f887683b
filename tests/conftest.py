"""Fixtures shared by every test; the plain helpers live in ``evobot_testing``."""

from __future__ import annotations

from pathlib import Path

import pytest
from evobot_testing import (
    FIXTURES,
    GIT_ENV,
    REPO_ROOT,
    build_file_tree,
    git,
    git_commit_all,
    git_init,
)

__all__ = ["FIXTURES", "REPO_ROOT", "build_file_tree", "git", "git_commit_all", "git_init"]


@pytest.fixture(autouse=True)
def _git_identity(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.getbasetemp() / "home"
    home.mkdir(exist_ok=True)
    gitconfig = home / ".gitconfig"
    if not gitconfig.exists():
        gitconfig.write_text("[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n")
    monkeypatch.setenv("HOME", str(home))
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.fail(f"shared fixtures not found at {FIXTURES}; set EVOBOT_FIXTURES")
    return FIXTURES
