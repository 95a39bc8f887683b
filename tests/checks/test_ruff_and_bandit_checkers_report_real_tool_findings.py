"""ruff and bandit run for real over a temporary tree; consumer configs are respected."""

from __future__ import annotations

from checks_support import CLEAN_SERVICE, make_tree

from bot.checks.bandit import SEVERITY_MAP, BanditChecker
from bot.checks.base import CheckContext, Checker, Finding, Severity
from bot.checks.ruff import DEFAULT_SELECT, RuffChecker
from bot.tree import Tree

UNFORMATTED = "import os\nx=1\n"
SHELL = "import subprocess\n\n\ndef run(cmd: str) -> None:\n    subprocess.Popen(cmd, shell=True)\n"


def check(checker: Checker, tree: Tree, *paths: str) -> list[Finding]:
    targets = list(paths) or [p for p in sorted(tree) if checker.applies_to(p)]
    results = checker.check_files(targets, CheckContext(tree=tree, paths=targets))
    return [f for p in targets for f in results[p]]


def test_ruff_reports_lint_and_format_without_consumer_config() -> None:
    tree = make_tree({"pkg/mod.py": UNFORMATTED, "pkg/ok.py": "X = 1\n"})
    found = check(RuffChecker(), tree)
    assert sorted((f.path, f.rule, f.line) for f in found) == [
        ("pkg/mod.py", "F401", 1),
        ("pkg/mod.py", "format", 2),
    ]
    assert {f.severity for f in found} == {Severity.LOW}
    assert "0.17.5" in RuffChecker.version
    assert ",".join(DEFAULT_SELECT) in RuffChecker.version


def test_ruff_syntax_error_is_high() -> None:
    found = check(RuffChecker(), make_tree({"bad.py": "def f(:\n"}))
    # ruff reports each parse error it recovers from (here at lines 1 and 2); all are high.
    assert {(f.rule, f.severity) for f in found} == {("syntax-error", Severity.HIGH)}
    assert min(f.line or 0 for f in found) == 1


def test_ruff_respects_consumer_config() -> None:
    source = "import os\n\nVALUE = 'a long line that goes on and on and on'\n"
    default = check(RuffChecker(), make_tree({"mod.py": source}))
    assert {f.rule for f in default} == {"F401", "format"}
    pyproject = '[tool.ruff]\nline-length = 20\n[tool.ruff.lint]\nselect = ["E501"]\n'
    own = check(RuffChecker(), make_tree({"mod.py": source, "pyproject.toml": pyproject}))
    assert sorted(f.rule for f in own) == ["E501", "format"]
    ruff_toml = 'line-length = 120\n[lint]\nselect = ["E501"]\n'
    relaxed = check(RuffChecker(), make_tree({"mod.py": source, "ruff.toml": ruff_toml}))
    assert [f.rule for f in relaxed] == ["format"]


def test_ruff_clean_service_is_clean() -> None:
    assert check(RuffChecker(), make_tree(CLEAN_SERVICE)) == []


def test_bandit_b602_is_high_and_clean_code_passes() -> None:
    tree = make_tree(
        {"app/run.py": SHELL, "app/ok.py": "def add(a: int, b: int) -> int:\n    return a + b\n"}
    )
    found = check(BanditChecker(), tree)
    b602 = [f for f in found if f.rule == "B602"]
    assert [(f.path, f.line, f.severity) for f in b602] == [("app/run.py", 5, Severity.HIGH)]
    assert not [f for f in found if f.path == "app/ok.py"]
    assert "bandit" in BanditChecker.version


def test_bandit_severity_table_folds_confidence() -> None:
    assert SEVERITY_MAP[("HIGH", "HIGH")] is Severity.HIGH
    assert SEVERITY_MAP[("HIGH", "LOW")] is Severity.MEDIUM
    assert SEVERITY_MAP[("LOW", "HIGH")] is Severity.LOW
    assert SEVERITY_MAP[("LOW", "LOW")] is Severity.INFO
    assert len(SEVERITY_MAP) == 9


def test_bandit_respects_pyproject_and_ini_config() -> None:
    skip = '[tool.bandit]\nskips = ["B602", "B404"]\n'
    tree = make_tree({"app/run.py": SHELL, "pyproject.toml": skip})
    assert [f.rule for f in check(BanditChecker(), tree)] == []
    excluded = '[tool.bandit]\nexclude_dirs = ["legacy"]\n'
    tree = make_tree({"legacy/run.py": SHELL, "app/run.py": SHELL, "pyproject.toml": excluded})
    assert {f.path for f in check(BanditChecker(), tree)} == {"app/run.py"}
    ini = make_tree({"app/run.py": SHELL, ".bandit": "[bandit]\nskips = B602,B404\n"})
    assert [f.rule for f in check(BanditChecker(), ini)] == []


def test_broken_tool_config_is_an_error_not_a_pass() -> None:
    from bot.checks import load_policy, run_checks

    tree = make_tree({"mod.py": "X = 1\n", "ruff.toml": "[lint]\nline-length = 20\n"})
    policy = load_policy(None, None, known_checkers=("validator", "ruff", "bandit"))
    run = run_checks(tree, changed=None, policy=policy, cache=None)
    assert run.per_checker["ruff"].status == "error"
    assert not run.verdict.passed
    assert any(r.startswith("ruff could not run: ruff check failed") for r in run.verdict.reasons)
