"""`evobot check`: exit 1 when the policy blocks, JSON for machines, changed files from git."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from checks_support import CLEAN_SERVICE
from evobot_cli_support import invoke_evobot
from evobot_testing import build_file_tree, git_commit_all, git_init

CONSUMER_CONFIG = (
    "template: https://example.invalid/templates.git\n"
    "version: {commit: 0123456789abcdef0123456789abcdef01234567}\n"
)


def evobot(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run ``evobot ARGS``; what it printed is printed again, for capsys."""
    run = invoke_evobot(*args)
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    return run.exit_code


def test_clean_tree_exits_0_and_planted_eval_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = build_file_tree(tmp_path / "svc", CLEAN_SERVICE)
    cache = tmp_path / "cache.sqlite"
    assert evobot(monkeypatch, "check", str(root), "--cache", str(cache)) == 0
    assert "passed" in capsys.readouterr().out
    (root / "src/orders/bad.py").write_text("def f(x: str) -> object:\n    return eval(x)\n")
    assert evobot(monkeypatch, "check", str(root), "--cache", str(cache)) == 1
    out = capsys.readouterr().out
    assert "blocked" in out and "eval" in out


def test_json_output_and_policy_from_evobot_yml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = {**CLEAN_SERVICE, "src/orders/bad.py": "def f(x: str) -> object:\n    return eval(x)\n"}
    root = build_file_tree(tmp_path / "svc", spec)
    assert evobot(monkeypatch, "check", str(root), "--json", "--no-cache") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is False
    assert report["scope"] == "not a git checkout: every file"
    assert {"validator", "ruff", "bandit"} <= set(report["checkers"])
    assert [(f["checker"], f["rule"]) for f in report["blocking"]] == [("validator", "eval")]

    (root / ".evobot.yml").write_text(
        CONSUMER_CONFIG
        + "checks:\n  ignore:\n"
        + "    - {checker: validator, rule: eval, path: src/orders/bad.py, reason: sandboxed}\n"
        + "    - {checker: bandit, rule: B307, reason: same call}\n"
    )
    assert evobot(monkeypatch, "check", str(root), "--json", "--no-cache") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is True
    assert sorted(i["reason"] for i in report["ignored"]) == ["same call", "sandboxed"]


def test_invalid_policy_is_an_error_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = build_file_tree(tmp_path / "svc", CLEAN_SERVICE)
    (root / ".evobot.yml").write_text(CONSUMER_CONFIG + "checks:\n  block_on: loud\n")
    assert evobot(monkeypatch, "check", str(root), "--no-cache") == 1
    assert "block_on" in capsys.readouterr().err


def test_git_checkout_checks_files_changed_since_before_last_evolution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = git_init(tmp_path / "svc")
    # An undefined name: ruff judges it high, and ruff reads nothing but the file itself.
    legacy = "def f():\n    return undefined_name\n"
    build_file_tree(root, {**CLEAN_SERVICE, "legacy.py": legacy})
    git_commit_all(root, "initial render")
    build_file_tree(root, {".evobot.yml": CONSUMER_CONFIG, "src/orders/new.py": "X = 1\n"})
    git_commit_all(root, "evolution to v2")
    build_file_tree(root, {"scratch.py": "Y = 2\n"})
    assert evobot(monkeypatch, "check", str(root), "--json", "--no-cache") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["paths"] == [".evobot.yml", "scratch.py", "src/orders/new.py"]
    # The validator's imports read which modules exist, so it re-judges the other modules.
    assert "legacy.py" in report["dependents"]
    assert report["checkers"]["ruff"]["files"] == 2
    assert report["scope"].startswith("changed since before the last evolution commit")
    assert evobot(monkeypatch, "check", str(root), "--all", "--json", "--no-cache") == 1
    report = json.loads(capsys.readouterr().out)
    assert "legacy.py" in report["paths"]


def test_virtualenvs_ignored_files_and_outside_symlinks_are_not_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = git_init(tmp_path / "svc")
    bad = "def f(x):\n    return eval(x)\n"
    build_file_tree(
        root,
        {
            **CLEAN_SERVICE,
            ".gitignore": "build/\n",
            "build/gen.py": bad,
            "env-copy/pyvenv.cfg": "home = /usr/bin\n",
            "env-copy/lib/site.py": bad,
        },
    )
    (root / "outside.py").symlink_to(tmp_path / "elsewhere.py")
    (tmp_path / "elsewhere.py").write_text(bad)
    assert evobot(monkeypatch, "check", str(root), "--all", "--json", "--no-cache") == 0
    paths = json.loads(capsys.readouterr().out)["paths"]
    assert "src/orders/main.py" in paths
    assert not [p for p in paths if p.startswith(("build/", "env-copy/")) or p == "outside.py"]


def test_policy_edits_to_evobot_yml_are_not_an_evolution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = git_init(tmp_path / "svc")
    build_file_tree(root, {**CLEAN_SERVICE, ".evobot.yml": CONSUMER_CONFIG})
    git_commit_all(root, "initial render")
    newer = CONSUMER_CONFIG.replace("0123456789abcdef", "fedcba9876543210", 1)
    build_file_tree(root, {".evobot.yml": newer, "src/orders/new.py": "X = 1\n"})
    git_commit_all(root, "evolution to v2")
    build_file_tree(root, {".evobot.yml": newer + "checks:\n  block_on: critical\n"})
    build_file_tree(root, {"src/orders/later.py": "Y = 2\n"})
    git_commit_all(root, "tune the check policy")
    assert evobot(monkeypatch, "check", str(root), "--json", "--no-cache") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["paths"] == [".evobot.yml", "src/orders/later.py", "src/orders/new.py"]
