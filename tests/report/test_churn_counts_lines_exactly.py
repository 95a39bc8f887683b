"""Churn counts exactly the lines an evolution added, removed and changed, and flags noise."""

from __future__ import annotations

import json

from bot.report.churn import ChangeKind, ChurnReport, NoiseKind, compute_churn, count_line_changes
from bot.tree import File


def test_replace_block_counts_changed_and_the_rest_as_added() -> None:
    old = [b"a\n", b"b\n", b"c\n", b"d\n"]
    new = [b"a\n", b"B\n", b"C\n", b"X\n", b"d\n"]
    # one hunk of 2 deletions + 3 insertions: 2 changed, 1 added
    assert count_line_changes(old, new) == (1, 0, 2)


def test_pure_additions_and_removals() -> None:
    assert count_line_changes([b"a\n"], [b"a\n", b"b\n", b"c\n"]) == (2, 0, 0)
    assert count_line_changes([b"a\n", b"b\n", b"c\n"], [b"c\n"]) == (0, 2, 0)
    assert count_line_changes([], []) == (0, 0, 0)


def test_separate_hunks_are_counted_separately() -> None:
    old = [b"1\n", b"2\n", b"3\n", b"4\n", b"5\n", b"6\n"]
    new = [b"1\n", b"two\n", b"3\n", b"4\n", b"5\n", b"5b\n", b"5c\n", b"6\n"]
    # hunk 1: 1 del + 1 ins = 1 changed; hunk 2: 2 insertions
    assert count_line_changes(old, new) == (2, 0, 1)


def test_a_moved_block_is_not_overcounted() -> None:
    body = [f"line {i}\n".encode() for i in range(100)]
    old = [b"header\n", *body, b"footer\n"]
    new = [b"header\n", b"new first\n", *body, b"footer\n"]
    assert count_line_changes(old, new) == (1, 0, 0)


def test_per_file_status_and_totals() -> None:
    old = {
        "app/main.py": File(b"x = 1\ny = 2\nz = 3\n"),
        "README.md": File(b"one\ntwo\n"),
        "gone.txt": File(b"a\nb\nc\n"),
        "logo.png": File(b"\x89PNG\0\0data"),
        "same.txt": File(b"same\n"),
        "run.sh": File(b"echo hi\n"),
    }
    new = {
        "app/main.py": File(b"x = 1\ny = 20\nz = 3\nw = 4\n"),
        "docs/README.md": File(b"one\ntwo\n"),
        "logo.png": File(b"\x89PNG\0\0data and more"),
        "same.txt": File(b"same\n"),
        "run.sh": File(b"echo hi\n", executable=True),
        "new.txt": File(b"1\n2\n3\n4\n"),
    }
    report = compute_churn(old, new)
    by_path = {f.path: f for f in report.files}
    assert set(by_path) == {
        "app/main.py",
        "docs/README.md",
        "gone.txt",
        "logo.png",
        "run.sh",
        "new.txt",
    }
    main = by_path["app/main.py"]
    assert (main.status, main.added, main.removed, main.changed) == (ChangeKind.MODIFIED, 1, 0, 1)
    renamed = by_path["docs/README.md"]
    assert renamed.status is ChangeKind.RENAMED and renamed.old_path == "README.md"
    assert renamed.lines == 0
    assert (by_path["gone.txt"].status, by_path["gone.txt"].removed) == (ChangeKind.DELETED, 3)
    assert (by_path["new.txt"].status, by_path["new.txt"].added) == (ChangeKind.ADDED, 4)
    png = by_path["logo.png"]
    assert png.binary and png.lines == 0 and png.size_delta == len(b" and more")
    assert by_path["run.sh"].mode_changed and by_path["run.sh"].lines == 0
    assert report.unchanged == 1
    t = report.totals
    assert (t.files_changed, t.files_added, t.files_deleted, t.files_modified, t.files_renamed) == (
        6,
        1,
        1,
        3,
        1,
    )
    assert (t.lines_added, t.lines_removed, t.lines_changed, t.binary_files) == (5, 3, 1, 1)


