"""The policy says pass or fail and why: thresholds, per-checker switches, ignores with reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.checks.base import Finding, Severity
from bot.checks.policy import load_policy
from bot.errors import CheckError

KNOWN = ("validator", "ruff", "bandit", "secrets", "licenses")


def finding(checker: str, rule: str, severity: str, path: str = "src/app/main.py") -> Finding:
    return Finding(
        checker=checker, rule=rule, severity=Severity(severity), path=path, line=3, message="m"
    )


def test_default_blocks_on_high_and_says_which_finding() -> None:
    policy = load_policy(None, None, known_checkers=KNOWN)
    verdict = policy.evaluate(
        [finding("ruff", "F401", "low"), finding("validator", "eval", "high")]
    )
    assert not verdict.passed
    assert [f.rule for f in verdict.blocking] == ["eval"]
    assert any("validator eval (high) at src/app/main.py:3" in r for r in verdict.reasons)
    assert policy.evaluate([finding("ruff", "F401", "medium")]).passed


def test_thresholds_global_and_per_checker() -> None:
    policy = load_policy(
        {"block_on": "medium", "checkers": {"ruff": {"block_on": "critical"}}},
        None,
        known_checkers=KNOWN,
    )
    assert policy.evaluate([finding("ruff", "E9", "high")]).passed
    assert not policy.evaluate([finding("bandit", "B101", "medium")]).passed


def test_ignores_need_a_reason_and_are_reported() -> None:
    policy = load_policy(
        {
            "ignore": [
                {
                    "checker": "validator",
                    "rule": "eval",
                    "path": "tools/**",
                    "reason": "the REPL tool evaluates on purpose",
                }
            ]
        },
        None,
        known_checkers=KNOWN,
    )
    ignored = finding("validator", "eval", "high", path="tools/repl/run.py")
    kept = finding("validator", "eval", "high", path="src/app/main.py")
    verdict = policy.evaluate([ignored])
    assert verdict.passed
    assert verdict.ignored == [(ignored, "the REPL tool evaluates on purpose")]
    assert any("ignored validator eval at tools/repl/run.py" in r for r in verdict.reasons)
    assert not policy.evaluate([ignored, kept]).passed

    with pytest.raises(CheckError, match=r"ignore\.0\.reason"):
        load_policy({"ignore": [{"checker": "ruff", "rule": "E501"}]}, None, known_checkers=KNOWN)
    with pytest.raises(CheckError, match="reason"):
        load_policy(
            {"ignore": [{"checker": "ruff", "rule": "E501", "reason": "  "}]},
            None,
            known_checkers=KNOWN,
        )


def test_unknown_keys_and_checkers_are_named() -> None:
    with pytest.raises(CheckError, match="block_onn"):
        load_policy({"block_onn": "high"}, None, known_checkers=KNOWN)
    with pytest.raises(CheckError, match=r"checkers\.rufff: no such checker"):
        load_policy({"checkers": {"rufff": False}}, None, known_checkers=KNOWN)
    with pytest.raises(CheckError, match=r"checkers\.ruff\.enable"):
        load_policy({"checkers": {"ruff": {"enable": False}}}, None, known_checkers=KNOWN)
    with pytest.raises(CheckError, match="block_on"):
        load_policy({"block_on": "severe"}, None, known_checkers=KNOWN)


def test_org_default_merges_under_consumer(tmp_path: Path) -> None:
    org = tmp_path / "org-policy.yml"
    org.write_text(
        "checks:\n"
        "  block_on: medium\n"
        "  checkers:\n"
        "    bandit: false\n"
        "    licenses: {options: {deny: [GPL-3.0-only]}}\n"
        "  ignore:\n"
        "    - {checker: ruff, rule: 'E*', reason: org-wide style exception}\n"
    )
    policy = load_policy(
        {"checkers": {"bandit": {"block_on": "high"}, "licenses": {"options": {"allow": ["MIT"]}}}},
        org,
        known_checkers=KNOWN,
    )
    assert policy.block_on is Severity.MEDIUM
    assert not policy.enabled("bandit")  # the org switched it off; the consumer only tuned it
    assert policy.threshold("bandit") is Severity.HIGH
    assert policy.for_checker("licenses").options == {"deny": ["GPL-3.0-only"], "allow": ["MIT"]}
    assert policy.evaluate([finding("ruff", "E501", "critical")]).passed

    broken = tmp_path / "broken.yml"
    broken.write_text("block_on: [\n")
    with pytest.raises(CheckError, match=r"broken\.yml"):
        load_policy(None, broken, known_checkers=KNOWN)


def test_checker_errors_block() -> None:
    policy = load_policy(None, None, known_checkers=KNOWN)
    verdict = policy.evaluate([], errors={"ruff": "ruff check failed (exit 2)"})
    assert not verdict.passed
    assert verdict.reasons == ["ruff could not run: ruff check failed (exit 2)"]
