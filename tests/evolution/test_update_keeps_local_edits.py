"""`evobot update` merges template changes into files the consumer edited too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evobot_testing import git, git_commit_all
from evolution_helpers import LINES, TemplateRepo, make_consumer, replace_once, run_evobot


@pytest.fixture
def consumer(tmp_path: Path) -> Path:
    repo = TemplateRepo.create(tmp_path / "template")
    repo.release("v1.0.0", {"app.txt": LINES, "README.md.jinja": "# {{ name }}\n"})
    repo.release(
        "v1.1.0",
        {
            "app.txt": replace_once(LINES, "line 2\n", "line two (template)\n"),
            "README.md.jinja": "# {{ name }}\n\nNow with docs.\n",
        },
    )
    dest = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0", answers={"name": "billing"})
    return dest


def test_non_overlapping_edits_are_merged(
    consumer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = consumer / "app.txt"
    app.write_text(replace_once(LINES, "line 19\n", "line 19 (ours)\n"))
    git_commit_all(consumer, "local edit")

    result = run_evobot(capsys, "update", consumer, "--json")

    assert result.exit_code == 0, result.stderr
    text = app.read_text()
    assert "line two (template)\n" in text
    assert "line 19 (ours)\n" in text
    assert "<<<<<<<" not in text
    assert (consumer / "README.md").read_text() == "# billing\n\nNow with docs.\n"
    report = json.loads(result.stdout)
    assert report["conflicts"] == []
    by_path = {f["path"]: f["status"] for f in report["files"]}
    assert by_path == {".evobot.yml": "updated", "README.md": "updated", "app.txt": "updated"}
    assert "ref: v1.1.0" in (consumer / ".evobot.yml").read_text()


def test_overlapping_edits_get_conflict_markers_and_exit_zero(
    consumer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (consumer / "app.txt").write_text(replace_once(LINES, "line 2\n", "line 2 (ours)\n"))
    git_commit_all(consumer, "local edit")

    result = run_evobot(capsys, "update", consumer)

    assert result.exit_code == 0, result.stderr
    text = (consumer / "app.txt").read_text()
    assert "<<<<<<< consumer\nline 2 (ours)\n" in text
    assert "=======\nline two (template)\n>>>>>>> template v1.1.0\n" in text
    assert "app.txt" in result.unwrapped_err  # the conflict is listed for the person running it
    assert "conflict" in result.stdout


def test_conflict_rej_keeps_our_file_and_writes_the_template_diff(
    consumer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ours = replace_once(LINES, "line 2\n", "line 2 (ours)\n")
    (consumer / "app.txt").write_text(ours)
    git_commit_all(consumer, "local edit")

    result = run_evobot(capsys, "update", consumer, "--conflict", "rej", "--json")

    assert result.exit_code == 0, result.stderr
    assert (consumer / "app.txt").read_text() == ours
    rej = (consumer / "app.txt.rej").read_text()
    assert "-line 2\n+line two (template)\n" in rej
    assert json.loads(result.stdout)["conflicts"] == ["app.txt"]
    # The consumer's work tree now shows exactly the update for review.
    changed = git(consumer, "status", "--porcelain").splitlines()
    assert sorted(line.split(maxsplit=1)[1] for line in changed) == [
        ".evobot.yml",
        ".evobot/",
        "README.md",
        "app.txt.rej",
    ]


def test_update_records_provenance_that_verify_accepts(
    consumer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (consumer / "app.txt").write_text(replace_once(LINES, "line 19\n", "line 19 (ours)\n"))
    git_commit_all(consumer, "local edit")

    assert run_evobot(capsys, "update", consumer).exit_code == 0
    statement = json.loads((consumer / ".evobot/provenance.json").read_text())
    assert statement["predicate"]["buildDefinition"]["externalParameters"]["ref"] == "v1.1.0"
    git_commit_all(consumer, "evolve to v1.1.0")
    before = (consumer / ".evobot/provenance.json").read_bytes()

    verified = run_evobot(capsys, "verify", consumer, "--json")
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    # A second update is a no-op, provenance included.
    assert run_evobot(capsys, "update", consumer).exit_code == 0
    assert (consumer / ".evobot/provenance.json").read_bytes() == before
    assert git(consumer, "status", "--porcelain") == ""
