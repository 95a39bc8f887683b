"""Which findings block an evolution PR: per-checker switches and options, a severity
threshold, ignores.

The policy comes from an org default file and the consumer's `.evobot.yml` `checks:` section
(the consumer's values win key by key; ignores from both apply). :func:`load_policy` validates
each source, then the merge, including every checker's options into that checker's model
(:mod:`bot.checks.options`), so a mistake is reported once, at load, naming the file and key
path. :meth:`Policy.evaluate` turns findings into a :class:`Verdict` that says pass or fail and
why. Ignore paths use evobot's one path-glob dialect (:mod:`bot.globs`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from bot.checks.base import Finding, Severity, options_error_text
from bot.checks.options import CheckerOptions
from bot.errors import CheckError
from bot.globs import path_matches, validate_glob
from bot.parsing import load_yaml

OptionsT = TypeVar("OptionsT", bound=CheckerOptions)

__all__ = [
    "DEFAULT_TEST_PATHS",
    "DEFAULT_TEST_RULES",
    "CheckerPolicy",
    "IgnoreRule",
    "Policy",
    "TestCodePolicy",
    "Verdict",
    "load_policy",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckerPolicy(_Model):
    """One checker's switch, its own blocking threshold, and its options as written.

    The options are validated into the checker's own model (:mod:`bot.checks.options`) when
    the policy loads; :meth:`Policy.options_for` hands out the typed result.
    """

    enabled: bool = True
    block_on: Severity | None = Field(
        default=None, description="minimum blocking severity for this checker; policy's if None"
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="checker-specific options, as written"
    )


class IgnoreRule(_Model):
    """An accepted finding: checker and rule (shell-style name patterns allowed), optionally a
    path glob in evobot's one path dialect (:mod:`bot.globs`); a reason."""

    checker: str = Field(min_length=1)
    rule: str = Field(min_length=1)
    path: Annotated[str, AfterValidator(validate_glob)] | None = None
    reason: str

    @field_validator("reason")
    @classmethod
    def _reason_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an ignore needs a reason people can read")
        return value.strip()

    def matches(self, finding: Finding) -> bool:
        if not fnmatch.fnmatchcase(finding.checker, self.checker):
            return False
        if not fnmatch.fnmatchcase(finding.rule, self.rule):
            return False
        return self.path is None or path_matches(self.path, finding.path)


# Test code, by evobot's path-glob dialect: a `tests/` or `test/` directory at any depth,
# `test_*.py`, `*_test.py` and `conftest.py`.
DEFAULT_TEST_PATHS: tuple[str, ...] = ("tests/", "test/", "test_*.py", "*_test.py", "conftest.py")

# What changes for findings in test code, by `checker/rule` (shell-style patterns): `off`
# drops the finding, a severity caps it. Tests assert by design, and load their own pickles
# and run their own subprocesses; secrets in tests are still secrets, so no secrets rule is
# listed (the secrets checker itself lowers a private key under tests/, see docs/scans.md).
DEFAULT_TEST_RULES: dict[str, str] = {
    "bandit/B101": "off",  # assert
    "ruff/S101": "off",
    "validator/pickle-load": "low",
    "validator/yaml-unsafe-load": "low",
    "validator/subprocess-shell": "low",
    "validator/os-system": "low",
    "bandit/B301": "low",  # pickle, marshal and other deserialisation
    "bandit/B302": "low",
    "bandit/B403": "low",
    "bandit/B506": "low",
    "bandit/B404": "low",  # subprocess
    "bandit/B60[2-7]": "low",
    "ruff/S301": "low",
    "ruff/S403": "low",
    "ruff/S506": "low",
    "ruff/S404": "low",
    "ruff/S60[2-7]": "low",
    # Web exposure: tests serve no one (Flask's debug=True, Jinja2 without autoescape).
    "bandit/B201": "low",
    "bandit/B701": "low",
    "ruff/S201": "low",
    "ruff/S701": "low",
}

TestRuleAction = Literal["off", "keep"] | Severity


class TestCodePolicy(_Model):
    """How findings in test code are judged: which paths are test code (``paths``, replacing
    the defaults when given) and, by ``checker/rule`` pattern, ``off``, ``keep`` or the
    severity to lower to (``rules``, merged over the defaults key by key)."""

    paths: tuple[Annotated[str, AfterValidator(validate_glob)], ...] = DEFAULT_TEST_PATHS
    rules: dict[str, TestRuleAction] = Field(default_factory=dict)

    def effective_rules(self) -> dict[str, TestRuleAction]:
        merged: dict[str, TestRuleAction] = {k: _action(v) for k, v in DEFAULT_TEST_RULES.items()}
        merged.update(self.rules)
        return merged

    def action_for(self, finding: Finding) -> TestRuleAction | None:
        """What happens to ``finding`` (None: it is not test code, or no rule names it)."""
        if not any(path_matches(g, finding.path) for g in self.paths):
            return None
        key = f"{finding.checker}/{finding.rule}"
        rules = self.effective_rules()
        if key in rules:
            return rules[key]
        for pattern, action in rules.items():
            if fnmatch.fnmatchcase(key, pattern):
                return action
        return None


