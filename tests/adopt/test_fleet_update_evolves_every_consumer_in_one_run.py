"""`evobot update --fleet DIR` (or several paths) evolves every consumer under a directory in one
process, copier and evobot consumers side by side, and says what happened to each in a summary
table or `--json`; one broken consumer is reported without stopping the others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from adopt_support import copier_copy, run_evobot, template_repo
from evobot_testing import git_commit_all, git_init

COPIER_YML = "name:\n  type: str\n  default: svc\n"
V1 = {
    "copier.yml": COPIER_YML,
    "{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers | to_nice_yaml -}}\n",
    "app.py.jinja": "NAME = '{{ name }}'\n",
}
V2 = {**V1, "app.py.jinja": "NAME = '{{ name }}'\nVERSION = 2\n"}


@pytest.fixture
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    template_repo(tmp_path / "tpl", [V1, V2])
    monkeypatch.chdir(tmp_path)
    mono = git_init(tmp_path / "mono")
    for n in range(5):
        copier_copy("tpl", mono / "services" / f"svc{n}", {"name": f"svc{n}"}, vcs_ref="v1.0.0")
    (mono / "services" / "broken").mkdir()
    (mono / "services" / "broken" / ".copier-answers.yml").write_text("_commit: v1.0.0\n")
    (mono / "docs").mkdir()
    (mono / "docs" / "index.md").write_text("not a consumer\n")
    git_commit_all(mono, "monorepo")
    return mono


def test_fleet_updates_every_consumer_and_reports_each(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_evobot(capsys, "update", "--fleet", str(monorepo), "--json", "-j", "2")
    assert result.code == 1  # the broken consumer
    report = json.loads(result.stdout)
    by_name = {Path(c["path"]).name: c for c in report["consumers"]}
    assert sorted(by_name) == ["broken", "svc0", "svc1", "svc2", "svc3", "svc4"]
    assert "has no `_src_path`" in by_name["broken"]["error"]
    for n in range(5):
        consumer = by_name[f"svc{n}"]
        assert consumer["status"] == "updated", consumer
        assert consumer["format"] == "copier"
        app = monorepo / "services" / f"svc{n}" / "app.py"
        assert app.read_text() == f"NAME = 'svc{n}'\nVERSION = 2\n"


def test_fleet_of_paths_prints_a_summary_table(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(monorepo / "services" / f"svc{n}") for n in range(3)]
    result = run_evobot(capsys, "update", *paths, "--allow-dirty")
    assert result.code == 0, result
    assert "3 consumer(s) in" in result.stdout
    assert "3 updated" in result.stdout
    again = run_evobot(capsys, "update", *paths, "--allow-dirty")
    assert "3 up to date" in again.stdout
