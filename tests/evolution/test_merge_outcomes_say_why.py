"""Every file's outcome says what happened and why: protected and skip-if-exists files, files
deleted on either side, renamed files and files merged three ways (found by `make mutate`)."""

from __future__ import annotations

import pytest

from bot.errors import MergeError
from bot.evolution import merge_trees
from bot.evolution.merge import FileOutcome, FileStatus, MergeResult
from bot.tree import File

LINES = "".join(f"line {n}\n" for n in range(1, 21))


def f(text: str) -> File:
    return File(text.encode())


def outcome(result: MergeResult, path: str) -> FileOutcome:
    return next(o for o in result.files if o.path == path)


def test_protected_paths_say_whether_a_template_change_was_held_back() -> None:
    base = {"a.txt": f("a\n"), "b.txt": f("b\n")}
    new = {"a.txt": f("a2\n"), "b.txt": f("b\n")}
    result = merge_trees(base, new, dict(base), protect=["a.txt", "b.txt"])
    assert outcome(result, "a.txt") == FileOutcome(
        "a.txt", FileStatus.UNCHANGED, "protected; template change not applied"
    )
    assert outcome(result, "b.txt") == FileOutcome("b.txt", FileStatus.UNCHANGED, "protected")
    assert result.tree == base


def test_skip_if_exists_keeps_the_consumers_file() -> None:
    base = {"cfg.toml": f("x = 1\n")}
    new = {"cfg.toml": f("x = 2\n")}
    ours = {"cfg.toml": f("x = 3\n")}
    result = merge_trees(base, new, ours, skip_if_exists=["cfg.toml"])
    assert result.tree == ours
    assert outcome(result, "cfg.toml") == FileOutcome(
        "cfg.toml", FileStatus.UNCHANGED, "skip_if_exists; consumer's file kept"
    )
    # A consumer without the file gets it.
    assert merge_trees(base, new, {}, skip_if_exists=["cfg.toml"]).tree == {}
    assert merge_trees({}, new, {}, skip_if_exists=["cfg.toml"]).tree == new


def test_files_gone_on_both_sides_or_never_there() -> None:
    base = {"gone.txt": f("g\n"), "kept.txt": f("k\n")}
    new = {"kept.txt": f("k\n")}
    ours = {"kept.txt": f("k\n"), "mine.txt": f("m\n")}
    result = merge_trees(base, new, ours)
    assert outcome(result, "gone.txt") == FileOutcome(
        "gone.txt", FileStatus.UNCHANGED, "deleted by both"
    )
    assert result.deleted == ()
    assert result.tree == ours  # the consumer's own file passes through, without an outcome
    assert [o.path for o in result.files if o.path == "mine.txt"] == []


def test_template_deletion_is_reported_once_and_only_for_files_the_consumer_had() -> None:
    base = {"old.txt": f("o\n")}
    result = merge_trees(base, {}, dict(base))
    assert result.deleted == ("old.txt",)
    assert outcome(result, "old.txt") == FileOutcome(
        "old.txt", FileStatus.DELETED, "deleted by the template"
    )
    assert "old.txt" not in result.tree


def test_renamed_file_keeps_the_consumers_edits_at_its_new_path() -> None:
    base = {"src/app.py": f(LINES)}
    new = {"pkg/app.py": f(LINES.replace("line 2\n", "line two\n"))}
    ours = {"src/app.py": f(LINES.replace("line 19\n", "line nineteen\n"))}
    result = merge_trees(base, new, ours, renames={"src": "pkg"})
    merged = result.tree["pkg/app.py"].data
    assert b"line two\n" in merged and b"line nineteen\n" in merged
    assert "src/app.py" not in result.tree
    assert outcome(result, "pkg/app.py") == FileOutcome(
        "pkg/app.py", FileStatus.ADDED, "renamed from src/app.py"
    )
    assert outcome(result, "src/app.py") == FileOutcome(
        "src/app.py", FileStatus.DELETED, "renamed by the template to pkg/app.py"
    )


def test_renamed_untouched_file_moves_as_added() -> None:
    base = {"src/app.py": f(LINES)}
    new = {"pkg/app.py": f(LINES)}
    result = merge_trees(base, new, dict(base), renames={"src/": "pkg/"})
    assert result.tree == new
    assert outcome(result, "pkg/app.py").status == FileStatus.ADDED


