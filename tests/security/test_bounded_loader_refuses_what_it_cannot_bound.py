"""The bounded YAML/JSON loader: ordinary documents (anchors and merge keys included) load as
PyYAML and json would load them; documents beyond a limit are refused quickly, in one line that
names the file and the limit."""

from __future__ import annotations

import time

import pytest

from bot.errors import CheckError
from bot.parsing import (
    JSON_LIMITS,
    YAML_LIMITS,
    DocumentError,
    Limits,
    load_json,
    load_yaml,
    parse_json,
    parse_yaml,
)

DEPTH = YAML_LIMITS.max_depth


def _refused(parse: object, doc: str | bytes, says: str, **kw: object) -> None:
    start = time.monotonic()
    with pytest.raises(DocumentError) as info:
        parse(doc, **kw)  # type: ignore[operator]
    assert time.monotonic() - start < 2
    assert says in str(info.value)
    assert "\n" not in str(info.value)


def test_ordinary_yaml_with_anchors_and_merge_keys_loads() -> None:
    doc = "base: &b {a: 1, b: [x, y]}\nother:\n  <<: *b\n  c: 3\nsame: *b\n"
    assert parse_yaml(doc) == {
        "base": {"a": 1, "b": ["x", "y"]},
        "other": {"a": 1, "b": ["x", "y"], "c": 3},
        "same": {"a": 1, "b": ["x", "y"]},
    }


@pytest.mark.parametrize(("opener", "closer"), [("[", "]"), ("{a: ", "}")])
def test_yaml_nesting_up_to_the_limit_loads_and_one_more_is_refused(
    opener: str, closer: str
) -> None:
    parse_yaml(opener * DEPTH + "1" + closer * DEPTH)
    _refused(parse_yaml, opener * (DEPTH + 1) + "1" + closer * (DEPTH + 1), f"deeper than {DEPTH}")


def test_block_style_nesting_is_counted_too() -> None:
    doc = "".join(f"{'  ' * i}- \n" for i in range(DEPTH + 1)) + "x\n"
    _refused(parse_yaml, doc, f"nested deeper than {DEPTH} levels")


def test_nesting_hidden_behind_an_alias_is_counted() -> None:
    half = DEPTH // 2 + 1
    doc = f"a: &a {'[' * half}{']' * half}\nb: {'[' * half}*a{']' * half}\n"
    _refused(parse_yaml, doc, f"nested deeper than {DEPTH} levels")


def test_billion_laughs_is_refused() -> None:
    doc = "a: &a [" + ", ".join(["lol"] * 10) + "]\n"
    for i in range(1, 10):
        doc += f"l{i}: &l{i} [" + ", ".join([f"*{'a' if i == 1 else f'l{i - 1}'}"] * 10) + "]\n"
    _refused(parse_yaml, doc, "too many aliases")


def test_more_aliases_than_the_limit_are_refused() -> None:
    limits = Limits(max_bytes=YAML_LIMITS.max_bytes, max_aliases=5)
    parse_yaml("a: &a 1\nb: [*a, *a, *a, *a, *a]\n", limits=limits)
    _refused(
        parse_yaml, "a: &a 1\nb: [*a, *a, *a, *a, *a, *a]\n", "too many aliases", limits=limits
    )


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    _refused(parse_yaml, "a: &me [1, {b: *me}]\n", "alias *me refers to its own anchor")


@pytest.mark.parametrize("parse", [parse_yaml, parse_json])
def test_a_document_over_the_size_limit_is_refused_before_parsing(parse: object) -> None:
    limit = YAML_LIMITS.max_bytes if parse is parse_yaml else JSON_LIMITS.max_bytes
    _refused(parse, b'"' + b"x" * limit + b'"', f"larger than {limit} bytes")


def test_huge_integers_are_refused_quickly() -> None:
    _refused(parse_yaml, "x: 1" + ":59" * 300_000, "integer longer than")
    _refused(parse_yaml, "x: " + "9" * 5000, "not valid YAML")
    _refused(parse_json, "[" + "9" * 5000 + "]", "not valid JSON")


def test_json_nesting_up_to_the_limit_loads_and_one_more_is_refused() -> None:
    parse_json("[" * DEPTH + "]" * DEPTH)
    _refused(parse_json, '{"a": ' * (DEPTH + 1) + "1" + "}" * (DEPTH + 1), f"deeper than {DEPTH}")
    _refused(parse_json, "[" * 100_000, f"nested deeper than {DEPTH} levels")


def test_brackets_inside_json_strings_do_not_count() -> None:
    brackets = "[" * (DEPTH * 3)
    assert parse_json(f'["{brackets}", "a\\"{brackets}"]') == [brackets, f'a"{brackets}']


def test_unterminated_json_strings_are_refused_in_linear_time() -> None:
    # The quadratic skipping of strings this replaced took about 7 s here.
    _refused(parse_json, '"' + '\\"' * 30_000, "not valid JSON")


def test_non_utf8_json_is_refused() -> None:
    _refused(parse_json, b"\xff\xfe\xfa", "not valid JSON")


def test_errors_name_the_source_and_take_the_callers_error_type() -> None:
    with pytest.raises(CheckError, match=r"^org\.yml: nested deeper than"):
        load_yaml("[" * 1000, source="org.yml", error=CheckError)
    with pytest.raises(CheckError, match=r"^p\.json: not valid JSON"):
        load_json("{", source="p.json", error=CheckError)
