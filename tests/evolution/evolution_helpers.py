"""Helpers for evolution tests: tagged template repositories, rendered consumers, the CLI.

A module of its own rather than a second conftest.py: conftest files outside packages all import
as the module ``conftest``, so a second one would shadow the shared helpers of tests/conftest.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from evobot_testing import build_file_tree, git_commit_all, git_init

from bot.consumer import CONFIG_NAME, ConsumerConfig, TemplateVersion, dump_consumer_config
from bot.template import open_template, render_template, resolve_answers
from bot.tree import write_tree

LINES = "".join(f"line {n}\n" for n in range(1, 21))

BASIC_MANIFEST: dict[str, Any] = {
    "name": "svc",
    "questions": {"name": {"type": "str", "default": "demo"}},
}


@dataclass
class TemplateRepo:
    """A real git template repository; each `release` replaces its files and tags a version."""

    root: Path

    @classmethod
    def create(cls, root: Path) -> TemplateRepo:
        return cls(git_init(root))

    def release(
        self,
        tag: str,
        files: Mapping[str, str | bytes],
        manifest: Mapping[str, Any] | None = None,
        *,
        executable: tuple[str, ...] = (),
    ) -> str:
        shutil.rmtree(self.root / "files", ignore_errors=True)
        (self.root / "files").mkdir()
        text = yaml.safe_dump(dict(manifest or BASIC_MANIFEST), sort_keys=False)
        build_file_tree(self.root, {"template.yml": text})
        build_file_tree(self.root / "files", files)
        for rel in executable:
            (self.root / "files" / rel).chmod(0o755)
        return git_commit_all(self.root, f"release {tag}", tag=tag)


def make_consumer(
    repo: TemplateRepo,
    dest: Path,
    *,
    ref: str,
    answers: Mapping[str, Any] | None = None,
    protect: list[str] | None = None,
    git: bool = True,
) -> Path:
    """Render ``repo`` at ``ref`` into ``dest`` with `.evobot.yml`, as `evobot render` would."""
    with open_template(str(repo.root), vcs_ref=ref) as template:
        values = resolve_answers(template.manifest, answers or {}).values
        tree = render_template(template, values)
        config = ConsumerConfig(
            template=str(repo.root),
            version=TemplateVersion(ref=template.ref, commit=template.commit),
            answers=dict(values),
            protect=protect or [],
        )
    dest.mkdir(parents=True, exist_ok=True)
    write_tree(dest, tree)
    (dest / CONFIG_NAME).write_text(dump_consumer_config(config))
    if git:
        git_init(dest)
        git_commit_all(dest, "rendered")
    return dest


def replace_once(text: str, old: str, new: str) -> str:
    """``text`` with the first ``old`` replaced, failing loudly when ``old`` is absent."""
    assert old in text, f"{old!r} not in text"
    return text.replace(old, new, 1)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def unwrapped_err(self) -> str:
        """stderr with rich's line wrapping undone, for asserting on long paths."""
        return self.stderr.replace("\n", "")


def run_evobot(capsys: pytest.CaptureFixture[str], *args: str | Path) -> CliResult:
    """Run the real `evobot` entry point in-process; errors become exit codes, as for users."""
    from evobot_cli_support import invoke_evobot

    capsys.readouterr()
    run = invoke_evobot(*args)
    return CliResult(run.code, run.stdout, run.stderr)
