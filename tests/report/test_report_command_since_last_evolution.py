"""`evobot report` shows the churn since the last evolution and compares it with the one before."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from report_helpers import (
    REPO_ROOT,
    build_file_tree,
    fixed_clock,
    git,
    git_commit_all,
    git_init,
    make_template_repo,
    render_consumer,
)

from bot.consumer import load_consumer_config
from bot.evolution import evolve_consumer
from bot.report.provenance import PROVENANCE_PATH, provenance_file, provenance_for_evolution
from bot.report.summary import build_consumer_report
from bot.tree import read_tree, write_tree


def _evobot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )


def _consumer_with_history(tmp_path: Path) -> tuple[Path, str]:
    template, _ = make_template_repo(tmp_path / "template")
    dest = git_init(tmp_path / "consumer")
    render_consumer(template, dest, {"service_name": "billing"})
    git_commit_all(dest, "generated from tiny-service v1.0.0")
    build_file_tree(dest, {"src/billing/own.py": "OWN = 1\n"})
    git_commit_all(dest, "our own module")
    build_file_tree(
        template,
        {
            "files/README.md.jinja": "# {{ service_name }}\n\nGenerated.\nSee docs.\n",
            "files/docs/usage.md": "one\ntwo\n",
        },
    )
    git_commit_all(template, "v1.1", tag="v1.1.0")
    ours = read_tree(dest)
    evolution = evolve_consumer(ours, load_consumer_config(dest))
    statement = provenance_for_evolution(evolution, clock=fixed_clock)
    tree = dict(evolution.tree)
    tree[PROVENANCE_PATH] = provenance_file(statement, ours.get(PROVENANCE_PATH))
    write_tree(dest, tree, delete=evolution.deleted)
    evolution_commit = git_commit_all(dest, "evobot: tiny-service v1.1.0")
    # after the evolution, an uncommitted local edit and an ignored file
    build_file_tree(dest, {"src/billing/own.py": "OWN = 2\n", ".gitignore": "*.log\n"})
    build_file_tree(dest, {"debug.log": "noise\n"})
    return dest, evolution_commit


def test_report_defaults_to_the_last_evolution(tmp_path: Path) -> None:
    dest, evolution_commit = _consumer_with_history(tmp_path)
    report = build_consumer_report(dest)
    assert report.since == git(dest, "rev-parse", f"{evolution_commit}^")
    changed = {f.path: f for f in report.churn.files}
    assert set(changed) == {
        ".evobot.yml",
        "README.md",
        "docs/usage.md",
        "src/billing/own.py",
        ".gitignore",
    }
    assert (changed["README.md"].added, changed["README.md"].changed) == (1, 0)
    assert changed["docs/usage.md"].added == 2
    assert changed["src/billing/own.py"].changed == 1
    assert "debug.log" not in changed  # ignored by git, so not churn
    # compared with the previous evolution (the first render: every file added)
    relative = report.churn.relative
    assert relative is not None
    assert relative.previous.files_added == 5  # 4 rendered files + .evobot.yml
    assert relative.new_paths == [".gitignore", "docs/usage.md", "src/billing/own.py"]
    assert report.provenance is not None
    assert report.provenance.error is None
    assert report.provenance.subjects == 5


def test_since_ref_compares_with_the_last_evolution_at_or_before_it(tmp_path: Path) -> None:
    dest, evolution_commit = _consumer_with_history(tmp_path)
    default = build_consumer_report(dest)
    assert default.since is not None
    explicit = build_consumer_report(dest, since=default.since)
    assert explicit.churn == default.churn  # the default's base, spelled out: the same report
    # Since the evolution itself: the local edits, compared with that evolution's own churn.
    after = build_consumer_report(dest, since=evolution_commit)
    relative = after.churn.relative
    assert relative is not None
    assert relative.previous.files_modified == 2  # .evobot.yml and README.md
    assert relative.previous.files_added == 1  # docs/usage.md
    assert relative.new_paths == [".gitignore", "src/billing/own.py"]


def test_since_a_ref_before_any_evolution_has_nothing_to_compare_with(tmp_path: Path) -> None:
    template, _ = make_template_repo(tmp_path / "template")
    dest = git_init(tmp_path / "consumer")
    build_file_tree(dest, {"NOTES.md": "before evobot\n"})
    first = git_commit_all(dest, "a repository older than its template")
    render_consumer(template, dest, {"service_name": "billing"})
    git_commit_all(dest, "generated from tiny-service v1.0.0")
    report = build_consumer_report(dest, since=first)
    assert report.churn.relative is None
    assert report.churn.totals.files_added == 5


def test_report_command_json_and_markdown(tmp_path: Path) -> None:
    dest, evolution_commit = _consumer_with_history(tmp_path)
    out = _evobot("report", str(dest), "--format", "json", "--since", evolution_commit)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["since"] == evolution_commit
    assert [f["path"] for f in data["churn"]["files"]] == [".gitignore", "src/billing/own.py"]
    assert data["churn"]["totals"]["lines_changed"] == 1
    assert data["churn"]["relative"]["previous"]["files_added"] == 1

    md = _evobot("report", str(dest))
    assert md.returncode == 0, md.stderr
    assert "| docs/usage.md | added | 2 | 0 | 0 |  |" in md.stdout
    assert "Compared with the previous evolution" in md.stdout
    assert "## Provenance" in md.stdout

    bad = _evobot("report", str(dest), "--since", "no-such-ref")
    assert bad.returncode == 1
    assert "no-such-ref" in bad.stderr and "Traceback" not in bad.stderr
