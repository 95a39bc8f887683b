"""Checking only changed files still re-judges the files whose verdict reads a changed one:
recorded licenses re-judge the dependency lists, the dependency manifest re-judges imports."""

from __future__ import annotations

import json
from pathlib import Path

from checks_support import CLEAN_PYPROJECT, CLEAN_SERVICE, make_tree

from bot.checks import CheckCache, load_policy, run_checks
from bot.checks.policy import Policy
from bot.tree import File

KNOWN = ("validator", "ruff", "bandit", "secrets", "licenses")
LICENSES = ".evobot/licenses.json"
RECORDED = {
    "fastapi": "MIT",
    "PyYAML": "MIT",
    "python-dotenv": "BSD-3-Clause",
    "beautifulsoup4": "MIT",
    "pytest": "MIT",
    "scikit-learn": "BSD-3-Clause",
}
HTTP_MODULE = "src/orders/client.py"
HTTP_SOURCE = '"""Calls other services."""\n\nimport requests\n\nSESSION = requests.Session()\n'
WITH_REQUESTS = CLEAN_PYPROJECT.replace('"beautifulsoup4"]', '"beautifulsoup4", "requests"]')


def _policy() -> Policy:
    return load_policy(None, None, known_checkers=KNOWN)


def _service(**extra: str) -> dict[str, str]:
    return {
        **CLEAN_SERVICE,
        "pyproject.toml": WITH_REQUESTS,
        HTTP_MODULE: HTTP_SOURCE,
        LICENSES: json.dumps({**RECORDED, "requests": "Apache-2.0"}),
        **extra,
    }


def test_editing_recorded_licenses_alone_rejudges_the_dependency_list() -> None:
    tree = make_tree(_service(**{LICENSES: json.dumps({**RECORDED, "requests": "AGPL-3.0-only"})}))
    run = run_checks(tree, changed=[LICENSES], policy=_policy(), cache=None)
    denied = [f for f in run.findings if f.rule == "dependency-license-denied"]
    assert [(f.path, f.checker) for f in denied] == [("pyproject.toml", "licenses")]
    assert "requests" in denied[0].message
    assert not run.passed
    assert run.paths == [LICENSES]
    assert "pyproject.toml" in run.dependents
    assert run.per_checker["licenses"].files == 2  # the mapping and the list it records


def test_removing_a_dependency_rejudges_the_modules_importing_it(tmp_path: Path) -> None:
    before = make_tree(_service())
    after = make_tree(_service(**{"pyproject.toml": CLEAN_PYPROJECT}))
    with CheckCache(tmp_path / "c.sqlite") as cache:
        clean = run_checks(before, changed=None, policy=_policy(), cache=cache)
        assert clean.passed, clean.verdict.reasons
        run = run_checks(after, changed=["pyproject.toml"], policy=_policy(), cache=cache)
        unresolved = [f for f in run.findings if f.rule == "unresolved-import"]
        assert [f.path for f in unresolved] == [HTTP_MODULE]
        assert not run.passed
        # Modules whose imports resolve as before come from the cache.
        validator = run.per_checker["validator"]
        assert validator.files - validator.cached == 2  # pyproject.toml and the importing module


def test_deleting_the_requirements_file_rejudges_the_imports() -> None:
    spec = {**_service(), "pyproject.toml": CLEAN_PYPROJECT, "requirements.txt": "requests\n"}
    assert run_checks(make_tree(spec), changed=None, policy=_policy(), cache=None).passed
    del spec["requirements.txt"]
    run = run_checks(make_tree(spec), changed=["requirements.txt"], policy=_policy(), cache=None)
    assert [f.path for f in run.findings if f.rule == "unresolved-import"] == [HTTP_MODULE]


def test_a_file_nobody_reads_is_checked_alone() -> None:
    tree = make_tree(_service())
    tree["config/app.yaml"] = File(b"name: [orders\n")
    run = run_checks(tree, changed=["config/app.yaml"], policy=_policy(), cache=None)
    assert (run.paths, run.dependents) == (["config/app.yaml"], [])
    assert {f.path for f in run.findings} == {"config/app.yaml"}
    assert run.per_checker["ruff"].files == 0
    assert run.per_checker["bandit"].files == 0


def test_with_the_tree_before_only_files_whose_dependencies_changed_are_rejudged() -> None:
    legacy = "def run(code):\n    return eval(code)\n"
    before = make_tree(_service(**{"tools/legacy.py": legacy}))
    added = make_tree(_service(**{"tools/legacy.py": legacy, "scripts/extra.py": "X = 1\n"}))
    broad = run_checks(added, changed=["scripts/extra.py"], policy=_policy(), cache=None)
    assert "tools/legacy.py" in broad.dependents and not broad.passed
    # The new module is not imported anywhere: no import resolves differently, nothing else
    # is judged again, and the legacy `eval` stays out of this run.
    narrow = run_checks(
        added, changed=["scripts/extra.py"], policy=_policy(), cache=None, base=before
    )
    assert (narrow.paths, narrow.dependents) == (["scripts/extra.py"], [])
    assert narrow.passed, narrow.verdict.reasons

    removed = make_tree(_service(**{"pyproject.toml": CLEAN_PYPROJECT}))
    run = run_checks(removed, changed=["pyproject.toml"], policy=_policy(), cache=None, base=before)
    assert run.dependents == [HTTP_MODULE]
    assert [f.path for f in run.findings if f.rule == "unresolved-import"] == [HTTP_MODULE]


def test_with_the_tree_before_an_edited_tool_config_rejudges_every_file() -> None:
    before = make_tree(_service())
    strict = (
        WITH_REQUESTS + '\n[tool.ruff]\nline-length = 20\n[tool.ruff.lint]\nselect = ["E501"]\n'
    )
    after = make_tree(_service(**{"pyproject.toml": strict}))
    run = run_checks(after, changed=["pyproject.toml"], policy=_policy(), cache=None, base=before)
    python = sorted(p for p in after if p.endswith(".py"))
    assert run.per_checker["ruff"].files == len(python)
    assert {f.path for f in run.findings if f.rule == "E501"} >= {HTTP_MODULE, "src/orders/main.py"}
