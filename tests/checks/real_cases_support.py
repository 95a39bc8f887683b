"""Helpers for the tests built from real projects' shapes: run `evobot check`, check a tree."""

from __future__ import annotations

import sys

import pytest
from checks_support import make_tree
from evobot_cli_support import invoke_evobot

from bot.checks import Finding, load_policy, run_checks


def evobot(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run the `evobot` CLI in process; its exit code. What it printed goes to this process's
    stdout and stderr, for ``capsys``."""
    run = invoke_evobot(*args)
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    return run.exit_code


def check_tree(
    spec: dict[str, str], checks: dict[str, object] | None = None
) -> tuple[list[Finding], list[Finding]]:
    """Check every file of ``spec`` with the default policy (or ``checks``, as `.evobot.yml`
    would give it): (all findings, blocking findings)."""
    run = run_checks(make_tree(spec), changed=None, policy=load_policy(checks, None), cache=None)
    return run.findings, run.verdict.blocking


def of(findings: list[Finding], checker: str, rule: str | None = None) -> list[Finding]:
    return [f for f in findings if f.checker == checker and (rule is None or f.rule == rule)]
