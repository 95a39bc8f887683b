"""`write_tree` writes nothing into git's own directory, whatever paths it is handed: not by a
`.git` form in the path, not through a symlinked directory pointing into `.git`, not by a
deletion; and a refused tree leaves the whole work tree as it was."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from security_support import tree_bytes

from bot.errors import EvobotError, RenderError
from bot.tree import File, git_dir_rule, write_tree


def _work_tree(root: Path) -> None:
    """A work tree with a `.git` holding a config and a hook, and symlinks leading into it."""
    (root / ".git" / "hooks").mkdir(parents=True)
    (root / ".git" / "config").write_text("[core]\n\tbare = false\n")
    (root / ".git" / "hooks" / "pre-commit.sample").write_text("#!/bin/sh\n")
    (root / "README.md").write_text("# mine\n")
    (root / "gitlink").symlink_to(".git", target_is_directory=True)
    (root / "hooklink").symlink_to(".git/hooks", target_is_directory=True)


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".git/hooks/post-checkout",
        ".GIT/config",
        "git~1/config",
        ".git./config",
        ".g\u200cit/hooks/x",
        "gitlink/config",
        "hooklink/post-checkout",
    ],
)
def test_a_tree_reaching_into_git_is_refused_and_nothing_is_written(
    tmp_path: Path, path: str
) -> None:
    _work_tree(tmp_path)
    before = tree_bytes(tmp_path)
    with pytest.raises(RenderError) as caught:
        write_tree(tmp_path, {"new.txt": File(b"new\n"), path: File(b"x", executable=True)})
    assert "git's own directory" in caught.value.message
    assert repr(path)[1:-1] in caught.value.message  # invisible code points escaped
    assert tree_bytes(tmp_path) == before


@pytest.mark.parametrize("path", [".git/config", "gitlink/config", ".Git/hooks"])
def test_a_deletion_inside_git_is_refused(tmp_path: Path, path: str) -> None:
    _work_tree(tmp_path)
    before = tree_bytes(tmp_path)
    with pytest.raises(RenderError):
        write_tree(tmp_path, {}, delete=[path])
    assert tree_bytes(tmp_path) == before


def test_a_name_that_is_no_file_name_is_an_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(RenderError) as caught:
        write_tree(tmp_path, {"a\ud800b.txt": File(b"x")})
    assert "cannot be a file name" in caught.value.message


GIT_FORMS = [".git", ".GIT", "git~1", ".git.", ".git ", ".git::$INDEX_ALLOCATION", ".g\u200cit"]
ORDINARY = ["gitlink", "hooklink", "hooks", "config", "src", ".github", ".gitignore", "..", "."]
NAME = st.one_of(
    st.sampled_from(GIT_FORMS + ORDINARY),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=6),
)
PATH = st.lists(NAME, min_size=1, max_size=4).map("/".join)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(PATH, st.binary(max_size=8), max_size=5),
    st.lists(PATH, max_size=3),
)
def test_random_trees_never_change_git_dir(files: dict[str, bytes], deletes: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _work_tree(root)
        git_before = tree_bytes(root / ".git")
        with contextlib.suppress(EvobotError):  # refusing is fine; writing into .git is not
            write_tree(root, {p: File(d) for p, d in files.items()}, delete=deletes)
        assert tree_bytes(root / ".git") == git_before
        for dirpath, dirnames, filenames in os.walk(root):
            rel_dir = Path(dirpath).relative_to(root).as_posix()
            dirnames[:] = [d for d in dirnames if not (rel_dir == "." and d == ".git")]
            for name in (*dirnames, *filenames):
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                assert git_dir_rule(rel) is None, rel