def _action(value: str) -> TestRuleAction:
    return value if value in ("off", "keep") else Severity(value)  # type: ignore[return-value]


@dataclass(frozen=True)
class Verdict:
    """Pass or fail, the reasons in words, and the findings that blocked or were ignored."""

    passed: bool
    reasons: list[str]
    blocking: list[Finding] = field(default_factory=list)
    ignored: list[tuple[Finding, str]] = field(default_factory=list)


class Policy(_Model):
    """The check policy of one consumer (org default merged with its `.evobot.yml`)."""

    block_on: Severity = Severity.HIGH
    checkers: dict[str, CheckerPolicy] = Field(default_factory=dict)
    ignore: list[IgnoreRule] = Field(default_factory=list)
    test_code: TestCodePolicy = Field(default_factory=TestCodePolicy)
    # Each checker's options validated into its model by load_policy (name -> options).
    _typed: dict[str, CheckerOptions] = PrivateAttr(default_factory=dict)

    def for_checker(self, name: str) -> CheckerPolicy:
        return self.checkers.get(name, CheckerPolicy())

    def enabled(self, name: str) -> bool:
        return self.for_checker(name).enabled

    def options_for(self, name: str, model: type[OptionsT]) -> OptionsT:
        """The checker's options as ``model``: validated when the policy loaded, or now (with
        the same error) for a policy built in code."""
        typed = self._typed.get(name)
        if isinstance(typed, model):
            return typed
        return _typed_options(name, self.for_checker(name).options, model, "check policy", "")

    def threshold(self, name: str) -> Severity:
        return self.for_checker(name).block_on or self.block_on

    def for_test_code(self, findings: Sequence[Finding]) -> list[Finding]:
        """``findings`` with the test-code policy applied: dropped or lowered in test paths."""
        adjusted: list[Finding] = []
        for finding in findings:
            action = self.test_code.action_for(finding)
            if action == "off":
                continue
            if isinstance(action, Severity) and finding.severity.rank > action.rank:
                finding = finding.model_copy(
                    update={
                        "severity": action,
                        "message": f"{finding.message} [{finding.severity} lowered to {action}: "
                        "test code, by checks.test_code]",
                    }
                )
            adjusted.append(finding)
        return adjusted

    def ignored_by(self, finding: Finding) -> IgnoreRule | None:
        for rule in self.ignore:
            if rule.matches(finding):
                return rule
        return None

    def evaluate(
        self, findings: Sequence[Finding], *, errors: Mapping[str, str] | None = None
    ) -> Verdict:
        """Decide: a checker that could not run, or any non-ignored finding at or above its
        checker's threshold, blocks."""
        reasons: list[str] = []
        blocking: list[Finding] = []
        ignored: list[tuple[Finding, str]] = []
        for name, message in sorted((errors or {}).items()):
            reasons.append(f"{name} could not run: {message}")
        for finding in findings:
            rule = self.ignored_by(finding)
            if rule is not None:
                ignored.append((finding, rule.reason))
                continue
            if finding.severity.rank >= self.threshold(finding.checker).rank:
                blocking.append(finding)
        for finding in blocking:
            where = f"{finding.path}:{finding.line}" if finding.line else finding.path
            reasons.append(
                f"{finding.checker} {finding.rule} ({finding.severity}) at {where}: "
                f"{finding.message} [blocks at {self.threshold(finding.checker)} and above]"
            )
        for finding, reason in ignored:
            reasons.append(f"ignored {finding.checker} {finding.rule} at {finding.path}: {reason}")
        passed = not blocking and not errors
        if passed:
            reasons.insert(
                0,
                f"passed: no finding at or above the blocking severity ({self.block_on}"
                + (
                    ", with per-checker overrides)"
                    if any(c.block_on for c in self.checkers.values())
                    else ")"
                ),
            )
        return Verdict(passed=passed, reasons=reasons, blocking=blocking, ignored=ignored)


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    if "block_on" in override:
        merged["block_on"] = override["block_on"]
    # A value of the wrong type is passed through unmerged, so the model's error names its key.
    base_checkers = base.get("checkers") or {}
    over_checkers = override.get("checkers") or {}
    if not isinstance(over_checkers, Mapping):
        merged["checkers"] = over_checkers
    elif not isinstance(base_checkers, Mapping):
        merged["checkers"] = base_checkers
    else:
        checkers = {
            name: _merge_checker(base_checkers.get(name), over_checkers.get(name))
            for name in sorted(set(base_checkers) | set(over_checkers))
        }
        if checkers:
            merged["checkers"] = checkers
    base_ignore, over_ignore = base.get("ignore") or [], override.get("ignore") or []
    if not isinstance(base_ignore, list) or not isinstance(over_ignore, list):
        merged["ignore"] = over_ignore if not isinstance(over_ignore, list) else base_ignore
    elif base_ignore or over_ignore:
        merged["ignore"] = base_ignore + over_ignore
    base_tests, over_tests = base.get("test_code"), override.get("test_code")
    if isinstance(base_tests, Mapping) and isinstance(over_tests, Mapping):
        tests = {**base_tests, **over_tests}
        b_rules, o_rules = base_tests.get("rules"), over_tests.get("rules")
        if isinstance(b_rules, Mapping) and isinstance(o_rules, Mapping):
            tests["rules"] = {**b_rules, **o_rules}
        merged["test_code"] = tests
    elif "test_code" in override:
        merged["test_code"] = over_tests
    for key in override:
        if key not in ("block_on", "checkers", "ignore", "test_code"):
            merged[key] = override[key]  # unknown keys reach the model, which names them
    return merged


