"""The evolution PR body: what it says, how it escapes, and how it shrinks to fit GitHub."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from report_helpers import evolve_with_conflict

from bot.checks.base import Finding, Severity
from bot.checks.policy import Verdict
from bot.checks.runner import CheckerResult, CheckRun
from bot.evolution import Evolution
from bot.report.churn import ChurnReport, compute_churn
from bot.report.pr_body import COMMANDS, GITHUB_BODY_LIMIT, parse_marker, render_pr_body
from bot.tree import File

DIGEST = "ab" * 32


@pytest.fixture(scope="module")
def evolved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Evolution, dict[str, File]]:
    return evolve_with_conflict(tmp_path_factory.mktemp("pr-body"))


def _checks(findings: list[Finding], passed: bool) -> CheckRun:
    reasons = [f"{f.checker} {f.rule} at {f.path}: {f.message}" for f in findings] or ["passed"]
    per_checker = {
        "ruff": CheckerResult("ruff", "0.17.5", "passed", files=3),
        "validator": CheckerResult("validator", "1", "failed" if not passed else "passed", files=3),
    }
    return CheckRun(
        findings=findings,
        verdict=Verdict(passed=passed, reasons=reasons),
        per_checker=per_checker,
        paths=[],
    )


def _tables_are_whole(body: str) -> None:
    """Every Markdown table row has the header's number of cells; <details> are balanced."""
    assert body.count("<details>") == body.count("</details>")
    lines = body.split("\n")
    cells = None
    for line in lines:
        if line.startswith("|"):
            n = len(re.findall(r"(?<!\\)\|", line))
            if cells is None:
                cells = n
            assert n == cells, line
        else:
            cells = None


def test_body_tells_the_whole_story(evolved: tuple[Evolution, dict[str, File]]) -> None:
    evolution, ours = evolved
    assert evolution.conflicts == ("src/billing/app.py",)
    finding = Finding(
        checker="validator", rule="eval", severity=Severity.HIGH, path="a.py", line=2, message="m"
    )
    body = render_pr_body(
        evolution,
        checks=_checks([finding], passed=False),
        churn=compute_churn(ours, evolution.tree),
        provenance_digest=DIGEST,
        repo="acme/billing",
        template_url="https://github.com/acme/tiny-template.git",
    )
    assert parse_marker(body) == ("tiny-service", "v1.1.0")
    assert body.startswith("<!-- evobot:evolution template=tiny-service version=v1.1.0 -->\n")
    old, new = evolution.from_version.commit, evolution.to_version.commit
    assert f"https://github.com/acme/tiny-template/compare/{old}...{new}" in body
    assert f"[v1.1.0](https://github.com/acme/tiny-template/tree/{new})" in body
    assert "- [ ] src/billing/app.py" in body
    assert "| validator | failed | 0 | 1 | 0 | 0 | 0 |" in body
    assert "| ruff | passed |" in body
    assert "| high | validator | eval | a.py:2 | m |" in body
    assert "**checks blocked**" in body
    assert "| docs/usage.md | added | 1 | 0 | 0 |  |" in body
    assert DIGEST in body
    for verb, _ in COMMANDS:
        assert f"`/evobot {verb}`" in body
    assert "shortened" not in body
    _tables_are_whole(body)


def test_body_without_checks_or_github_links(evolved: tuple[Evolution, dict[str, File]]) -> None:
    evolution, ours = evolved
    body = render_pr_body(
        evolution,
        checks=None,
        churn=compute_churn(ours, evolution.tree),
        provenance_digest=DIGEST,
        template_url="https://gitlab.example.com/acme/tiny-template",
    )
    assert "Checks were not run" in body
    assert "/compare/" not in body
    _tables_are_whole(body)


def _huge_churn(n: int) -> ChurnReport:
    old = {f"services/module_{i:05d}/{'deep/' * 10}file_{i}.py": File(b"x = 1\n") for i in range(n)}
    new = {p: File(b"x = 2\ny = 3\n") for p in old}
    return compute_churn(old, new)


