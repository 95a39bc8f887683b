"""Answers: given values (from a data file, `--data k=v` strings or a prompt) checked against the
manifest's questions — types coerced, defaults and conditions evaluated in question order (in the
bounded sandbox), choices and validators enforced.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.errors import ManifestError
from bot.parsing import DocumentError, parse_yaml
from bot.template.answer_types import AnswerError, AnswerSet, answer_set
from bot.template.manifest import Manifest, Question, is_jinja_template
from bot.template.sandbox import RenderLimits, Sandbox, SandboxFailure, using_sandbox

__all__ = ["AnswerError", "AnswerSet", "coerce_answer", "resolve_answers"]

AskFunction = Callable[[str, Question, Any], Any]

_TRUE = frozenset({"true", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "no", "n", "off", "0", ""})
_MAX_ASK_ATTEMPTS = 3


def _coerce_scalar(qtype: str, value: Any) -> Any:
    if qtype == "str":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
        raise ValueError(f"expected text, got {type(value).__name__}")
    if qtype == "int":
        if isinstance(value, bool):
            raise ValueError("expected an integer, got a boolean")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip(), 10)
            except ValueError:
                pass
        raise ValueError(f"expected an integer, got {value!r}")
    if qtype == "float":
        if isinstance(value, bool):
            raise ValueError("expected a number, got a boolean")
        if isinstance(value, int | float):
            result = float(value)
        elif isinstance(value, str):
            try:
                result = float(value.strip())
            except ValueError:
                raise ValueError(f"expected a number, got {value!r}") from None
        else:
            raise ValueError(f"expected a number, got {type(value).__name__}")
        if not math.isfinite(result):
            raise ValueError(f"expected a finite number, got {value!r}")
        return result
    if qtype == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
        raise ValueError(f"expected true or false, got {value!r}")
    raise ValueError(f"unknown type {qtype!r}")


def _plain(value: Any) -> Any:
    """Only JSON-shaped data may be an answer (it is stored in `.evobot.yml` and rendered)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    raise ValueError(f"{type(value).__name__} values are not allowed")


def coerce_answer(question: Question, value: Any) -> Any:
    """Convert ``value`` (data, or a command-line string) to the question's type.

    Raises ValueError saying what is wrong. Choices are enforced; validators are not (they may
    need earlier answers; :func:`resolve_answers` runs them).
    """
    if question.type == "list":
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = parse_yaml(text)
                except DocumentError as exc:
                    raise ValueError(f"not a YAML list: {exc}") from None
            else:
                value = [item.strip() for item in text.split(",") if item.strip()]
        if not isinstance(value, list | tuple):
            raise ValueError(f"expected a list, got {type(value).__name__}")
        return _plain(list(value))
    if question.type == "choice":
        options = question.choice_values
        for option in options:
            if type(option) is type(value) and option == value:
                return _plain(option)
        if isinstance(value, str):
            for option in options:
                if str(option) == value or (
                    isinstance(option, bool) and str(option).lower() == value.lower()
                ):
                    return _plain(option)
            if isinstance(question.choices, dict) and value in question.choices:
                return _plain(question.choices[value])
        numeric = (int, float)
        for option in options:
            if (
                isinstance(option, numeric)
                and isinstance(value, numeric)
                and not isinstance(option, bool)
                and not isinstance(value, bool)
                and option == value
            ):
                return _plain(option)
        raise ValueError(f"{value!r} is not one of {', '.join(repr(o) for o in options)}")
    result = _coerce_scalar(question.type, value)
    if question.choices and result not in question.choice_values:
        allowed = ", ".join(repr(o) for o in question.choice_values)
        raise ValueError(f"{result!r} is not one of {allowed}")
    return result


