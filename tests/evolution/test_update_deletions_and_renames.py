"""Deleted files stay deleted, template deletions respect local edits, renames keep them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evobot_testing import git_commit_all
from evolution_helpers import (
    BASIC_MANIFEST,
    LINES,
    TemplateRepo,
    make_consumer,
    replace_once,
    run_evobot,
)


def statuses(stdout: str) -> dict[str, str]:
    return {f["path"]: f["status"] for f in json.loads(stdout)["files"]}


def test_file_deleted_by_consumer_stays_deleted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    repo.release("v1.0.0", {"keep.txt": "k\n", "unused.txt": "u\n", "changed.txt": "c\n"})
    repo.release("v1.1.0", {"keep.txt": "K\n", "unused.txt": "u\n", "changed.txt": "C\n"})
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")
    (consumer / "unused.txt").unlink()
    (consumer / "changed.txt").unlink()
    git_commit_all(consumer, "we do not need these")

    result = run_evobot(capsys, "update", consumer, "--json")

    assert result.exit_code == 0, result.stderr
    assert not (consumer / "unused.txt").exists()
    assert not (consumer / "changed.txt").exists()  # reported, never resurrected
    assert (consumer / "keep.txt").read_text() == "K\n"
    report = json.loads(result.stdout)
    assert report["conflicts"] == ["changed.txt"]
    assert statuses(result.stdout)["unused.txt"] == "unchanged"


def test_file_deleted_by_template_goes_unless_the_consumer_edited_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    repo.release("v1.0.0", {"a.txt": "a\n", "sub/b.txt": "b\n", "c.txt": "c\n"})
    repo.release("v2.0.0", {"c.txt": "c\n"})
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")
    (consumer / "sub" / "b.txt").write_text("b, edited\n")
    git_commit_all(consumer, "edit b")

    result = run_evobot(capsys, "update", consumer, "--json")

    assert result.exit_code == 0, result.stderr
    assert not (consumer / "a.txt").exists()
    assert (consumer / "sub" / "b.txt").read_text() == "b, edited\n"
    assert statuses(result.stdout) == {
        ".evobot.yml": "updated",
        "a.txt": "deleted",
        "c.txt": "unchanged",
        "sub/b.txt": "conflict",
    }
    assert json.loads(result.stdout)["conflicts"] == ["sub/b.txt"]


def renaming_manifest(**migration: Any) -> dict[str, Any]:
    return {**BASIC_MANIFEST, "migrations": [{"version": "2.0.0", **migration}]}


def test_file_renamed_by_template_keeps_consumer_edits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    repo.release("v1.0.0", {"conf/old.cfg": LINES, "other.cfg": "o\n"})
    repo.release(
        "v2.0.0",
        {"conf/new.cfg": replace_once(LINES, "line 1\n", "# header\n"), "other.cfg": "o\n"},
        renaming_manifest(rename_files={"conf/old.cfg": "conf/new.cfg"}),
    )
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")
    (consumer / "conf" / "old.cfg").write_text(replace_once(LINES, "line 12\n", "ours 12\n"))
    git_commit_all(consumer, "tune config")

    result = run_evobot(capsys, "update", consumer, "--json")

    assert result.exit_code == 0, result.stderr
    assert not (consumer / "conf" / "old.cfg").exists()
    merged = (consumer / "conf" / "new.cfg").read_text()
    assert merged.startswith("# header\n")
    assert "ours 12\n" in merged
    found = statuses(result.stdout)
    assert found["conf/old.cfg"] == "deleted"
    assert found["conf/new.cfg"] == "added"
    assert "2.0.0" in json.loads(result.stdout)["migrations"]


def test_file_renamed_by_template_without_edits_simply_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    repo.release("v1.0.0", {"old.txt": "same\n"})
    repo.release(
        "v2.0.0", {"new.txt": "same\n"}, renaming_manifest(rename_files={"old.txt": "new.txt"})
    )
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")

    result = run_evobot(capsys, "update", consumer, "--json")

    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in consumer.iterdir() if p.name != ".git") == [
        ".evobot",  # provenance of the evolution
        ".evobot.yml",
        "new.txt",
    ]
    assert json.loads(result.stdout)["conflicts"] == []


def test_delete_files_migration_removes_a_file_the_template_never_rendered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    repo.release("v1.0.0", {"a.txt": "a\n"})
    repo.release("v2.0.0", {"a.txt": "a\n"}, renaming_manifest(delete_files=["setup.cfg"]))
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")
    (consumer / "setup.cfg").write_text("[legacy]\n")
    git_commit_all(consumer, "a file from an older generator")

    result = run_evobot(capsys, "update", consumer, "--json")

    assert result.exit_code == 0, result.stderr
    assert not (consumer / "setup.cfg").exists()
    assert statuses(result.stdout)["setup.cfg"] == "deleted"
