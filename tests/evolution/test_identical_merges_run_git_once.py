"""Consumers that need the very same three-way merge share one `git merge-file` run through a
`MergeMemo`; a consumer with its own edit, or a merge under another label, still gets its own."""

from __future__ import annotations

from bot.evolution.merge import MergeMemo, merge_trees
from bot.tree import File

BASE_TEXT = "".join(f"line {n}\n" for n in range(1, 31))
BASE = {"app.py": File(BASE_TEXT.encode()), "README.md": File(b"# svc\n\nabout\n")}
NEW = {
    "app.py": File(BASE_TEXT.replace("line 2\n", "line two\n").encode()),
    "README.md": File(b"# svc\n\nabout, updated\n"),
}


def consumer(edit: str) -> dict[str, File]:
    return {
        "app.py": File(BASE_TEXT.replace("line 29\n", f"line 29 {edit}\n").encode()),
        "README.md": File(f"# svc\n\nabout\n\n## {edit}\n".encode()),
    }


def test_identical_consumers_run_one_merge_per_distinct_file() -> None:
    memo = MergeMemo()
    results = [merge_trees(BASE, NEW, consumer("ours"), memo=memo) for _ in range(8)]
    assert memo.runs == 2  # app.py and README.md, once each
    assert memo.reused == 14
    assert all(r == results[0] for r in results)
    assert b"line two\n" in results[0].tree["app.py"].data
    assert b"line 29 ours\n" in results[0].tree["app.py"].data


def test_consumer_with_a_different_edit_gets_its_own_merge() -> None:
    memo = MergeMemo()
    for _ in range(5):
        merge_trees(BASE, NEW, consumer("ours"), memo=memo)
    other = merge_trees(BASE, NEW, consumer("theirs"), memo=memo)
    assert memo.runs == 4
    assert other == merge_trees(BASE, NEW, consumer("theirs"))
    assert b"line 29 theirs\n" in other.tree["app.py"].data


def test_same_merge_twice_in_one_consumer_runs_once() -> None:
    memo = MergeMemo()
    base = {**BASE, "copy.py": BASE["app.py"]}
    new = {**NEW, "copy.py": NEW["app.py"]}
    ours = {**consumer("ours"), "copy.py": consumer("ours")["app.py"]}
    result = merge_trees(base, new, ours, memo=memo)
    assert memo.runs == 2 and memo.reused == 1
    assert result.tree["copy.py"] == result.tree["app.py"]


def test_merges_under_another_template_label_are_not_shared() -> None:
    # The label is written into conflict markers, so it is part of what git computed.
    memo = MergeMemo()
    ours = {**BASE, "app.py": File(BASE_TEXT.replace("line 2\n", "line 2 (ours)\n").encode())}
    one = merge_trees(BASE, NEW, ours, memo=memo, template_label="template v1")
    two = merge_trees(BASE, NEW, ours, memo=memo, template_label="template v2")
    assert memo.runs == 2
    assert one.conflicts == two.conflicts == ("app.py",)
    assert b">>>>>>> template v2" in two.tree["app.py"].data