def test_three_way_merges_say_so() -> None:
    base = {"a.txt": f(LINES), "c.txt": f(LINES)}
    new = {
        "a.txt": f(LINES.replace("line 2\n", "line two\n")),
        "c.txt": f(LINES.replace("line 5\n", "template\n")),
    }
    ours = {
        "a.txt": f(LINES.replace("line 19\n", "line nineteen\n")),
        "c.txt": f(LINES.replace("line 5\n", "consumer\n")),
    }
    result = merge_trees(base, new, ours)
    assert outcome(result, "a.txt") == FileOutcome(
        "a.txt", FileStatus.UPDATED, "merged with the consumer's edits"
    )
    assert outcome(result, "c.txt") == FileOutcome(
        "c.txt", FileStatus.CONFLICT, "changed by both; conflict markers"
    )
    rej = merge_trees(base, new, ours, conflict_style="rej")
    assert outcome(rej, "c.txt").detail == (
        "changed by both; consumer's file kept; template change in c.txt.rej"
    )
    assert rej.tree["c.txt"] == ours["c.txt"]


def test_same_change_on_both_sides_keeps_the_consumers_bytes() -> None:
    base = {"a.txt": f("one\ntwo\n")}
    new = {"a.txt": f("one\n2\n")}
    ours = {"a.txt": File(b"one\r\n2\r\n")}  # the same edit, with Windows line endings
    result = merge_trees(base, new, ours)
    assert result.tree == ours
    assert outcome(result, "a.txt").status == FileStatus.UNCHANGED


def test_binary_changed_by_both_keeps_the_consumers_file_without_a_rej() -> None:
    base = {"logo.png": File(b"\x89PNG\0base")}
    new = {"logo.png": File(b"\x89PNG\0new")}
    ours = {"logo.png": File(b"\x89PNG\0ours")}
    result = merge_trees(base, new, ours, conflict_style="rej")
    assert result.tree == ours  # no logo.png.rej for binary content
    assert outcome(result, "logo.png") == FileOutcome(
        "logo.png", FileStatus.CONFLICT, "binary file changed by both; consumer's file kept"
    )


def test_template_deletion_of_an_edited_file_keeps_it_and_the_rej_shows_the_deletion() -> None:
    base = {"old.txt": f("o\n")}
    ours = {"old.txt": f("o, edited\n")}
    result = merge_trees(base, {}, ours, conflict_style="rej", template_label="template v2")
    assert result.tree["old.txt"] == ours["old.txt"]
    assert result.deleted == ()
    assert outcome(result, "old.txt").detail == (
        "deleted by the template, changed by the consumer; kept; template change in old.txt.rej"
    )
    rej = result.tree["old.txt.rej"].data.decode()
    assert rej.startswith("# evobot: template v2 changed old.txt;")
    assert "--- a/old.txt\n+++ /dev/null\n" in rej
    assert "-o\n" in rej


def test_consumer_deletion_of_a_changed_file_is_a_conflict_with_the_templates_diff() -> None:
    base = {"a.txt": f("a\n")}
    new = {"a.txt": f("b")}
    result = merge_trees(base, new, {}, conflict_style="rej")
    assert "a.txt" not in result.tree
    rej = result.tree["a.txt.rej"].data.decode()
    assert "--- a/a.txt\n+++ b/a.txt\n" in rej
    assert "+b\n\\ No newline at end of file\n" in rej


def test_mode_only_change_says_so() -> None:
    base = {"run.sh": f("#!/bin/sh\n")}
    new = {"run.sh": File(b"#!/bin/sh\n", executable=True)}
    result = merge_trees(base, new, dict(base))
    assert result.tree["run.sh"].executable
    assert outcome(result, "run.sh") == FileOutcome("run.sh", FileStatus.UPDATED, "mode changed")


def test_rename_never_clobbers_the_consumers_file_or_a_protected_one() -> None:
    base = {"src/a.py": f("a\n"), "src/b.py": f("b\n"), "lib/c.py": f("c\n")}
    new = {"pkg/a.py": f("a\n"), "pkg/b.py": f("b\n"), "new/c.py": f("c\n")}
    ours = {
        "src/a.py": f("a, edited\n"),
        "src/b.py": f("b\n"),
        "pkg/b.py": f("consumer's own b\n"),
        "lib/c.py": f("c, edited\n"),
    }
    result = merge_trees(
        base, new, ours, renames={"/src/": "/pkg/", "lib": "new"}, protect=["lib/*"]
    )
    assert result.tree["pkg/a.py"] == ours["src/a.py"]  # moved with the edit
    # Not clobbered by the move: the consumer's own pkg/b.py meets the template's as a conflict.
    assert b"consumer's own b\n" in result.tree["pkg/b.py"].data
    assert "pkg/b.py" in result.conflicts
    assert result.tree["lib/c.py"] == ours["lib/c.py"]  # protected: stays where it is
    assert "src/a.py" not in result.tree


def test_unknown_conflict_style_is_named() -> None:
    with pytest.raises(MergeError, match="unknown conflict style 'patch'; use 'inline' or 'rej'"):
        merge_trees({}, {}, {}, conflict_style="patch")  # type: ignore[arg-type]
