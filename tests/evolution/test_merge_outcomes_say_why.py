"""Every file's outcome says what happened and why: protected and skip-if-exists files, files
deleted on either side, renamed files and files merged three ways (found by `make mutate`)."""

from __future__ import annotations

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
