"""Answers: types coerced (also from command-line strings), defaults and conditions in order,
choices and validators enforced, every missing answer named, unknown keys reported."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import ManifestError
from bot.template import AnswerError, Question, parse_manifest, resolve_answers


def _manifest(questions: str) -> Any:
    return parse_manifest("name: t\nquestions:\n" + questions)


def test_command_line_strings_become_typed_values() -> None:
    manifest = _manifest(
        "  name: {type: str}\n"
        "  port: {type: int}\n"
        "  ratio: {type: float}\n"
        "  debug: {type: bool}\n"
        "  tags: {type: list}\n"
        "  more: {type: list}\n"
        "  py: {type: choice, choices: ['3.11', '3.12']}\n"
        "  level: {type: choice, choices: [1, 2, 3]}\n"
    )
    given = {
        "name": "svc",
        "port": "8080",
        "ratio": "0.5",
        "debug": "true",
        "tags": "a, b,c",
        "more": "[1, two]",
        "py": "3.12",
        "level": "2",
    }
    answers = resolve_answers(manifest, given)
    assert answers.values == {
        "name": "svc",
        "port": 8080,
        "ratio": 0.5,
        "debug": True,
        "tags": ["a", "b", "c"],
        "more": [1, "two"],
        "py": "3.12",
        "level": 2,
    }
    assert list(answers.values) == ["name", "port", "ratio", "debug", "tags", "more", "py", "level"]
    assert answers.unknown_keys == ()


@pytest.mark.parametrize("text", ["false", "no", "off", "0", "False"])
def test_false_strings_are_false(text: str) -> None:
    answers = resolve_answers(_manifest("  flag: {type: bool}\n"), {"flag": text})
    assert answers.values == {"flag": False}


def test_defaults_see_earlier_answers_and_when_skips_questions() -> None:
    manifest = _manifest(
        "  service_name: {type: str}\n"
        "  package: {default: \"{{ service_name | replace('-', '_') }}\"}\n"
        "  use_database: {type: bool, default: false}\n"
        "  db_url: {default: 'postgresql://{{ package }}', when: use_database}\n"
        "  pool: {type: int, default: 5, when: '{{ use_database }}'}\n"
    )
    without = resolve_answers(manifest, {"service_name": "my-svc"})
    assert without.values == {"service_name": "my-svc", "package": "my_svc", "use_database": False}
    with_db = resolve_answers(manifest, {"service_name": "my-svc", "use_database": "yes"})
    assert with_db.values["db_url"] == "postgresql://my_svc"
    assert with_db.values["pool"] == 5


def test_missing_answers_are_all_named() -> None:
    manifest = _manifest(
        "  a: {type: str}\n"
        "  b: {type: int, default: 1}\n"
        "  c: {type: bool}\n"
        "  derived: {default: '{{ a }}-x'}\n"
    )
    with pytest.raises(AnswerError, match=r"missing answers: a, c$"):
        resolve_answers(manifest, {})


def test_failed_validators_use_the_manifest_message() -> None:
    manifest = _manifest(
        "  service_name:\n"
        "    validator: {regex: '[a-z][a-z0-9_]*', message: must be a lowercase identifier}\n"
        "  replicas_max: {type: int, default: 10}\n"
        "  replicas:\n"
        "    type: int\n"
        "    validator: {expr: 'value >= 1 and value <= replicas_max', message: out of range}\n"
        "    default: 3\n"
        '  short: {validator: "{% if short|length > 3 %}too long{% endif %}"}\n'
    )
    ok = resolve_answers(manifest, {"service_name": "svc_1", "short": "abc"})
    assert ok.values == {"service_name": "svc_1", "replicas_max": 10, "replicas": 3, "short": "abc"}
    with pytest.raises(AnswerError) as info:
        resolve_answers(manifest, {"service_name": "Bad-Name", "replicas": "99", "short": "abcd"})
    message = info.value.message
    assert "service_name: must be a lowercase identifier (got 'Bad-Name')" in message
    assert "replicas: out of range" in message
    assert "short: too long" in message


def test_regex_must_match_the_whole_answer() -> None:
    manifest = _manifest("  name: {validator: '[a-z]+'}\n")
    with pytest.raises(AnswerError, match="must match the regex"):
        resolve_answers(manifest, {"name": "abc-def"})


def test_type_and_choice_errors_are_reported() -> None:
    manifest = _manifest(
        "  port: {type: int}\n"
        "  py: {type: choice, choices: ['3.11', '3.12']}\n"
        "  enabled: {type: bool}\n"
    )
    with pytest.raises(AnswerError) as info:
        resolve_answers(manifest, {"port": "eighty", "py": "2.7", "enabled": "maybe"})
    message = info.value.message
    assert "port: expected an integer, got 'eighty'" in message
    assert "py: '2.7' is not one of '3.11', '3.12'" in message
    assert "enabled: expected true or false, got 'maybe'" in message


def test_unknown_keys_are_returned_for_a_warning() -> None:
    answers = resolve_answers(_manifest("  a: {default: x}\n"), {"a": "y", "zeta": 1, "alpha": 2})
    assert answers.values == {"a": "y"}
    assert answers.unknown_keys == ("alpha", "zeta")


def test_ask_is_used_for_unanswered_questions_and_re_asks_invalid_ones() -> None:
    manifest = _manifest(
        "  name: {validator: '[a-z]+', help: the name}\n  port: {type: int, default: 80}\n"
    )
    replies = iter(["BAD", "good"])
    asked: list[tuple[str, Any]] = []
    problems: list[str] = []

    def ask(name: str, question: Question, default: Any) -> Any:
        asked.append((name, default))
        return next(replies) if name == "name" else default

    answers = resolve_answers(
        manifest, {}, ask=ask, on_invalid=lambda name, msg: problems.append(name)
    )
    assert answers.values == {"name": "good", "port": 80}
    assert asked == [("name", None), ("name", None), ("port", 80)]
    assert problems == ["name"]


def test_broken_default_expression_is_a_manifest_error() -> None:
    manifest = _manifest("  a: {default: '{{ nothing_here }}'}\n")
    with pytest.raises(
        ManifestError, match=r"questions\.a\.default: .*'nothing_here' is undefined"
    ):
        resolve_answers(manifest, {})


def test_sandbox_applies_to_manifest_expressions() -> None:
    manifest = _manifest("  a: {default: \"{{ ''.__class__.__mro__ }}\"}\n")
    with pytest.raises(ManifestError, match="sandbox violation"):
        resolve_answers(manifest, {})


def test_invalid_answer_is_reported_not_the_defaults_that_use_it() -> None:
    manifest = _manifest(
        "  service_name: {validator: {regex: '[a-z_]+', message: lowercase please}}\n"
        "  description: {default: 'The {{ service_name }} service'}\n"
    )
    with pytest.raises(AnswerError, match="service_name: lowercase please"):
        resolve_answers(manifest, {"service_name": "Orders"})
