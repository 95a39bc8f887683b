"""The content-addressed cache: warm results equal cold ones, only misses are checked, and a new
checker version or config invalidates."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from checks_support import CLEAN_SERVICE, make_tree

from bot.checks import CheckCache, Finding, load_policy, run_checks
from bot.checks.base import CheckContext, Checker, Severity
from bot.checks.cache import cache_key, default_cache_path
from bot.checks.registry import default_checkers
from bot.checks.validator import ValidatorChecker
from bot.tree import File

KNOWN = ("validator", "ruff", "bandit", "secrets", "licenses")
PLANTED = {
    **CLEAN_SERVICE,
    "src/orders/bad.py": "import requests\nimport os\n\n\ndef f(x=[]):\n    return eval(x)\n",
    "src/orders/shell.py": (
        "import subprocess\n\n\ndef r(c):\n    subprocess.Popen(c, shell=True)\n"
    ),
}


def policy(checks: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    return load_policy(checks, None, known_checkers=KNOWN)


def test_warm_run_returns_the_cold_findings_from_cache(tmp_path: Path) -> None:
    tree = make_tree(PLANTED)
    with CheckCache(tmp_path / "c.sqlite") as cache:
        cold = run_checks(tree, changed=None, policy=policy(), cache=cache)
    with CheckCache(tmp_path / "c.sqlite") as cache:
        warm = run_checks(tree, changed=None, policy=policy(), cache=cache)
        assert cache.hits > 0 and cache.misses == 0
    assert warm.findings == cold.findings
    assert warm.verdict.reasons == cold.verdict.reasons
    assert {f.rule for f in cold.findings} >= {"eval", "unresolved-import", "B602", "F401"}
    for name, result in warm.per_checker.items():
        assert result.cached == result.files, name
        assert cold.per_checker[name].cached == 0
    uncached = run_checks(tree, changed=None, policy=policy(), cache=None)
    assert uncached.findings == cold.findings


def test_only_misses_are_checked_and_same_content_elsewhere_shares(tmp_path: Path) -> None:
    tree = make_tree(PLANTED)
    with CheckCache(tmp_path / "c.sqlite") as cache:
        run_checks(tree, changed=None, policy=policy(), cache=cache)
        edited = dict(tree)
        edited["src/orders/bad.py"] = File(b"import os\n\nprint(os.sep)\n")
        # the same module under another package name, as in a fleet of services
        edited["src/billing/shell.py"] = tree["src/orders/shell.py"]
        run = run_checks(edited, changed=None, policy=policy(), cache=cache)
    ruff, validator = run.per_checker["ruff"], run.per_checker["validator"]
    assert validator.cached == validator.files - 1  # only the edited file; the copy shares
    assert ruff.cached == ruff.files - 1
    bad = [f for f in run.findings if f.path == "src/orders/bad.py"]
    assert {f.rule for f in bad} <= {"format"}
    copied = sorted((f.checker, f.rule) for f in run.findings if f.path == "src/billing/shell.py")
    original = sorted((f.checker, f.rule) for f in run.findings if f.path == "src/orders/shell.py")
    assert copied == original and ("bandit", "B602") in copied


class _NextValidator(ValidatorChecker):
    version: ClassVar[str] = "99.0.0"


def test_new_checker_version_or_config_invalidates(tmp_path: Path) -> None:
    tree = make_tree(PLANTED)
    with CheckCache(tmp_path / "c.sqlite") as cache:
        run_checks(tree, changed=None, policy=policy(), cache=cache)
        again = run_checks(tree, changed=None, policy=policy(), cache=cache)
        assert again.per_checker["validator"].cached == again.per_checker["validator"].files
        bumped = run_checks(
            tree, changed=None, policy=policy(), cache=cache, checkers=[_NextValidator()]
        )
        assert bumped.per_checker["validator"].cached == 0
        configured = run_checks(
            tree,
            changed=None,
            policy=policy({"checkers": {"validator": {"options": {"max_file_bytes": 2_000_000}}}}),
            cache=cache,
        )
        assert configured.per_checker["validator"].cached == 0
        assert configured.per_checker["bandit"].cached == configured.per_checker["bandit"].files
        ruff_config = dict(tree)
        ruff_config["ruff.toml"] = File(b'line-length = 20\n[lint]\nselect = ["E501"]\n')
        reconfigured = run_checks(ruff_config, changed=None, policy=policy(), cache=cache)
        assert reconfigured.per_checker["ruff"].cached == 0
        assert any(f.rule == "E501" for f in reconfigured.findings)


def test_changed_paths_limit_the_run() -> None:
    tree = make_tree(PLANTED)
    run = run_checks(tree, changed=["src/orders/shell.py", "gone.py"], policy=policy(), cache=None)
    assert run.paths == ["src/orders/shell.py"]
    assert {f.path for f in run.findings if f.checker != "validator"} == {"src/orders/shell.py"}
    assert run.per_checker["ruff"].files == run.per_checker["bandit"].files == 1
    # Whether an import resolves depends on which modules exist: the validator re-judges every
    # Python file when one is changed or deleted.
    assert "src/orders/bad.py" in run.dependents
    assert not run.verdict.passed


class _Crashing(Checker):
    name: ClassVar[str] = "ruff"
    version: ClassVar[str] = "0"

    def check_file(self, path: str, file: File, ctx: CheckContext) -> list[Finding]:
        raise RuntimeError("tool exploded")


def test_a_crashing_checker_blocks_instead_of_passing(tmp_path: Path) -> None:
    tree = make_tree(CLEAN_SERVICE)
    with CheckCache(tmp_path / "c.sqlite") as cache:
        run = run_checks(tree, changed=None, policy=policy(), cache=cache, checkers=[_Crashing()])
        assert cache.count() == 0  # nothing cached for a run that failed
    assert not run.verdict.passed
    assert run.per_checker["ruff"].status == "error"
    assert "tool exploded" in (run.per_checker["ruff"].error or "")
    assert run.verdict.reasons == ["ruff could not run: crashed: RuntimeError: tool exploded"]


def test_disabled_checker_does_not_run() -> None:
    tree = make_tree(PLANTED)
    run = run_checks(tree, changed=None, policy=policy({"checkers": {"bandit": False}}), cache=None)
    assert run.per_checker["bandit"].status == "disabled"
    assert not [f for f in run.findings if f.checker == "bandit"]


def test_batch_lookup_and_default_path(tmp_path: Path) -> None:
    entries = {
        cache_key("validator", "1", "c", f"{i:064x}", ""): (
            "validator",
            [
                Finding(
                    checker="validator", rule="r", severity=Severity.LOW, path="", message=str(i)
                )
            ],
        )
        for i in range(2500)
    }
    with CheckCache(tmp_path / "c.sqlite") as cache:
        cache.put_many(entries)
        found = cache.get_many([*entries, "absent"])
    assert len(found) == 2500
    assert default_cache_path({"EVOBOT_CACHE_DIR": "/x"}) == Path("/x/checks.sqlite")
    assert default_cache_path({"HOME": "/h"}) == Path("/h/.cache/evobot/checks.sqlite")
    assert [c.name for c in default_checkers()][:3] == ["validator", "ruff", "bandit"]


def test_import_findings_follow_the_tree_with_a_warm_cache(tmp_path: Path) -> None:
    tree = make_tree(CLEAN_SERVICE)
    only_validator = policy({"checkers": {n: False for n in KNOWN if n != "validator"}})

    def unresolved(t: dict[str, File]) -> list[tuple[str, int | None]]:
        run = run_checks(t, changed=None, policy=only_validator, cache=cache)
        return [(f.path, f.line) for f in run.findings if f.rule == "unresolved-import"]

    with CheckCache(tmp_path / "c.sqlite") as cache:
        assert unresolved(tree) == []
        # a new project name changes nothing the imports read: everything stays cached
        renamed = dict(tree)
        pyproject = tree["pyproject.toml"].data.replace(b"orders-service", b"orders-svc")
        renamed["pyproject.toml"] = File(pyproject)
        run = run_checks(renamed, changed=None, policy=only_validator, cache=cache)
        assert run.per_checker["validator"].cached == run.per_checker["validator"].files - 1
        # dropping a declared dependency: the cached clean verdict must not be reused
        undeclared = dict(tree)
        undeclared["pyproject.toml"] = File(pyproject.replace(b'"python-dotenv", ', b""))
        assert unresolved(undeclared) == [("src/orders/main.py", 8)]
        # deleting the module a relative import names
        gone = dict(tree)
        del gone["src/orders/settings.py"]
        assert unresolved(gone) == [("src/orders/main.py", 13)]
