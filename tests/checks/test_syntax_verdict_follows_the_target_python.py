"""The syntax verdict follows the project's target Python, not the one evobot runs on.

Reproduces a project whose `requires-python` is `>=3.14` using PEP 758's `except A, B:`:
the validator and bandit parsed it with evobot's interpreter and reported a high
`syntax-error`. ruff's parser knows every version's grammar, so ruff gives the verdict per
target; the AST checkers say the file was not analysed (info).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from checks_support import make_tree
from real_cases_support import check_tree, of

from bot.checks import CheckCache, load_policy, run_checks

pytestmark = pytest.mark.skipif(
    sys.version_info >= (3, 14), reason="the host parses PEP 758 itself"
)

PEP_758 = """\
def parse(text: str) -> int:
    try:
        return int(text)
    except ValueError, TypeError:
        return 0
"""


def _project(requires_python: str, where: str = "") -> dict[str, str]:
    return {
        f"{where}pyproject.toml": f'[project]\nname = "p"\nversion = "1"\n'
        f'requires-python = "{requires_python}"\n',
        f"{where}p/__init__.py": "",
        f"{where}p/parse.py": PEP_758,
    }


def test_pep_758_is_valid_for_a_314_project_and_not_analysed_by_ast_checkers() -> None:
    findings, blocking = check_tree(_project(">=3.14"))
    assert blocking == []
    assert of(findings, "ruff", "syntax-error") == []
    for checker in ("validator", "bandit"):
        [finding] = of(findings, checker)
        assert finding.rule == "not-analysed" and finding.severity == "info"
        assert "needs Python >= 3.14" in finding.message


def test_ruff_target_version_counts_like_requires_python() -> None:
    spec = {
        "ruff.toml": 'target-version = "py314"\n',
        "p/__init__.py": "",
        "p/parse.py": PEP_758,
    }
    findings, blocking = check_tree(spec)
    assert blocking == []
    assert [f.rule for f in of(findings, "validator")] == ["not-analysed"]


def test_the_same_code_is_a_syntax_error_for_an_older_target() -> None:
    findings, blocking = check_tree(_project(">=3.11"))
    [ruff_error] = of(findings, "ruff", "syntax-error")
    assert ruff_error.severity == "high" and "3.14" in ruff_error.message
    assert [f.rule for f in of(findings, "validator")] == ["syntax-error"]
    assert ruff_error in blocking


def test_each_subproject_is_judged_by_its_own_target() -> None:
    spec = {**_project(">=3.14", "new/"), **_project(">=3.10", "old/")}
    findings, _ = check_tree(spec)
    assert [f.path for f in of(findings, "ruff", "syntax-error")] == ["old/p/parse.py"]


def test_raising_requires_python_rejudges_the_syntax_through_the_cache(tmp_path: Path) -> None:
    """Only `pyproject.toml` changed: ruff and bandit re-judge the file whose target moved,
    and the cache never serves the verdict made for the old target."""
    old, new = make_tree(_project(">=3.11")), make_tree(_project(">=3.14"))
    policy = load_policy(None, None)
    with CheckCache(tmp_path / "cache.sqlite") as cache:
        before = run_checks(old, changed=None, policy=policy, cache=cache)
        assert of(before.findings, "ruff", "syntax-error")
        after = run_checks(new, changed=["pyproject.toml"], policy=policy, cache=cache, base=old)
        assert "p/parse.py" in after.dependents
        # ruff and bandit judged both modules again, for the new target
        assert after.per_checker["ruff"].files == 2
        assert after.per_checker["bandit"].files == 2
        assert [f.rule for f in of(after.findings, "bandit")] == ["not-analysed"]
        assert of(after.findings, "ruff", "syntax-error") == []
        assert after.verdict.passed
        cold = run_checks(new, changed=None, policy=policy, cache=None)
        warm = run_checks(new, changed=None, policy=policy, cache=cache)
        assert warm.findings == cold.findings