class _Evaluator:
    """Evaluates the manifest's Jinja (defaults, conditions, validators) in the sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def _eval(self, kind: str, source: str, context: Mapping[str, Any]) -> Any:
        return self.sandbox.request(
            {"op": "eval", "kind": kind, "source": source, "context": dict(context)}
        )["value"]

    def condition(self, when: bool | str, context: Mapping[str, Any]) -> bool:
        if isinstance(when, bool):
            return when
        if is_jinja_template(when):
            rendered = str(self._eval("template", when, context)).strip().lower()
            return rendered not in _FALSE and rendered != "none"
        return bool(self._eval("test", when, context))

    def default(self, question: Question, context: Mapping[str, Any]) -> Any:
        default = question.default
        if isinstance(default, str) and is_jinja_template(default):
            return self._eval("template", default, context)
        return default

    def validate(
        self, name: str, question: Question, value: Any, context: Mapping[str, Any]
    ) -> str | None:
        """None when ``value`` is valid, else the message saying why not."""
        validator = question.validator
        if validator is None:
            return None
        scope = {**context, name: value, "value": value}
        if validator.regex is not None:
            items = value if isinstance(value, list) else [value]
            if all(re.fullmatch(validator.regex, str(item)) for item in items):
                return None
            return validator.describe
        if validator.expr is not None:
            return None if self._eval("test", validator.expr, scope) else validator.describe
        assert validator.template is not None
        rendered = str(self._eval("template", validator.template, scope)).strip()
        if not rendered:
            return None
        return validator.message or rendered


def resolve_answers(
    manifest: Manifest,
    given: Mapping[str, Any],
    *,
    ask: AskFunction | None = None,
    limits: RenderLimits | None = None,
    on_invalid: Callable[[str, str], None] | None = None,
    sandbox: Sandbox | None = None,
) -> AnswerSet:
    """Resolve every question in order: given value, else ``ask`` (if any), else the default.

    Questions whose ``when`` is false get no value. Raises AnswerError naming every missing
    answer, or every invalid one. With ``ask``, an invalid answer is reported through
    ``on_invalid(name, message)`` and asked again (a few times). Pass an open ``sandbox`` to
    reuse one worker process across calls.
    """
    if manifest.dialect is not None:
        # A copier or cookiecutter template: resolved by that tool's rules.
        from bot.template.cookiecutter import resolve_cookiecutter_answers
        from bot.template.copier import resolve_copier_answers

        resolve = (
            resolve_copier_answers
            if manifest.dialect.kind == "copier"
            else resolve_cookiecutter_answers
        )
        return resolve(
            manifest, given, ask=ask, limits=limits, on_invalid=on_invalid, sandbox=sandbox
        )
    # A key given without a value (`name:` in a YAML file) counts as not given.
    given = {k: v for k, v in given.items() if v is not None}
    values: dict[str, Any] = {}
    missing: list[str] = []
    invalid: list[str] = []
    with using_sandbox(sandbox, limits) as box:
        evaluator = _Evaluator(box)

        def manifest_error(name: str, key: str, exc: SandboxFailure) -> ManifestError:
            return ManifestError(f"template.yml: questions.{name}.{key}: {exc.message}")

        for name, question in manifest.questions.items():
            try:
                if not evaluator.condition(question.when, values):
                    continue
            except SandboxFailure as exc:
                if (missing or invalid) and exc.kind == "undefined":
                    continue  # depends on an answer already reported missing
                raise manifest_error(name, "when", exc) from None
            try:
                default = evaluator.default(question, values)
            except SandboxFailure as exc:
                if (missing or invalid) and exc.kind == "undefined":
                    continue  # computed from an answer already reported missing
                raise manifest_error(name, "default", exc) from None
            attempts = _MAX_ASK_ATTEMPTS if (ask is not None and name not in given) else 1
            for attempt in range(attempts):
                if name in given:
                    raw = given[name]
                elif ask is not None:
                    raw = ask(name, question, default)
                elif default is None:
                    missing.append(name)
                    break
                else:
                    raw = default
                try:
                    value = coerce_answer(question, raw)
                    problem = evaluator.validate(name, question, value, values)
                except ValueError as exc:
                    problem = str(exc)
                except SandboxFailure as exc:
                    raise manifest_error(name, "validator", exc) from None
                if problem is None:
                    values[name] = value
                    break
                if attempt + 1 < attempts and on_invalid is not None:
                    on_invalid(name, problem)
                    continue
                said = "" if repr(raw) in problem else f" (got {raw!r})"  # said once is enough
                if name not in given and ask is None:  # nobody answered: the default is wrong
                    said += f", the default in template.yml questions.{name}.default"
                invalid.append(f"{name}: {problem}{said}")
                break
    return answer_set(values, given, manifest.questions, missing=missing, invalid=invalid)
