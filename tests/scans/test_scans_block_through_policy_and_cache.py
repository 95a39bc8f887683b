"""Secrets and licenses inside the real runner: the policy blocks on them, and the shared cache
(which stores findings without their path) gives the same answer warm as cold, path by path."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

from bot.checks.cache import CheckCache
from bot.checks.licenses import LicenseChecker
from bot.checks.policy import load_policy
from bot.checks.runner import run_checks
from bot.checks.secrets import SecretsChecker
from bot.tree import File

AGPL_HEADER = "GNU AFFERO GENERAL PUBLIC LICENSE\nVersion 3, 19 November 2007\n"


def _tree() -> dict[str, File]:
    rnd = random.Random(3)
    password = "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(20))
    settings = f'DB_PASSWORD = "{password}"\n'.encode()
    return {
        "app/settings.py": File(settings),
        "tests/settings.py": File(settings),  # the same content, judged as a test fixture
        "LICENSE": File(AGPL_HEADER.encode()),
        "docs/agpl.txt": File(AGPL_HEADER.encode()),  # same text, not a license file
        "src/main.py": File(b"print('hello')\n"),
    }


def _run(tree: dict[str, File], cache: CheckCache) -> list[tuple[str, str, str, str]]:
    policy = load_policy({"block_on": "medium"}, None)
    run = run_checks(
        tree,
        changed=None,
        policy=policy,
        cache=cache,
        checkers=[SecretsChecker(), LicenseChecker()],
    )
    assert run.passed is (not run.verdict.blocking)
    return [(f.checker, f.path, f.rule, f.severity.value) for f in run.findings]


def test_cold_and_warm_runs_agree_and_keep_path_dependent_verdicts(tmp_path: Path) -> None:
    tree = _tree()
    with CheckCache(tmp_path / "cache.sqlite") as cache:
        cold = _run(tree, cache)
        warm = _run(tree, cache)
    assert cold == warm
    assert sorted(cold) == [
        ("licenses", "LICENSE", "license-denied", "high"),
        ("secrets", "app/settings.py", "generic-secret-assignment", "medium"),
        ("secrets", "tests/settings.py", "generic-secret-assignment", "low"),
    ]


def test_policy_blocks_and_a_baseline_change_reaches_the_cache(tmp_path: Path) -> None:
    tree = _tree()
    policy = load_policy({"block_on": "medium"}, None)
    with CheckCache(tmp_path / "cache.sqlite") as cache:
        run = run_checks(
            tree, changed=None, policy=policy, cache=cache, checkers=[SecretsChecker()]
        )
        assert not run.passed
        assert any("app/settings.py" in reason for reason in run.verdict.reasons)
        fp = run.findings[0].message.split("fingerprint ")[1][:12]
        baseline = {"accepted": [{"fingerprint": fp, "reason": "local dev database only"}]}
        tree[".evobot/secrets-baseline.json"] = File(json.dumps(baseline).encode())
        again = run_checks(
            tree, changed=None, policy=policy, cache=cache, checkers=[SecretsChecker()]
        )
    assert again.passed
    assert again.findings == []
