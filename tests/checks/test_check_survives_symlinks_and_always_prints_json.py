"""A committed symlink that dangles or leaves the repository never stops `evobot check`, and
`--json` always prints a JSON document, also when the check cannot run.

Reproduces the full-stack FastAPI template, which commits `.agents/skills/fastapi` pointing
outside the repository: `evobot check --all` crashed with `cannot read: [Errno 2]` and `--json`
printed nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from evobot_testing import build_file_tree, git_commit_all, git_init
from real_cases_support import evobot

SERVICE = {
    "backend/pyproject.toml": '[project]\nname = "app"\nversion = "0.1.0"\n'
    'requires-python = ">=3.10"\ndependencies = ["fastapi"]\n',
    "backend/app/__init__.py": "",
    "backend/app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
}


def _repo_with_links(tmp_path: Path) -> Path:
    root = build_file_tree(git_init(tmp_path / "repo"), SERVICE)
    outside = build_file_tree(tmp_path / "outside", {"skill/SKILL.md": "# skill\n"})
    (root / ".agents/skills").mkdir(parents=True)
    # dangling in a checkout: it points at a sibling checkout that is not there
    os.symlink("../../../elsewhere/fastapi", root / ".agents/skills/fastapi")
    os.symlink(outside / "skill", root / ".agents/skills/outward-dir")
    os.symlink(outside / "skill/SKILL.md", root / ".agents/skills/outward-file.md")
    os.symlink("app/main.py", root / "backend/main_link.py")  # inside the tree
    git_commit_all(root, "with links")
    return root


def test_dangling_and_outward_symlinks_are_skipped_and_everything_else_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repo_with_links(tmp_path)
    code = evobot(monkeypatch, "check", str(root), "--all", "--json", "--no-cache")
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 0, report
    assert "backend/app/main.py" in report["paths"]
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert set(skipped) == {
        ".agents/skills/fastapi",
        ".agents/skills/outward-dir",
        ".agents/skills/outward-file.md",
        "backend/main_link.py",
    }
    assert "dangling" in skipped[".agents/skills/fastapi"]
    assert "outside the tree" in skipped[".agents/skills/outward-dir"]
    assert "outside the tree" in skipped[".agents/skills/outward-file.md"]
    assert "inside the tree" in skipped["backend/main_link.py"]
    assert not any(p.startswith(".agents/") for p in report["paths"])


def test_symlinks_are_reported_as_info_in_text_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repo_with_links(tmp_path)
    assert evobot(monkeypatch, "check", str(root), "--all", "--no-cache") == 0
    out = capsys.readouterr().out
    assert "info     .agents/skills/fastapi skipped symlink to ../../../elsewhere/fastapi" in out
    assert "policy: passed" in out


def test_json_error_is_a_document_on_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = evobot(monkeypatch, "check", str(tmp_path / "missing"), "--json", "--no-cache")
    captured = capsys.readouterr()
    assert code != 0
    report = json.loads(captured.out)
    assert report["passed"] is False
    assert "missing: not a directory" in report["error"]
    assert "not a directory" in captured.err


def test_json_error_from_a_broken_policy_is_a_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = build_file_tree(
        tmp_path / "svc",
        {
            **SERVICE,
            ".evobot.yml": "template: https://example.invalid/t.git\n"
            "version: {commit: 0123456789abcdef0123456789abcdef01234567}\n"
            "checks:\n  test_code: {rules: {bandit/B101: sometimes}}\n",
        },
    )
    code = evobot(monkeypatch, "check", str(root), "--all", "--json", "--no-cache")
    report = json.loads(capsys.readouterr().out)
    assert code != 0
    assert "checks.test_code.rules.bandit/B101" in report["error"]
