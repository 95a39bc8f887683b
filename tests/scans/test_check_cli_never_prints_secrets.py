"""`evobot check` over a tree full of planted credentials: it blocks, and neither its table
nor its JSON carries any part of a secret value."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from evobot_cli_support import invoke_evobot
from evobot_testing import build_file_tree
from scans_support import Corpus, build_corpus

ONLY_SCANS = (
    "template: https://example.invalid/templates.git\n"
    "version: {commit: 0123456789abcdef0123456789abcdef01234567}\n"
    "checks:\n  checkers: {validator: false, ruff: false, bandit: false}\n"
)


def evobot(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run ``evobot ARGS``; what it printed is printed again, for capsys."""
    run = invoke_evobot(*args)
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    return run.exit_code


def leaked(corpus: Corpus, output: str) -> list[str]:
    """Planted values any 12-character window of which appears in ``output``."""
    return [
        value
        for value in corpus.values
        if any(value[i : i + 12] in output for i in range(0, len(value) - 11, 4))
    ]


@pytest.mark.parametrize("json_output", [True, False])
def test_check_output_carries_no_secret_value(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    json_output: bool,
) -> None:
    corpus = build_corpus(seed=11)
    files = {p: f.data for p, f in corpus.tree.items()}
    root = build_file_tree(tmp_path / "svc", {**files, ".evobot.yml": ONLY_SCANS})
    args = ["check", str(root), "--no-cache", "--all"] + (["--json"] if json_output else [])
    assert evobot(monkeypatch, *args) == 1
    captured = capsys.readouterr()
    if json_output:
        report = json.loads(captured.out)
        secrets = [f for f in report["findings"] if f["checker"] == "secrets"]
        assert {f["path"] for f in secrets} >= set(corpus.planted)
    assert leaked(corpus, captured.out + captured.err) == []


def test_bandit_findings_carry_no_secret_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = build_corpus(seed=11)
    root = build_file_tree(tmp_path / "svc", {p: f.data for p, f in corpus.tree.items()})
    evobot(monkeypatch, "check", str(root), "--no-cache", "--all", "--json")
    assert leaked(corpus, capsys.readouterr().out) == []
