"""Every `$ evobot` command in a fenced `console` block of README.md and docs/*.md runs.

Each block runs in a fresh directory holding `templates/` (the built-in templates), with
`evobot` on PATH and a private cache; a block that needs GitHub, a service or a release says so
with `<!-- not-run: REASON -->` just above its fence.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from docs_support import DOCS, ConsoleBlock, console_blocks
from evobot_testing import REPO_ROOT

BLOCKS = [b for doc in DOCS for b in console_blocks(doc) if b.runs_evobot]
RUNNABLE = [b for b in BLOCKS if b.not_run is None]


def test_blocks_that_do_not_run_say_why() -> None:
    for block in BLOCKS:
        if block.not_run is not None:
            assert len(block.not_run) >= 10, f"{block.id}: give the reason it cannot run"


@pytest.mark.slow
@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.id)
def test_console_block_runs(block: ConsoleBlock, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "templates").symlink_to(REPO_ROOT / "templates")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "EVOBOT_CACHE_DIR": str(tmp_path / "cache"),
    }
    script = "\n".join(block.commands)
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{block.id}\n{script}\n{done.stdout}\n{done.stderr}"


def test_the_block_reader_finds_commands_and_markers(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text(
        "<!-- not-run: needs a GitHub App installation -->\n"
        "```console\n$ evobot pr open --repo a/b\nopened #1\n```\n\n"
        "- item\n\n  ```console\n  $ cd svc\n  $ evobot check\n  ```\n"
    )
    first, second = console_blocks(doc)
    assert first.commands == ["evobot pr open --repo a/b"]
    assert first.not_run == "needs a GitHub App installation"
    assert second.commands == ["cd svc", "evobot check"] and second.not_run is None