def _merge_checker(b: Any, o: Any) -> Any:
    # `ruff: false` is short for `ruff: {enabled: false}`.
    b = {"enabled": b} if isinstance(b, bool) else (b or {})
    o = {"enabled": o} if isinstance(o, bool) else (o or {})
    if not isinstance(b, Mapping) or not isinstance(o, Mapping):
        return o if o else b
    b_opts, o_opts = b.get("options") or {}, o.get("options") or {}
    if not isinstance(b_opts, Mapping) or not isinstance(o_opts, Mapping):
        return {**b, **o}
    opts = {**b_opts, **o_opts}
    return {**b, **o, **({"options": opts} if opts else {})}


def load_policy(
    config_checks: Mapping[str, Any] | None,
    org_default: Path | None,
    *,
    known_checkers: Collection[str] | None = None,
) -> Policy:
    """Build the policy from the org default file (YAML, optionally under a `checks:` key) and a
    consumer's `checks:` section. Errors name the file and the key."""
    base: dict[str, Any] = {}
    if org_default is not None:
        try:
            text = org_default.read_bytes()
        except OSError as exc:
            raise CheckError(
                f"{org_default}: cannot read the org check policy: {exc.strerror or exc}"
            ) from None
        raw = load_yaml(text, source=str(org_default), error=CheckError)
        if isinstance(raw, Mapping) and set(raw) == {"checks"}:
            raw = raw["checks"]
        if raw is not None and not isinstance(raw, Mapping):
            raise CheckError(f"{org_default}: the org check policy must be a mapping")
        base = dict(raw or {})
        _validate(base, str(org_default), known_checkers)
    if config_checks is not None and not isinstance(config_checks, Mapping):
        raise CheckError(".evobot.yml: checks: must be a mapping")
    override = dict(config_checks or {})
    _validate(override, ".evobot.yml", known_checkers, prefix="checks.")
    return _validate(_merge(base, override), "check policy", known_checkers)


def _validate(
    data: Mapping[str, Any], source: str, known: Collection[str] | None, *, prefix: str = ""
) -> Policy:
    """The policy in ``data``; errors read ``source: <prefix>key.path: what is wrong``."""
    try:
        policy = Policy.model_validate(_merge({}, data))
    except ValidationError as exc:
        raise CheckError(options_error_text(exc, source, sep=f": {prefix}")) from None
    from bot.checks.registry import CHECKER_CLASSES

    models = {cls.name: cls.options_model for cls in CHECKER_CLASSES}
    if known is None:
        known = tuple(models)
    unknown = sorted(set(policy.checkers) - set(known))
    if unknown:
        raise CheckError(
            f"{source}: {prefix}checkers.{unknown[0]}: no such checker",
            hint=f"known checkers: {', '.join(sorted(known))}",
        )
    for name, checker in sorted(policy.checkers.items()):
        if name in models:
            typed = _typed_options(name, checker.options, models[name], source, prefix)
            policy._typed[name] = typed
    return policy


def _typed_options(
    name: str, raw: Mapping[str, Any], model: type[OptionsT], source: str, prefix: str
) -> OptionsT:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        fields = ", ".join(sorted(model.model_fields)) or "none"
        elsewhere = f"; {model.configured_elsewhere}" if model.configured_elsewhere else ""
        raise CheckError(
            options_error_text(exc, f"{source}: {prefix}checkers.{name}.options"),
            hint=f"the {name} checker's options are: {fields}{elsewhere}",
        ) from None
