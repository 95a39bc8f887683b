"""A checker's options are validated into its own typed model once, when the policy loads: a bad
option names the file and the key path, and each checker then receives its typed options."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.checks import CheckContext, Checker, Finding, load_policy, run_checks
from bot.checks.bandit import BanditOptions
from bot.checks.licenses import LicenseOptions
from bot.checks.options import CheckerOptions
from bot.checks.ruff import RuffOptions
from bot.checks.secrets import SecretsOptions
from bot.checks.validator import ValidatorChecker, ValidatorOptions
from bot.errors import CheckError
from bot.tree import File


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"ruff": {"options": {"max_file_bytes": "1MB"}}},
            "checks.checkers.ruff.options.max_file_bytes: Input should be a valid integer",
        ),
        (
            {"ruff": {"options": {"max_file_bytes": True}}},
            "checks.checkers.ruff.options.max_file_bytes: Input should be a valid integer",
        ),
        (
            {"bandit": {"options": {"max_memory_mb": 64}}},
            "checks.checkers.bandit.options.max_memory_mb: unknown key",
        ),
        (
            {"validator": {"options": {"types": "yes"}}},
            "checks.checkers.validator.options.types: Input should be a valid boolean",
        ),
        (
            {"secrets": {"options": {"disable": ["aws-key"]}}},
            "checks.checkers.secrets.options.disable: no such rule 'aws-key' "
            "(the rules are listed in docs/scans.md)",
        ),
        (
            {"secrets": {"options": {"baseline": ""}}},
            "checks.checkers.secrets.options.baseline: String should have at least 1 character",
        ),
        (
            {"licenses": {"options": {"header_bytes": -1}}},
            "checks.checkers.licenses.options.header_bytes: Input should be greater than 0",
        ),
        (
            {"licenses": {"options": {"max_file_bytes": 10}}},
            "checks.checkers.licenses.options.max_file_bytes: unknown key",
        ),
    ],
)
def test_a_bad_option_in_evobot_yml_names_the_key_path(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(CheckError) as info:
        load_policy({"checkers": options}, None)
    assert info.value.message == f".evobot.yml: {message}"


def test_a_bad_option_in_the_org_default_names_that_file(tmp_path: Path) -> None:
    org = tmp_path / "org-checks.yml"
    org.write_text("checkers:\n  ruff:\n    options: {max_memory_mb: 0}\n")
    with pytest.raises(CheckError) as info:
        load_policy(None, org)
    assert info.value.message == (
        f"{org}: checkers.ruff.options.max_memory_mb: Input should be greater than 0"
    )
    assert info.value.hint is not None
    assert "max_file_bytes, max_memory_mb" in info.value.hint
    assert "[tool.ruff]" in info.value.hint


def test_org_and_consumer_options_merge_key_by_key_into_the_typed_model(tmp_path: Path) -> None:
    org = tmp_path / "org.yml"
    org.write_text("checks:\n  checkers:\n    secrets:\n      options: {max_file_bytes: 5000}\n")
    policy = load_policy(
        {"checkers": {"secrets": {"options": {"skip_paths": ["fixtures/**"]}}}}, org
    )
    assert policy.options_for("secrets", SecretsOptions) == SecretsOptions(
        max_file_bytes=5000, skip_paths=("fixtures/**",)
    )
    # Options not mentioned are the model's defaults.
    assert policy.options_for("ruff", RuffOptions) == RuffOptions()
    assert policy.options_for("bandit", BanditOptions).max_file_bytes == 1024 * 1024
    assert policy.options_for("licenses", LicenseOptions).allow is None


class _Recording(ValidatorChecker):
    """The validator, remembering the options it was handed."""

    seen: list[CheckerOptions]

    def __init__(self) -> None:
        super().__init__()
        self.seen = []

    def check_files(self, paths: list[str], ctx: CheckContext) -> dict[str, list[Finding]]:  # type: ignore[override]
        self.seen.append(ctx.options)
        return {p: [] for p in paths}


def test_checkers_receive_their_typed_options() -> None:
    policy = load_policy(
        {"checkers": {"validator": {"options": {"max_file_bytes": 123}}}},
        None,
        known_checkers=("validator",),
    )
    checker = _Recording()
    tree = {"a.py": File(b"x = 1\n")}
    run_checks(tree, changed=None, policy=policy, cache=None, checkers=[checker], types=True)
    assert checker.seen == [ValidatorOptions(max_file_bytes=123, types=True)]


def test_a_policy_built_in_code_is_checked_when_a_checker_asks() -> None:
    from bot.checks import CheckerPolicy, Policy

    policy = Policy(checkers={"validator": CheckerPolicy(options={"typo": 1})})
    run = run_checks(
        {"a.py": File(b"x = 1\n")},
        changed=None,
        policy=policy,
        cache=None,
        checkers=[ValidatorChecker()],
    )
    assert not run.verdict.passed
    assert (
        "validator could not run: check policy: checkers.validator.options.typo: unknown key"
        in run.verdict.reasons[0]
    )


def test_a_checker_without_options_refuses_any() -> None:
    class _Plain(Checker):
        name = "plain"
        version = "1"

        def check_file(self, path: str, file: File, ctx: CheckContext) -> list[Finding]:
            return []

    assert _Plain.options_model is CheckerOptions
    policy = load_policy(
        {"checkers": {"plain": {"options": {"x": 1}}}}, None, known_checkers=("plain",)
    )
    with pytest.raises(CheckError, match=r"checkers\.plain\.options\.x: unknown key"):
        policy.options_for("plain", _Plain.options_model)