def test_an_oversized_body_is_shortened_whole_and_says_so(
    evolved: tuple[Evolution, dict[str, File]],
) -> None:
    evolution, _ = evolved
    conflicts = tuple(f"pkg/conflicted_{i:05d}.py" for i in range(3000))
    evolution = dataclasses.replace(evolution, conflicts=conflicts)
    findings = [
        Finding(
            checker="secrets",
            rule=f"rule-{i}",
            severity=Severity.CRITICAL if i % 7 == 0 else Severity.LOW,
            path=f"src/f{i}.py",
            line=i,
            message="x" * 500,
        )
        for i in range(2000)
    ]
    churn = _huge_churn(4000)
    body = render_pr_body(
        evolution,
        checks=_checks(findings, passed=False),
        churn=churn,
        provenance_digest=DIGEST,
    )
    assert len(body.encode()) < GITHUB_BODY_LIMIT
    assert "This description was shortened to fit GitHub's 65,536-character limit" in body
    assert "of 2,000 findings are shown" in body
    assert parse_marker(body) == ("tiny-service", "v1.1.0")
    _tables_are_whole(body)
    # the most severe findings survive the cut
    shown = re.findall(r"^\| (critical|low) \| secrets", body, flags=re.M)
    assert shown and set(shown) == {"critical"}
    # a shortened checklist says how many more there are
    assert "more (see `evobot report`)" in body


def test_a_long_churn_table_is_collapsed_then_cut_to_the_largest_files(
    evolved: tuple[Evolution, dict[str, File]],
) -> None:
    evolution, _ = evolved
    small = render_pr_body(evolution, checks=None, churn=_huge_churn(25), provenance_digest=DIGEST)
    assert "<details>\n<summary>25 files</summary>" in small
    assert "shortened" not in small

    churn = _huge_churn(1500)
    body = render_pr_body(evolution, checks=None, churn=churn, provenance_digest=DIGEST)
    assert len(body.encode()) < GITHUB_BODY_LIMIT
    assert "files with the most changed lines out of 1,500" in body
    assert "**1,500** files changed" in body  # totals stay exact
    _tables_are_whole(body)


def test_a_tiny_limit_still_keeps_the_marker(evolved: tuple[Evolution, dict[str, File]]) -> None:
    evolution, ours = evolved
    churn = compute_churn(ours, evolution.tree)
    body = render_pr_body(evolution, checks=None, churn=churn, provenance_digest=DIGEST, limit=2000)
    assert len(body.encode()) < 2000
    assert "churn table (" in body or "shortened" in body
    assert parse_marker(body) is not None


def test_malicious_paths_and_messages_are_inert(
    evolved: tuple[Evolution, dict[str, File]], tmp_path: Path
) -> None:
    evolution, _ = evolved
    evil = "<img src=x onerror=alert(1)>|`x`_[y](javascript:z).py"
    evolution = dataclasses.replace(evolution, conflicts=(evil,))
    churn = compute_churn({}, {evil: File(b"a\n")})
    finding = Finding(
        checker="validator",
        rule="x",
        severity=Severity.HIGH,
        path=evil,
        message=(
            "<script>alert(1)</script>\n| injected | row |\n<!-- evobot:evolution --> @acme/admins"
        ),
    )
    body = render_pr_body(
        evolution,
        checks=_checks([finding], passed=False),
        churn=churn,
        provenance_digest=DIGEST,
    )
    assert "<img" not in body and "<script" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert body.count("<!--") == 1  # only our own marker
    assert not re.search(r"(?<!\\)\]\(javascript:", body)  # `[y]` is escaped: no link
    assert "- [ ] &lt;img src=x onerror=alert(1)&gt;\\|\\`x\\`\\_\\[y\\](javascript:z).py" in body
    assert "@acme/admins" not in body and "@&#8203;acme/admins" in body
    _tables_are_whole(body)


def test_credentials_in_the_template_url_never_reach_the_body(
    evolved: tuple[Evolution, dict[str, File]],
) -> None:
    evolution, ours = evolved
    secret_source = "https://x-access-token:ghs_SECRETSECRET@github.com/acme/tiny-template.git"
    evolution = dataclasses.replace(
        evolution, template=dataclasses.replace(evolution.template, source=secret_source)
    )
    body = render_pr_body(
        evolution,
        checks=None,
        churn=compute_churn(ours, evolution.tree),
        provenance_digest=DIGEST,
    )
    assert "SECRET" not in body and "x-access-token" not in body
    assert "https://github.com/acme/tiny-template/compare/" in body
