"""Test code has a built-in policy: `assert` is not reported there, deserialisation and
subprocess findings are lowered, secrets are kept; `.evobot.yml` can change it.

Reproduces an HTTP client library where bandit's B101 (`assert`) gave 1,295 findings and
`pickle.loads` in tests blocked.
"""

from __future__ import annotations

import pytest
from real_cases_support import check_tree, of

from bot.checks import load_policy
from bot.errors import CheckError

PYPROJECT = '[project]\nname = "lib"\nversion = "1"\ndependencies = ["pytest"]\n'
TEST_MODULE = """\
import pickle
import subprocess

import pytest


def test_roundtrip() -> None:
    data = pickle.dumps({"a": 1})
    assert pickle.loads(data) == {"a": 1}
    subprocess.run("echo hi", shell=True, check=True)
    password = "Zx8kq2PwLm9Tr4aB7Qe"
    assert password
"""


def _spec(path: str) -> dict[str, str]:
    return {"pyproject.toml": PYPROJECT, "lib/__init__.py": "", path: TEST_MODULE}


@pytest.mark.parametrize(
    "path", ["tests/test_models.py", "lib/tests/test_x.py", "test_top.py", "lib/io_test.py"]
)
def test_test_code_asserts_and_pickles_without_blocking(path: str) -> None:
    findings, blocking = check_tree(_spec(path))
    assert of(findings, "bandit", "B101") == []
    pickles = of(findings, "validator", "pickle-load") + of(findings, "bandit", "B301")
    assert pickles and all(f.severity == "low" for f in pickles)
    assert all(
        "lowered to low: test code" in f.message for f in pickles if f.checker == "validator"
    )
    assert [f.severity for f in of(findings, "validator", "subprocess-shell")] == ["low"]
    assert blocking == []


def test_the_same_code_outside_tests_is_judged_in_full() -> None:
    findings, blocking = check_tree(_spec("lib/roundtrip.py"))
    assert of(findings, "bandit", "B101")
    assert {(f.checker, f.rule) for f in blocking} >= {
        ("validator", "pickle-load"),
        ("validator", "subprocess-shell"),
    }


def test_secrets_rules_are_kept_in_tests() -> None:
    findings, _ = check_tree(
        {**_spec("tests/test_models.py"), "tests/.env": "API_KEY=Zx8kq2PwLm9Tr4aB7Qe\n"}
    )
    assert of(findings, "secrets", "generic-secret-assignment")


def test_consumer_can_change_the_test_code_policy() -> None:
    checks = {
        "test_code": {
            "paths": ["tests/", "it/"],
            "rules": {"bandit/B101": "keep", "validator/pickle-load": "off"},
        }
    }
    findings, _ = check_tree({**_spec("it/test_models.py")}, checks)
    assert of(findings, "bandit", "B101")
    assert of(findings, "validator", "pickle-load") == []
    # the defaults for the rules it did not name still apply
    assert [f.severity for f in of(findings, "validator", "subprocess-shell")] == ["low"]
    findings, _ = check_tree(_spec("test_top.py"), checks)
    assert [f.severity for f in of(findings, "validator", "pickle-load")] == ["high"]


def test_a_bad_test_code_rule_is_refused_at_load() -> None:
    with pytest.raises(CheckError) as err:
        load_policy({"test_code": {"rules": {"bandit/B101": "sometimes"}}}, None)
    assert ".evobot.yml: checks.test_code.rules.bandit/B101" in err.value.diagnostics()


def test_web_exposure_rules_are_lowered_in_tests() -> None:
    """jinja2's own tests: 181 blocking B701 (autoescape off) findings before."""
    source = "from jinja2 import Environment\n\nenv = Environment()\n"
    spec = {"pyproject.toml": '[project]\nname = "j"\nversion = "1"\ndependencies = ["jinja2"]\n'}
    findings, blocking = check_tree({**spec, "tests/test_api.py": source})
    assert [f.severity for f in of(findings, "bandit", "B701")] == ["low"]
    assert blocking == []
    _, blocking = check_tree({**spec, "j/render.py": source})
    assert [f.rule for f in blocking] == ["B701"]
