"""The validator finds planted problems at the right line and stays quiet on a clean service."""

from __future__ import annotations

from checks_support import CLEAN_PYPROJECT, CLEAN_SERVICE, make_tree

from bot.checks.base import CheckContext, Finding
from bot.checks.validator import ValidatorChecker, import_names_for
from bot.tree import Tree


def validate(tree: Tree, *paths: str) -> list[Finding]:
    checker = ValidatorChecker()
    targets = list(paths) or [p for p in sorted(tree) if checker.applies_to(p)]
    ctx = CheckContext(tree=tree, paths=targets)
    results = checker.check_files(targets, ctx)
    return [f for p in targets for f in results[p]]


def rules(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return sorted((f.rule, f.line) for f in findings)


def with_module(source: str, path: str = "src/orders/bad.py") -> Tree:
    return make_tree({**CLEAN_SERVICE, path: source})


def test_clean_service_has_no_findings() -> None:
    assert validate(make_tree(CLEAN_SERVICE)) == []


def test_security_patterns_are_found_with_aliases() -> None:
    source = (
        "import os\n"
        "import pickle\n"
        "import subprocess as sp\n"
        "from subprocess import Popen\n"
        "import yaml\n"
        "\n"
        "\n"
        "def run(cmd: str, blob: bytes) -> object:\n"
        "    eval(cmd)\n"
        "    exec(cmd)\n"
        "    __import__(cmd)\n"
        "    os.system(cmd)\n"
        "    sp.call(cmd, shell=True)\n"
        "    Popen(cmd, shell=True)\n"
        "    sp.run([cmd], shell=False)\n"
        "    yaml.load(blob)\n"
        "    yaml.load(blob, Loader=yaml.SafeLoader)\n"
        "    yaml.load(blob, Loader=yaml.FullLoader)\n"
        "    return pickle.loads(blob)\n"
    )
    found = validate(with_module(source), "src/orders/bad.py")
    assert rules(found) == [
        ("dynamic-import", 11),
        ("eval", 9),
        ("exec", 10),
        ("os-system", 12),
        ("pickle-load", 19),
        ("subprocess-shell", 13),
        ("subprocess-shell", 14),
        ("yaml-unsafe-load", 16),
        ("yaml-unsafe-load", 18),
    ]
    assert {f.severity.value for f in found if f.rule == "eval"} == {"high"}


def test_ast_rules_bare_except_swallowing_assert_and_mutable_defaults() -> None:
    source = (
        "def f(items=[], *, seen=dict()):\n"
        "    try:\n"
        "        items.append(1)\n"
        "    except:\n"
        "        pass\n"
        "    try:\n"
        "        seen.clear()\n"
        "    except Exception:\n"
        "        pass\n"
        "    try:\n"
        "        seen.clear()\n"
        "    except Exception as exc:\n"
        "        raise ValueError('x') from exc\n"
        "    assert items, 'validation by assert'\n"
        "    return items\n"
    )
    found = validate(with_module(source), "src/orders/bad.py")
    assert rules(found) == [
        ("assert-validation", 14),
        ("bare-except", 4),
        ("mutable-default", 1),
        ("mutable-default", 1),
        ("swallowed-exception", 8),
    ]


def test_assert_in_test_code_is_fine() -> None:
    tree = with_module("def test_x() -> None:\n    assert 1 + 1 == 2\n", "tests/test_math.py")
    assert validate(tree, "tests/test_math.py") == []


def test_syntax_error_stops_the_file_at_its_line() -> None:
    source = "import requests\n\ndef f(:\n    eval('1')\n"
    found = validate(with_module(source), "src/orders/bad.py")
    assert rules(found) == [("syntax-error", 3)]


def test_compile_pass_catches_return_outside_function() -> None:
    found = validate(with_module("x = 1\nreturn x\n"), "src/orders/bad.py")
    assert rules(found) == [("syntax-error", 2)]


def test_unresolved_imports_are_high_and_named() -> None:
    source = (
        "import json\n"
        "import requests\n"
        "from orders import settings\n"
        "from orders.nothere import x\n"
        "from . import settings as s2\n"
        "from .missing import y\n"
        "from ..elsewhere import z\n"
        "try:\n"
        "    import ujson\n"
        "except ImportError:\n"
        "    ujson = None\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    import mypy_extensions\n"
    )
    found = validate(with_module(source), "src/orders/bad.py")
    assert rules(found) == [
        ("unresolved-import", 2),
        ("unresolved-import", 6),
        ("unresolved-import", 7),
    ]
    by_line = {f.line: f for f in found}
    assert "`requests`" in by_line[2].message
    assert by_line[2].severity.value == "high"


def test_declared_dependencies_map_distribution_names_to_imports() -> None:
    source = (
        "import yaml\n"
        "import dotenv\n"
        "import bs4\n"
        "import sklearn\n"
        "import pytest\n"
        "import fastapi\n"
        "import starlette\n"
    )
    found = validate(with_module(source), "src/orders/bad.py")
    # starlette comes only through fastapi: importable, but it should be declared.
    assert rules(found) == [("transitive-import", 7)]
    assert found[0].severity.value == "low"


def test_requirements_file_and_known_name_table() -> None:
    # the table's name, and the names installed metadata records (`_yaml` where PyYAML is
    # installed), never the distribution name itself
    assert "yaml" in import_names_for("PyYAML")
    assert "pyyaml" not in import_names_for("PyYAML")
    assert "pydantic_settings" in import_names_for("pydantic-settings")
    assert "psycopg2" in import_names_for("psycopg2-binary")
    assert "PIL" in import_names_for("Pillow")
    assert import_names_for("types-PyYAML") == ()
    tree = make_tree(
        {"requirements.txt": "requests==2.32.0  # http\n", "app.py": "import requests\n"}
    )
    assert validate(tree) == []


def test_without_a_manifest_third_party_imports_are_reported() -> None:
    found = validate(make_tree({"tool.py": "import requests\n"}))
    assert rules(found) == [("unresolved-import", 1)]
    assert "no pyproject.toml" in found[0].message


def test_sibling_modules_and_src_layout_resolve() -> None:
    tree = make_tree(
        {
            "pyproject.toml": CLEAN_PYPROJECT,
            "scripts/run.py": "import helpers\n",
            "scripts/helpers.py": "",
            "src/orders/__init__.py": "",
            "tests/test_x.py": "import orders\nimport conftest_helpers\n",
        }
    )
    found = validate(tree)
    assert rules(found) == [("unresolved-import", 2)]


def test_broken_data_files_report_the_parser_line() -> None:
    tree = make_tree(
        {
            "ok.yaml": "a: !Ref thing\n---\nb: 2\n",
            "bad.yaml": "a: 1\nb: [1, 2\nc: 3\n",
            "bad.toml": 'a = 1\nb = "x\n',
            "bad.json": '{\n  "a": 1,\n}\n',
            ".vscode/settings.json": "{\n  // comments are allowed here\n}\n",
        }
    )
    found = validate(tree)
    got = {(f.path, f.rule): f.line for f in found}
    assert got == {
        ("bad.yaml", "yaml-syntax"): 3,
        ("bad.toml", "toml-syntax"): 2,
        ("bad.json", "json-syntax"): 3,
    }


def test_test_code_imports_helpers_from_conftest_directories() -> None:
    tree = make_tree(
        {
            "pyproject.toml": CLEAN_PYPROJECT,
            "tests/conftest.py": "",
            "tests/helpers_shared.py": "",
            "tests/area/test_a.py": "from conftest import x\nimport helpers_shared\n",
            "tools/run.py": "import helpers_shared\n",
        }
    )
    assert rules(validate(tree)) == [("unresolved-import", 1)]
    assert [f.path for f in validate(tree)] == ["tools/run.py"]


def test_same_broken_content_at_two_paths_reports_each_path() -> None:
    tree = make_tree({"a/one.py": "def f(:\n", "b/two.py": "def f(:\n"})
    assert [(f.path, f.rule) for f in validate(tree)] == [
        ("a/one.py", "syntax-error"),
        ("b/two.py", "syntax-error"),
    ]
