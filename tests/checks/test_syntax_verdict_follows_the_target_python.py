"""The syntax verdict follows the project's target Python, not the one evobot runs on.

Reproduces a project whose `requires-python` is `>=3.14` using PEP 758's `except A, B:`:
the validator and bandit parsed it with evobot's interpreter and reported a high
`syntax-error`. ruff's parser knows every version's grammar, so ruff gives the verdict per
target; the AST checkers say the file was not analysed (info).
"""

from __future__ import annotations

import sys

import pytest
from real_cases_support import check_tree, of

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
