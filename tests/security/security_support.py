"""Helpers for the security tests: hostile templates on disk and in git, and `evobot` run as a
person runs it (a module of its own: a second conftest.py would shadow tests/conftest.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from evobot_testing import build_file_tree, git_commit_all

MANIFEST = "name: svc\nquestions:\n  name: {type: str, default: demo}\n"


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def message(self) -> str:
        """stderr with the terminal's line wrapping undone."""
        return " ".join(self.stderr.split())


def run_evobot(capsys: pytest.CaptureFixture[str], *args: str | Path) -> Outcome:
    """Run the real `evobot` entry point in-process; errors become exit codes, as for users."""
    from evobot_cli_support import invoke_evobot

    capsys.readouterr()
    run = invoke_evobot(*args)
    return Outcome(run.code, run.stdout, run.stderr)


def write_template(
    root: Path,
    files: Mapping[str, str | bytes],
    *,
    manifest: str = MANIFEST,
    executable: Iterable[str] = (),
) -> Path:
    """``template.yml`` plus ``files/<path>`` entries under ``root`` (a plain directory)."""
    build_file_tree(root, {"template.yml": manifest})
    build_file_tree(root / "files", files)
    for rel in executable:
        (root / "files" / rel).chmod(0o755)
    return root


def release(
    root: Path,
    tag: str,
    files: Mapping[str, str | bytes],
    *,
    manifest: str = MANIFEST,
    executable: Iterable[str] = (),
) -> str:
    """Add ``files`` to the git template repository at ``root``, commit and tag ``tag``."""
    write_template(root, files, manifest=manifest, executable=executable)
    return git_commit_all(root, f"release {tag}", tag=tag)


def git_quiet(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git in ``cwd`` as a person would, whatever its exit code (hooks and all)."""
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def tree_bytes(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` (``.git`` included) with its bytes, None for a directory."""
    return {
        p.relative_to(root).as_posix(): (None if p.is_dir() else p.read_bytes())
        for p in sorted(root.rglob("*"))
    }
