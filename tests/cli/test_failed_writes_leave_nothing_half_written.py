"""A `render` or `update` that cannot write everything writes nothing: no partial files, no
`.evobot.yml` claiming a version whose files are missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cli_helpers import assert_clear_error, run_evobot, snapshot, template_repo
from evobot_testing import git, git_commit_all, git_init

from bot.errors import WriteError
from bot.tree import File, write_tree


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _consumer(capsys: pytest.CaptureFixture[str]) -> Path:
    """A consumer rendered from v1.0.0 of a template that also has v2.0.0, committed in git."""
    template_repo(Path("tpl"), versions=2)
    outcome = run_evobot(capsys, "render", "tpl", "svc", "--vcs-ref", "v1.0.0")
    assert outcome.code == 0, outcome
    git_init(Path("svc"))
    git_commit_all(Path("svc"), "generated")
    return Path("svc")


def test_render_under_a_file_names_it_and_creates_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    template_repo(Path("tpl"))
    Path("afile").write_text("x")
    outcome = run_evobot(capsys, "render", "tpl", "afile/svc")
    assert_clear_error(outcome, "afile", "is a file")
    assert Path("afile").read_text() == "x"


def test_render_force_over_a_directory_where_a_file_goes_changes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    template_repo(Path("tpl"))
    Path("svc/app.py").mkdir(parents=True)
    Path("svc/notes.txt").write_text("mine\n")
    before = snapshot(Path("svc"))
    outcome = run_evobot(capsys, "render", "tpl", "svc", "--force")
    assert_clear_error(outcome, "svc/app.py", "is a directory")
    assert snapshot(Path("svc")) == before


def test_update_blocked_by_a_file_where_the_template_adds_a_directory_changes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    svc = _consumer(capsys)
    (svc / "docs").write_text("the team's own notes, in a file called docs\n")
    git_commit_all(svc, "notes")
    before = snapshot(svc)
    outcome = run_evobot(capsys, "update", "svc")
    assert_clear_error(outcome, "svc/docs", "is a file", "docs/guide.md")
    assert snapshot(svc) == before
    assert git(svc, "status", "--porcelain") == ""
    # Once the way is clear the same update goes through.
    git(svc, "mv", "docs", "NOTES")
    git_commit_all(svc, "move notes")
    assert run_evobot(capsys, "update", "svc").code == 0
    assert (svc / "docs" / "guide.md").read_text() == "guide\n"


def _immutable(path: Path) -> None:
    chattr = shutil.which("chattr")
    proc = subprocess.run([chattr or "chattr", "+i", str(path)], capture_output=True, check=False)
    if chattr is None or proc.returncode != 0:
        pytest.skip("needs chattr +i (root on a file system with immutable files)")


def test_write_tree_that_fails_midway_leaves_the_directory_as_it_was(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "b").mkdir(parents=True)
    (root / "a.txt").write_text("old\n")
    _immutable(root / "b")
    try:
        before = snapshot(root)
        tree = {"a.txt": File(b"new\n"), "b/c.txt": File(b"c\n"), "d/e.txt": File(b"e\n")}
        with pytest.raises(WriteError, match=r"nothing under .* was changed"):
            write_tree(root, tree)
        assert snapshot(root) == before
    finally:
        subprocess.run(["chattr", "-i", str(root / "b")], check=False)


def test_write_tree_that_fails_removes_the_directories_it_made(tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    (parent / "locked").mkdir(parents=True)
    _immutable(parent / "locked")
    try:
        tree = {"a_new/deep/x.txt": File(b"x\n"), "locked/y.txt": File(b"y\n")}
        with pytest.raises(WriteError, match="locked"):
            write_tree(parent, tree)
        assert [p.name for p in parent.iterdir()] == ["locked"]
    finally:
        subprocess.run(["chattr", "-i", str(parent / "locked")], check=False)
