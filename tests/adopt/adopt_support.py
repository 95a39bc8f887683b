"""Helpers for the adoption tests: copier and cookiecutter templates in real git, rendered both by
those tools (dev dependencies, tests only) and by evobot, and compared byte for byte."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evobot_testing import REPO_ROOT, build_file_tree, git, git_commit_all, git_init

sys.path.insert(0, str(REPO_ROOT / "tests" / "cli"))
from cli_helpers import run_evobot as run_evobot  # re-exported for the adoption tests

from bot.template import open_template, render_template, resolve_answers
from bot.tree import File, Tree, read_tree

EXECUTABLE = "#!exec\n"  # a file whose text starts so is written executable (marker removed)
BIN = Path(sys.executable).parent


def write_template(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``files`` under ``root``; texts starting with EXECUTABLE become executable."""
    plain: dict[str, str | bytes] = {}
    executable: list[str] = []
    for rel, content in files.items():
        if isinstance(content, str) and content.startswith(EXECUTABLE):
            content = content[len(EXECUTABLE) :]
            executable.append(rel)
        plain[rel] = content
    build_file_tree(root, plain)
    for rel in executable:
        path = root / rel
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return root


def template_repo(
    root: Path, versions: list[Mapping[str, str | bytes]], tags: list[str] | None = None
) -> Path:
    """A git template repository with one tagged commit per entry of ``versions``.

    Each version's files replace the previous ones entirely.
    """
    git_init(root)
    tags = tags or [f"v{n + 1}.0.0" for n in range(len(versions))]
    for files, tag in zip(versions, tags, strict=True):
        for child in root.iterdir():
            if child.name != ".git":
                git(root, "rm", "-rq", "--cached", "--ignore-unmatch", child.name)
                _remove(child)
        write_template(root, files)
        git_commit_all(root, f"template {tag}", tag=tag)
    return root


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            _remove(child)
        path.rmdir()
    else:
        path.unlink()


def copier_copy(
    src: Path | str, dst: Path, data: Mapping[str, Any] | None = None, vcs_ref: str | None = None
) -> Tree:
    """Run copier itself (`copier copy --defaults`) and read what it wrote."""
    from copier import run_copy

    run_copy(
        str(src),
        str(dst),
        data=dict(data or {}),
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref=vcs_ref,
        skip_tasks=True,
    )
    return read_tree(dst)


def copier_update(dst: Path, vcs_ref: str | None = None) -> None:
    """Run `copier update --defaults` in the consumer ``dst`` (a committed git work tree)."""
    from copier import run_update

    run_update(
        str(dst),
        defaults=True,
        unsafe=True,
        quiet=True,
        overwrite=True,
        vcs_ref=vcs_ref,
        skip_tasks=True,
        conflict="inline",
    )


def cookiecutter_generate(
    src: Path | str, out: Path, data: Mapping[str, Any] | None = None, checkout: str | None = None
) -> Path:
    """Run cookiecutter itself without input; return the generated project directory."""
    from cookiecutter.main import cookiecutter

    project = cookiecutter(
        str(src),
        no_input=True,
        extra_context=dict(data or {}),
        output_dir=str(out),
        checkout=checkout,
        accept_hooks=False,
    )
    return Path(project)


def cruft_create(src: Path | str, out: Path, data: Mapping[str, Any] | None = None) -> Path:
    """Run `cruft create --no-input` (the cruft CLI, in a subprocess: it is a Typer app)."""
    args = [str(BIN / "cruft"), "create", str(src), "--no-input", "--output-dir", str(out)]
    if data:
        args += ["--extra-context", json.dumps(dict(data))]
    env = {**os.environ}
    result = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise AssertionError(f"cruft create failed:\n{result.stdout}\n{result.stderr}")
    projects = [p for p in out.iterdir() if p.is_dir()]
    assert len(projects) == 1, projects
    return projects[0]


def evobot_render(
    src: Path | str, data: Mapping[str, Any] | None = None, vcs_ref: str | None = None
) -> Tree:
    """evobot's own render of the same template and answers (the core, no CLI)."""
    with open_template(str(src), vcs_ref=vcs_ref) as template:
        answers = resolve_answers(template.manifest, dict(data or {}))
        return render_template(template, answers.values)


def without(tree: Mapping[str, File], *paths: str) -> Tree:
    return {p: f for p, f in tree.items() if p not in paths}


def differences(ours: Mapping[str, File], theirs: Mapping[str, File]) -> list[str]:
    """Readable differences between two trees (path, and what differs)."""
    out: list[str] = []
    for path in sorted(set(ours) | set(theirs)):
        a, b = ours.get(path), theirs.get(path)
        if a == b:
            continue
        if a is None or b is None:
            out.append(f"{path}: only in {'theirs' if a is None else 'evobot'}")
        elif a.data != b.data:
            out.append(f"{path}: content evobot={a.data!r} theirs={b.data!r}")
        else:
            out.append(f"{path}: executable evobot={a.executable} theirs={b.executable}")
    return out


def cruft_update(project: Path) -> None:
    """Run `cruft update -y` in ``project`` (a committed git work tree)."""
    result = subprocess.run(
        [str(BIN / "cruft"), "update", "-y", "--project-dir", str(project)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"cruft update failed:\n{result.stdout}\n{result.stderr}")
