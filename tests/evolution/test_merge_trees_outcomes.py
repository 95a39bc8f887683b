"""merge_trees driven directly over in-memory trees: one outcome per file, real git merge-file."""

from __future__ import annotations

from bot.evolution import merge_trees
from bot.evolution.merge import BATCH_SIZE
from bot.tree import File


def t(text: str, executable: bool = False) -> File:
    return File(text.encode(), executable)


LINES = "".join(f"line {n}\n" for n in range(1, 21))


def edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def statuses(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {o.path: o.status.value for o in result.files}


def test_untouched_file_takes_template_change_without_merging() -> None:
    base = {"a.txt": t(LINES)}
    new = {"a.txt": t(edit(LINES, "line 3\n", "line three\n"))}
    result = merge_trees(base, new, dict(base))
    assert result.tree["a.txt"] == new["a.txt"]
    assert statuses(result) == {"a.txt": "updated"}
    assert result.conflicts == ()


def test_non_overlapping_edits_merge_cleanly() -> None:
    base = {"a.txt": t(LINES)}
    new = {"a.txt": t(edit(LINES, "line 2\n", "line two\n"))}
    ours = {"a.txt": t(edit(LINES, "line 18\n", "line eighteen\n"))}
    result = merge_trees(base, new, ours)
    merged = result.tree["a.txt"].data.decode()
    assert "line two\n" in merged
    assert "line eighteen\n" in merged
    assert "<<<<<<<" not in merged
    assert statuses(result) == {"a.txt": "updated"}


def test_overlapping_edits_leave_labelled_conflict_markers() -> None:
    base = {"a.txt": t(LINES)}
    new = {"a.txt": t(edit(LINES, "line 5\n", "template five\n"))}
    ours = {"a.txt": t(edit(LINES, "line 5\n", "consumer five\n"))}
    result = merge_trees(base, new, ours, template_label="template v2.0.0")
    merged = result.tree["a.txt"].data.decode()
    assert "<<<<<<< consumer\nconsumer five\n" in merged
    assert "=======\ntemplate five\n>>>>>>> template v2.0.0\n" in merged
    assert result.conflicts == ("a.txt",)


def test_rej_style_keeps_consumer_file_and_writes_template_diff() -> None:
    base = {"a.txt": t(LINES)}
    new = {"a.txt": t(edit(LINES, "line 5\n", "template five\n"))}
    ours = {"a.txt": t(edit(LINES, "line 5\n", "consumer five\n"))}
    result = merge_trees(base, new, ours, conflict_style="rej")
    assert result.tree["a.txt"] == ours["a.txt"]
    rej = result.tree["a.txt.rej"].data.decode()
    assert "-line 5\n+template five\n" in rej
    assert "--- a/a.txt" in rej
    assert result.conflicts == ("a.txt",)


def test_consumer_only_files_pass_through_without_outcome() -> None:
    result = merge_trees({}, {}, {"mine.txt": t("x\n")})
    assert result.tree == {"mine.txt": t("x\n")}
    assert result.files == ()


def test_template_addition_and_deletion() -> None:
    base = {"old.txt": t("old\n")}
    new = {"new.txt": t("new\n")}
    result = merge_trees(base, new, {"old.txt": t("old\n")})
    assert result.tree == {"new.txt": t("new\n")}
    assert result.deleted == ("old.txt",)
    assert statuses(result) == {"new.txt": "added", "old.txt": "deleted"}


def test_template_deletion_of_an_edited_file_is_a_conflict_keeping_it() -> None:
    base = {"old.txt": t("old\n")}
    result = merge_trees(base, {}, {"old.txt": t("old, edited\n")})
    assert result.tree == {"old.txt": t("old, edited\n")}
    assert result.deleted == ()
    assert result.conflicts == ("old.txt",)


def test_consumer_deleted_file_stays_deleted() -> None:
    base = {"gone.txt": t("a\n"), "kept.txt": t("k\n")}
    same = merge_trees(base, dict(base), {"kept.txt": t("k\n")})
    assert "gone.txt" not in same.tree
    assert same.conflicts == ()
    changed = merge_trees(base, {**base, "gone.txt": t("b\n")}, {"kept.txt": t("k\n")})
    assert "gone.txt" not in changed.tree
    assert changed.conflicts == ("gone.txt",)
    assert changed.files[0].detail is not None and "stays deleted" in changed.files[0].detail


def test_crlf_file_stays_crlf_and_keeps_missing_final_newline() -> None:
    base = {"w.txt": t(LINES)}
    new = {"w.txt": t(edit(LINES, "line 2\n", "line two\n"))}
    ours_text = edit(LINES, "line 19\n", "mine 19\n").rstrip("\n").replace("\n", "\r\n")
    result = merge_trees(base, new, {"w.txt": File(ours_text.encode())})
    data = result.tree["w.txt"].data
    assert b"line two\r\n" in data
    assert b"mine 19\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert not data.endswith(b"\n")


def test_crlf_only_change_is_not_a_consumer_edit() -> None:
    base = {"w.txt": t("a\nb\n")}
    new = {"w.txt": t("a\nB\n")}
    result = merge_trees(base, new, {"w.txt": t("a\r\nb\r\n")})
    assert result.tree["w.txt"].data == b"a\r\nB\r\n"
    assert result.conflicts == ()


def test_executable_bit_follows_template_unless_consumer_changed_it() -> None:
    base = {"run.sh": t("echo hi\n"), "tool.sh": t("echo\n")}
    new = {"run.sh": t("echo hi\n", True), "tool.sh": t("echo\n", True)}
    ours = {"run.sh": t("echo hi\n"), "tool.sh": t("echo\n", True)}
    result = merge_trees(base, new, ours)
    assert result.tree["run.sh"].executable
    assert result.tree["tool.sh"].executable
    assert statuses(result) == {"run.sh": "updated", "tool.sh": "unchanged"}
    # The consumer made it non-executable on purpose; the template's content change still applies.
    base2 = {"x.sh": t("a\n", True)}
    new2 = {"x.sh": t("b\n", True)}
    result2 = merge_trees(base2, new2, {"x.sh": t("a\n", False)})
    assert result2.tree["x.sh"] == t("b\n", False)


def test_binary_file_taken_when_unedited_conflict_when_edited() -> None:
    base = {"logo.png": File(b"\x89PNG\0old")}
    new = {"logo.png": File(b"\x89PNG\0new")}
    clean = merge_trees(base, new, dict(base))
    assert clean.tree["logo.png"] == new["logo.png"]
    assert clean.conflicts == ()
    ours = {"logo.png": File(b"\x89PNG\0mine")}
    conflict = merge_trees(base, new, ours, conflict_style="rej")
    assert conflict.tree == ours
    assert conflict.conflicts == ("logo.png",)


def test_protected_and_skip_if_exists_paths_are_left_alone() -> None:
    base = {"docs/a.md": t("a\n"), "ci/x.yml": t("x\n"), "NOTES.md": t("n\n")}
    new = {"docs/a.md": t("A\n"), "ci/x.yml": t("X\n"), "NOTES.md": t("N\n"), "docs/b.md": t("b\n")}
    ours = {"docs/a.md": t("a\n"), "ci/x.yml": t("x\n"), "NOTES.md": t("mine\n")}
    result = merge_trees(base, new, ours, protect=["docs/**"], skip_if_exists=["NOTES.md"])
    assert result.tree == {**ours, "ci/x.yml": t("X\n")}
    assert "docs/b.md" not in result.tree


def test_rename_keeps_consumer_edits_under_new_name() -> None:
    base = {"src/old.py": t(LINES)}
    new = {"src/new.py": t(edit(LINES, "line 1\n", "header\n"))}
    ours = {"src/old.py": t(edit(LINES, "line 15\n", "consumer 15\n"))}
    result = merge_trees(base, new, ours, renames={"src/old.py": "src/new.py"})
    merged = result.tree["src/new.py"].data.decode()
    assert "header\n" in merged and "consumer 15\n" in merged
    assert "src/old.py" not in result.tree
    assert result.deleted == ("src/old.py",)
    assert statuses(result) == {"src/new.py": "added", "src/old.py": "deleted"}


def test_many_conflicting_candidates_are_merged_in_batches() -> None:
    n = BATCH_SIZE + 5
    base = {f"f{i}.txt": t(LINES) for i in range(n)}
    new = {p: t(edit(LINES, "line 1\n", "top\n")) for p in base}
    ours = {p: t(edit(LINES, "line 20\n", f"bottom {p}\n")) for p in base}
    result = merge_trees(base, new, ours)
    assert result.conflicts == ()
    for p in base:
        assert result.tree[p].data.decode().startswith("top\n")
        assert result.tree[p].data.decode().endswith(f"bottom {p}\n")


def test_directory_rename_moves_every_file_and_keeps_edits() -> None:
    base = {"old/a.txt": t("a\n"), "old/b.txt": t(LINES)}
    new = {"new/a.txt": t("a\n"), "new/b.txt": t(edit(LINES, "line 1\n", "one\n"))}
    ours = {"old/a.txt": t("a\n"), "old/b.txt": t(edit(LINES, "line 20\n", "twenty\n"))}
    result = merge_trees(base, new, ours, renames={"old": "new"})
    assert sorted(result.tree) == ["new/a.txt", "new/b.txt"]
    assert result.tree["new/b.txt"].data.decode().startswith("one\n")
    assert result.tree["new/b.txt"].data.decode().endswith("twenty\n")
    assert result.deleted == ("old/a.txt", "old/b.txt")


def test_rename_does_not_clobber_a_consumer_file_at_the_new_path() -> None:
    base = {"old.txt": t("template\n")}
    new = {"new.txt": t("template\n")}
    ours = {"old.txt": t("template\n"), "new.txt": t("consumer's own\n")}
    result = merge_trees(base, new, ours, renames={"old.txt": "new.txt"})
    merged = result.tree["new.txt"].data.decode()
    assert merged.startswith("<<<<<<< consumer\nconsumer's own\n")
    assert "=======\ntemplate\n>>>>>>> template\n" in merged
    assert result.conflicts == ("new.txt",)
    assert result.deleted == ("old.txt",)  # unedited, so the template's removal applies
