"""The `evobot update` command: idempotence, dry runs, dirty trees, JSON shape and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evobot_testing import build_file_tree, git, git_commit_all
from evolution_helpers import TemplateRepo, make_consumer, run_evobot

from bot.tree import read_tree


@pytest.fixture
def repo(tmp_path: Path) -> TemplateRepo:
    repo = TemplateRepo.create(tmp_path / "template")
    repo.release(
        "v1.0.0", {"a.txt": "one\n", "gone.txt": "bye\n", "README.md.jinja": "# {{ name }}\n"}
    )
    repo.release(
        "v1.1.0", {"a.txt": "two\n", "b.txt": "new\n", "README.md.jinja": "# {{ name }}!\n"}
    )
    return repo


def test_update_twice_is_a_no_op_the_second_time(
    repo: TemplateRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")
    first = run_evobot(capsys, "update", consumer, "--json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["changed"] is True
    git_commit_all(consumer, "evolved")
    before = read_tree(consumer)
    head = git(consumer, "rev-parse", "HEAD")

    second = run_evobot(capsys, "update", consumer, "--json")

    assert second.exit_code == 0, second.stderr
    report = json.loads(second.stdout)
    assert report["changed"] is False
    assert report["files"] == []
    assert report["from"] == report["to"]
    assert read_tree(consumer) == before
    assert git(consumer, "status", "--porcelain") == ""
    assert git(consumer, "rev-parse", "HEAD") == head
    human = run_evobot(capsys, "update", consumer)
    assert "nothing to do" in human.stdout


def test_dry_run_writes_nothing_and_prints_the_plan(
    repo: TemplateRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")
    before = read_tree(consumer)

    result = run_evobot(capsys, "update", consumer, "--dry-run")

    assert result.exit_code == 0, result.stderr
    assert read_tree(consumer) == before
    assert "would update" in result.stdout
    for path in ("a.txt", "b.txt", "gone.txt"):
        assert path in result.stdout
    assert "nothing written" in result.stdout


def test_json_output_shape(
    repo: TemplateRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")
    v1 = git(repo.root, "rev-parse", "v1.0.0")
    v2 = git(repo.root, "rev-parse", "v1.1.0")

    result = run_evobot(capsys, "update", consumer, "--json", "--vcs-ref", "v1.1.0")

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["from"] == {"ref": "v1.0.0", "commit": v1}
    assert report["to"] == {"ref": "v1.1.0", "commit": v2}
    assert report["conflicts"] == []
    assert [(f["path"], f["status"]) for f in report["files"]] == [
        (".evobot.yml", "updated"),
        ("README.md", "updated"),
        ("a.txt", "updated"),
        ("b.txt", "added"),
        ("gone.txt", "deleted"),
    ]
    assert not (consumer / "gone.txt").exists()


def test_dirty_work_tree_is_refused_unless_allowed(
    repo: TemplateRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")
    (consumer / "a.txt").write_text("uncommitted\n")
    (consumer / "scratch.txt").write_text("untracked\n")

    refused = run_evobot(capsys, "update", consumer)

    assert refused.exit_code == 1
    assert "uncommitted changes" in refused.unwrapped_err
    assert "a.txt" in refused.unwrapped_err and "scratch.txt" in refused.unwrapped_err
    assert "Traceback" not in refused.stderr
    assert (consumer / "b.txt").exists() is False

    allowed = run_evobot(capsys, "update", consumer, "--allow-dirty", "--json")
    assert allowed.exit_code == 0, allowed.stderr
    assert (consumer / "b.txt").read_text() == "new\n"
    assert (consumer / "scratch.txt").read_text() == "untracked\n"


def test_plain_directory_consumer_is_updated(
    repo: TemplateRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    consumer = make_consumer(repo, tmp_path / "plain", ref="v1.0.0", git=False)

    result = run_evobot(capsys, "update", consumer)

    assert result.exit_code == 0, result.stderr
    assert (consumer / "a.txt").read_text() == "two\n"
    assert "ref: v1.1.0" in (consumer / ".evobot.yml").read_text()


def test_errors_exit_one_with_a_message(
    repo: TemplateRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_rendered = tmp_path / "empty"
    not_rendered.mkdir()
    missing = run_evobot(capsys, "update", not_rendered)
    assert missing.exit_code == 1
    assert ".evobot.yml: not found" in missing.unwrapped_err

    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")
    bad_ref = run_evobot(capsys, "update", consumer, "--vcs-ref", "v9.9.9")
    assert bad_ref.exit_code == 1
    assert "v9.9.9" in bad_ref.unwrapped_err
    assert git(consumer, "status", "--porcelain") == ""

    bad_style = run_evobot(capsys, "update", consumer, "--conflict", "both")
    assert bad_style.exit_code != 0


def test_update_follows_evobot_render(
    repo: TemplateRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    consumer = tmp_path / "rendered"
    rendered = run_evobot(
        capsys, "render", repo.root, consumer, "--vcs-ref", "v1.0.0", "--data", "name=orders"
    )
    assert rendered.exit_code == 0, rendered.stderr

    result = run_evobot(capsys, "update", consumer, "--json")

    assert result.exit_code == 0, result.stderr
    assert (consumer / "README.md").read_text() == "# orders!\n"
    assert json.loads(result.stdout)["to"]["ref"] == "v1.1.0"


def test_plain_directory_template_cannot_be_evolved_without_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "plain-template"
    build_file_tree(template, {"template.yml": "name: plain\n", "files/a.txt": "one\n"})
    consumer = tmp_path / "consumer"
    assert run_evobot(capsys, "render", template, consumer).exit_code == 0

    unchanged = run_evobot(capsys, "update", consumer, "--json")
    assert unchanged.exit_code == 0, unchanged.stderr
    assert json.loads(unchanged.stdout)["changed"] is False

    (template / "files" / "a.txt").write_text("two\n")
    changed = run_evobot(capsys, "update", consumer)
    assert changed.exit_code == 1
    assert "old version cannot be recovered" in changed.unwrapped_err
    assert (consumer / "a.txt").read_text() == "one\n"
