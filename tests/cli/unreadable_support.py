"""Run `evobot` where some files cannot be read, also when the tests run as root.

root reads a file whatever its mode, so as root the command runs under the unprivileged uid
65534 (through `setpriv`) in a directory that user owns; elsewhere the current user runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import EVOBOT, Outcome

NOBODY = 65534


def _as_nobody() -> bool:
    return os.geteuid() == 0


def reachable_dir() -> Iterator[Path]:
    """A working directory the user running `evobot` can reach (pytest's tmp_path is 0700);
    for a fixture to ``yield from``."""
    if _as_nobody() and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: root reads every file regardless of mode")
    root = Path(tempfile.mkdtemp(prefix="evobot-unreadable-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        for path in [root, *root.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o700)
        shutil.rmtree(root)


def make_unreadable(path: Path) -> None:
    path.chmod(0)


def run_evobot_unprivileged(cwd: Path, *args: str) -> Outcome:
    """``evobot ARGS`` in a subprocess in ``cwd``, as an unprivileged user when we are root."""
    argv = [str(EVOBOT), *args]
    if _as_nobody():
        for path in [cwd, *cwd.rglob("*")]:
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
        argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVOBOT_", "GITHUB_", "GH_"))}
    env.update(HOME=str(cwd), EVOBOT_CACHE_DIR=str(cwd / ".cache"))
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    return Outcome(proc.returncode, proc.stdout, proc.stderr)
