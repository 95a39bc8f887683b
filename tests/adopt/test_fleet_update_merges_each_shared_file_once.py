"""`evobot update --fleet` over consumers that share work: each distinct render and each distinct
three-way merge is computed once for the whole run, even spread over worker processes; a consumer
with its own edit still gets its own merge; and every consumer ends up exactly as if it had been
updated on its own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from adopt_support import copier_copy, run_evobot, template_repo
from evobot_testing import git_commit_all, git_init

from bot.pipeline.fleet import plan_fleet
from bot.tree import read_tree

BODY = "".join(f"LINE_{n} = {n}\n" for n in range(1, 31))
V1 = {
    "copier.yml": "name:\n  type: str\n  default: svc\n",
    "{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers | to_nice_yaml -}}\n",
    "app.py.jinja": "NAME = '{{ name }}'\n" + BODY,
    "README.md": "# a service\n",
}
V2 = {**V1, "app.py.jinja": "NAME = '{{ name }}'\n" + BODY.replace("LINE_2 = 2", "LINE_2 = 'two'")}
PROVENANCE = ".evobot/provenance.json"  # holds the time of the update, so differs per run


def edit(consumer: Path, line: str) -> None:
    app = consumer / "app.py"
    app.write_text(app.read_text() + line)


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two answer sets (name a, name b), four consumers each; all but a3 make the same edit."""
    template_repo(tmp_path / "tpl", [V1, V2])
    monkeypatch.chdir(tmp_path)
    mono = git_init(tmp_path / "mono")
    for name in ("a", "b"):
        first = mono / "services" / f"{name}0"
        copier_copy("tpl", first, {"name": name}, vcs_ref="v1.0.0")
        for n in range(1, 4):
            shutil.copytree(first, mono / "services" / f"{name}{n}")
        for n in range(4):
            edit(mono / "services" / f"{name}{n}", "OWNER = 'team'\n")
    edit(mono / "services" / "a3", "EXTRA = 'only a3'\n")
    git_commit_all(mono, "monorepo")
    return mono


def test_fleet_computes_each_shared_render_and_merge_once(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_evobot(capsys, "update", "--fleet", str(fleet), "--json", "-j", "2")
    assert result.code == 0, result
    report = json.loads(result.stdout)
    # app.py merged once for the seven consumers with the same edit of a same render
    # (a0-a2 and b0-b3 differ by name: one merge per answer set), and once for a3's own edit.
    assert report["work"]["merges_run"] == 3
    assert report["work"]["merges_reused"] == 5
    assert report["work"]["renders_run"] == 4  # v1 and v2, for each of the two answer sets
    assert report["work"]["renders_reused"] == 12
    by_name = {Path(c["path"]).name: c for c in report["consumers"]}
    assert by_name["a3"]["work"]["merges_run"] == 1
    for name, consumer in by_name.items():
        assert consumer["status"] == "updated", consumer
        app = (fleet / "services" / name / "app.py").read_text()
        assert "LINE_2 = 'two'" in app and "OWNER = 'team'" in app
    assert "EXTRA = 'only a3'" in (fleet / "services" / "a3" / "app.py").read_text()


def test_fleet_result_is_what_each_consumer_gets_alone(
    fleet: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alone = tmp_path / "alone"
    shutil.copytree(fleet, alone)
    for n in ("a0", "a3", "b2"):
        single = run_evobot(capsys, "update", str(alone / "services" / n), "--allow-dirty")
        assert single.code == 0, single
    assert run_evobot(capsys, "update", "--fleet", str(fleet), "-j", "2").code == 0
    for n in ("a0", "a3", "b2"):
        shared = read_tree(fleet / "services" / n)
        single = read_tree(alone / "services" / n)
        shared.pop(PROVENANCE)
        single.pop(PROVENANCE)
        assert shared == single, n


def test_human_summary_says_how_much_was_reused(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_evobot(capsys, "update", "--fleet", str(fleet), "-j", "1")
    assert result.code == 0, result
    assert "8 updated" in result.stdout
    assert "shared work: 4 of 16 render(s) and 3 of 8 merge(s) computed" in result.stdout


def test_plan_keeps_consumers_with_the_same_answers_together(tmp_path: Path) -> None:
    paths = []
    for n in range(40):
        consumer = tmp_path / f"c{n:02}"
        consumer.mkdir()
        # Four answer sets of ten consumers, interleaved in path order.
        (consumer / ".copier-answers.yml").write_text(f"_commit: v1\nname: s{n % 4}\n")
        paths.append(consumer)
    plan = plan_fleet(paths, jobs=2)
    assert plan.first[0] == paths[0]
    everyone = list(plan.first) + [p for unit in plan.units for p in unit]
    assert sorted(everyone) == paths
    for unit in plan.units:
        names = {(p / ".copier-answers.yml").read_text() for p in unit}
        assert len(names) == 1
    # Each answer set is either kept in one unit or has its first consumer run before forking.
    for s in range(4):
        members = [p for p in paths if int(p.name[1:]) % 4 == s]
        units = [u for u in plan.units if set(u) & set(members)]
        assert len(units) == 1 or any(p in plan.first for p in members)
