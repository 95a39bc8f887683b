"""Run `evobot` as a person would and look at what they see: exit code, stdout, stderr."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from evobot_cli_support import invoke_evobot
from evobot_testing import build_file_tree, git_commit_all, git_init

EVOBOT = Path(sys.executable).parent / "evobot"


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def message(self) -> str:
        """stderr with the terminal's line wrapping undone."""
        return re.sub(r"\s+", " ", self.stderr).strip()


def run_evobot(capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    """Run ``evobot ARGS`` in-process through `bot.cli.main`, where errors are converted.

    An exception other than the exit escaping `main` fails the test: that is the traceback a
    person would have seen.
    """
    capsys.readouterr()
    run = invoke_evobot(*args)
    return Outcome(run.code, run.stdout, run.stderr)


def assert_clear_error(outcome: Outcome, *fragments: str) -> None:
    """A non-zero exit with one `error:` message naming every fragment, and no traceback."""
    assert outcome.code != 0, outcome
    assert "Traceback" not in outcome.stderr
    assert outcome.message.startswith("error:"), outcome.stderr
    for fragment in fragments:
        assert fragment in outcome.message, (fragment, outcome.message)


def template_repo(root: Path, *, versions: int = 1) -> Path:
    """A git template repository tagged v1.0.0 (and v2.0.0, which adds `docs/guide.md`)."""
    git_init(root)
    build_file_tree(
        root,
        {
            "template.yml": "name: mini\nquestions:\n  service_name: {default: orders}\n",
            "files/README.md.jinja": "# {{ service_name }}\n",
            "files/app.py.jinja": "NAME = '{{ service_name }}'\n",
        },
    )
    git_commit_all(root, "v1", tag="v1.0.0")
    if versions > 1:
        build_file_tree(root, {"files/docs/guide.md": "guide\n", "files/zz.txt": "last\n"})
        git_commit_all(root, "v2", tag="v2.0.0")
    return root


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a directory)."""
    return {
        p.relative_to(root).as_posix(): (None if p.is_dir() else p.read_bytes())
        for p in sorted(root.rglob("*"))
        if ".git" not in p.relative_to(root).parts
    }
