"""A multi-megabyte Python file is not analysed by any checker: an info finding, no crash,
no block, and the run stays fast; tools run in a subprocess stop at their memory ceiling."""

from __future__ import annotations

import time

import pytest

from bot.checks import load_policy, run_checks
from bot.errors import CheckError
from bot.tree import File

CHECKERS = ("validator", "ruff", "bandit", "secrets")


def generated_module(megabytes: float) -> bytes:
    """Plain, valid Python (what a generated table looks like), ``megabytes`` long."""
    line = b"ENTRY_%07d = {'id': %d, 'tags': ['a', 'b', 'c'], 'weight': 0.5}\n"
    out = bytearray()
    i = 0
    while len(out) < megabytes * 1024 * 1024:
        out += line % (i, i)
        i += 1
    return bytes(out)


def test_a_3_mb_module_gets_an_info_finding_from_each_checker() -> None:
    big = generated_module(3)
    tree = {"app/generated.py": File(big), "app/main.py": File(b"print('hi')\n")}
    started = time.perf_counter()
    run = run_checks(tree, changed=None, policy=load_policy(None, None), cache=None)
    elapsed = time.perf_counter() - started

    assert run.verdict.passed, run.verdict.reasons
    on_big = [f for f in run.findings if f.path == "app/generated.py"]
    assert sorted(f.checker for f in on_big) == sorted(CHECKERS)
    for finding in on_big:
        assert finding.rule == "file-too-large"
        assert finding.severity == "info"
        assert finding.message.startswith("not analysed: too large")
        assert "max_file_bytes" in finding.message
    assert all(r.status == "passed" for r in run.per_checker.values() if r.status != "disabled")
    assert elapsed < 10, f"checking a 3 MB file took {elapsed:.1f}s"


def test_the_cap_is_a_policy_option_per_checker() -> None:
    tree = {"small.py": File(generated_module(0.02))}  # about 20 KB
    policy = load_policy(
        {"checkers": {name: {"options": {"max_file_bytes": 10_000}} for name in CHECKERS}}, None
    )
    run = run_checks(tree, changed=None, policy=policy, cache=None)
    assert sorted(f.checker for f in run.findings if f.rule == "file-too-large") == sorted(CHECKERS)
    assert run.verdict.passed


def test_a_bad_cap_is_named_when_the_policy_loads() -> None:
    with pytest.raises(CheckError) as info:
        load_policy({"checkers": {"ruff": {"options": {"max_file_bytes": "1MB"}}}}, None)
    assert info.value.message == (
        ".evobot.yml: checks.checkers.ruff.options.max_file_bytes: Input should be a valid integer"
    )
    assert "max_file_bytes, max_memory_mb" in str(info.value.hint)
    with pytest.raises(CheckError, match=r"options\.max_memory_mb: Input should be greater than 0"):
        load_policy({"checkers": {"validator": {"options": {"max_memory_mb": 0}}}}, None)


def test_a_tool_over_its_memory_ceiling_is_reported_not_crashed() -> None:
    policy = load_policy(
        {
            "checkers": {
                "ruff": {"options": {"max_memory_mb": 16}},
                "validator": {"options": {"types": True, "max_memory_mb": 16}},
            }
        },
        None,
    )
    run = run_checks({"a.py": File(b"x = 1\n")}, changed=None, policy=policy, cache=None)
    assert not run.verdict.passed
    reasons = "\n".join(run.verdict.reasons)
    assert "ruff could not run: ruff check ran out of memory: over its ceiling of 16 MiB" in reasons
    assert "mypy ran out of memory: over its ceiling of 16 MiB" in reasons