def test_noise_flags() -> None:
    old = {
        "crlf.txt": File(b"a\nb\n"),
        "ws.md": File(b"# Title\n\nsome  text\n"),
        "fmt.py": File(b"x = {'a': 1,}\n# keep\n"),
        "indent.py": File(b"if x:\n    y()\nz()\n"),
        "conf.json": File(b'{"a": [1, 2]}'),
        "real.txt": File(b"hello\n"),
        "cfg.yml": File(b"a:\n  b: 1\n"),
    }
    new = {
        "crlf.txt": File(b"a\r\nb\r\n"),
        "ws.md": File(b"# Title\n\nsome text   \n"),
        "fmt.py": File(b'x = {\n    "a": 1,\n}\n# keep\n'),
        "indent.py": File(b"if x:\n    y()\n    z()\n"),
        "conf.json": File(b'{\n  "a": [\n    1,\n    2\n  ]\n}\n'),
        "real.txt": File(b"goodbye\n"),
        "cfg.yml": File(b"a:\nb: 1\n"),
    }
    noise = {f.path: f.noise for f in compute_churn(old, new).files}
    assert noise == {
        "crlf.txt": NoiseKind.LINE_ENDINGS,
        "ws.md": NoiseKind.WHITESPACE,
        "fmt.py": NoiseKind.REFORMAT,
        "indent.py": None,  # whitespace that changes Python's meaning is a real change
        "conf.json": NoiseKind.WHITESPACE,
        "real.txt": None,
        "cfg.yml": None,  # YAML nesting changed
    }
    report = compute_churn(old, new)
    assert report.totals.noise_files == 4
    # line-ending changes still count as changed lines, as git counts them
    assert {f.path: f.changed for f in report.files}["crlf.txt"] == 2


def test_comment_changes_are_not_reformat_noise() -> None:
    old = {"a.py": File(b"x = 1  # old reason\n")}
    new = {"a.py": File(b"x = 1  # new reason\n")}
    assert compute_churn(old, new).files[0].noise is None


def test_churn_relative_to_previous_evolution() -> None:
    base = {"a.txt": File(b"1\n"), "b.txt": File(b"1\n")}
    first = compute_churn(base, {"a.txt": File(b"2\n"), "b.txt": File(b"1\n")})
    second = compute_churn(
        base,
        {"a.txt": File(b"3\n"), "b.txt": File(b"1\n2\n3\n"), "c.txt": File(b"x\n")},
        previous=first,
    )
    delta = second.relative
    assert delta is not None
    assert delta.previous == first.totals
    assert delta.files_changed == 2  # 3 now, 1 before
    assert (delta.lines_added, delta.lines_removed, delta.lines_changed) == (3, 0, 0)
    assert delta.new_paths == ["b.txt", "c.txt"]
    assert delta.recurring_paths == ["a.txt"]


def test_report_round_trips_through_json() -> None:
    report = compute_churn({"a": File(b"1\n")}, {"a": File(b"2\n"), "b": File(b"\0")})
    again = ChurnReport.model_validate(json.loads(report.model_dump_json()))
    assert again == report


def test_large_files_are_cut_at_unique_lines_and_still_counted_exactly() -> None:
    old = [f"line {i}\n".encode() for i in range(5000)]
    new = list(old)
    for i in range(0, 5000, 100):
        new[i] = b"edited\n"  # 50 changed lines
    del new[2001:2011]  # 10 removed
    new[4000:4000] = [b"inserted\n"] * 7  # 7 added
    assert count_line_changes(old, new) == (7, 10, 50)
    # no unique line to cut at: one hunk sized by the LCS length
    assert count_line_changes([b"x\n"] * 3000, [b"x\n"] * 2000 + [b"y\n"] * 2500) == (
        1500,
        0,
        1000,
    )


def test_a_yaml_alias_bomb_is_compared_as_text_not_expanded() -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        refs = ", ".join([f"*{prev}"] * 9)
        levels.append(f"{name}: &{name} [{refs}]")
    bomb = ("\n".join(levels) + "\n").encode()
    report = compute_churn({"x.yml": File(bomb)}, {"x.yml": File(bomb.replace(b", ", b","))})
    assert report.files[0].noise is NoiseKind.WHITESPACE
