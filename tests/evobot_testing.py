"""Helpers shared by every test area: file trees on disk, real git, the fixtures path.

Import them with ``from evobot_testing import ...``; ``tests/conftest.py`` holds the fixtures.
(A module named ``conftest`` is ambiguous once test areas have conftest files of their own.)
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

FIXTURES = Path(
    os.environ.get("EVOBOT_FIXTURES", Path(__file__).resolve().parents[2] / "shared" / "fixtures")
)
REPO_ROOT = Path(__file__).resolve().parents[1]

# Real git in every test, with a fixed identity and no user or system config leaking in.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "evobot tests",
    "GIT_AUTHOR_EMAIL": "tests@evobot.invalid",
    "GIT_COMMITTER_NAME": "evobot tests",
    "GIT_COMMITTER_EMAIL": "tests@evobot.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


def build_file_tree(root: Path, spec: Mapping[str, str | bytes]) -> Path:
    """Write ``{relative path: text or bytes}`` under ``root`` and return ``root``."""
    for rel, content in spec.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def git(cwd: Path, *args: str) -> str:
    """Run real git in ``cwd`` and return its stripped stdout; fail the test on error."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}:\n{result.stderr}")
    return result.stdout.strip()


def git_init(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    return root


def git_commit_all(root: Path, message: str = "commit", tag: str | None = None) -> str:
    """Stage everything, commit, optionally tag; return the commit id."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    if tag:
        git(root, "tag", tag)
    return git(root, "rev-parse", "HEAD")
