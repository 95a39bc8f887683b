"""`--types` adds one mypy run over a temporary copy of the tree; its errors become findings."""

from __future__ import annotations

from pathlib import Path

from checks_support import make_tree

from bot.checks import load_policy, run_checks

TREE = {
    "pyproject.toml": '[project]\nname = "pkg"\nrequires-python = ">=3.11"\n',
    "src/pkg/__init__.py": "",
    "src/pkg/a.py": "def f(x: int) -> str:\n    return str(x)\n",
    "src/pkg/b.py": "from pkg.a import f\n\nY: int = f(1)\n",
    "src/pkg/broken.py": "def g(:\n",
}


def test_types_flag_reports_mypy_errors_across_modules() -> None:
    tree = make_tree(TREE)
    policy = load_policy(None, None, known_checkers=("validator",))
    plain = run_checks(tree, changed=None, policy=policy, cache=None)
    assert not [f for f in plain.findings if f.rule.startswith("mypy-")]
    typed = run_checks(tree, changed=None, policy=policy, cache=None, types=True)
    mypy = [(f.path, f.rule, f.line) for f in typed.findings if f.rule.startswith("mypy-")]
    assert mypy == [("src/pkg/b.py", "mypy-assignment", 3)]
    # the file that does not parse gets its syntax error only (fail-fast), not mypy's
    broken = [
        f.rule for f in typed.findings if f.path.endswith("broken.py") and f.checker == "validator"
    ]
    assert broken == ["syntax-error"]
    assert typed.per_checker["validator"].status == "failed"


def test_consumer_mypy_plugins_are_never_loaded(tmp_path: Path) -> None:
    # A plugin named in the checked tree's config would be imported by mypy, running the
    # tree's code inside evobot: the config is not used, so the marker file is never written.
    marker = tmp_path / "ran"
    plugin = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\ndef plugin(v): ...\n"
    pyproject = '[project]\nname = "pkg"\n[tool.mypy]\nplugins = ["evil_plugin.py"]\n'
    tree = make_tree(
        {
            **TREE,
            "pyproject.toml": pyproject,
            "evil_plugin.py": plugin,
        }
    )
    policy = load_policy(None, None, known_checkers=("validator",))
    typed = run_checks(tree, changed=["src/pkg/b.py"], policy=policy, cache=None, types=True)
    assert typed.per_checker["validator"].status != "error"
    assert not marker.exists()
