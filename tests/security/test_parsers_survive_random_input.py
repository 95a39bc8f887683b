"""Random bytes, random and deeply nested structures and random path names fed to the parsers
of `.evobot.yml`, `template.yml` and the bounded YAML/JSON loader: only an EvobotError (a message
for people) may come out, and every example finishes quickly."""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.consumer import parse_consumer_config
from bot.errors import EvobotError
from bot.parsing import load_json, load_yaml
from bot.template.manifest import parse_manifest

FUZZ = settings(
    max_examples=150,
    deadline=2000,  # ms: a bounded parser answers in far less, whatever it is given
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.binary(max_size=10)
)
keys = st.text(max_size=12) | st.integers()
structures = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=40,
)
# Nesting from shallow to far beyond any limit, in flow, block and mixed style.
depths = st.integers(min_value=1, max_value=20_000)
openers = st.sampled_from(["[", "{a: ", "- ", "? ", "{", "[{a: "])


@st.composite
def deep_yaml(draw: st.DrawFn) -> str:
    depth = draw(depths)
    opener = draw(openers)
    if opener == "- ":
        return "".join(f"{' ' * (2 * i)}- \n" for i in range(min(depth, 600))) + "x\n"
    return opener * depth + draw(st.sampled_from(["", "x", "]" * depth, "}" * depth]))


@st.composite
def alias_bombs(draw: st.DrawFn) -> str:
    width = draw(st.integers(1, 12))
    levels = draw(st.integers(1, 12))
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def _dump(value: Any) -> str:
    try:
        return yaml.safe_dump(value, allow_unicode=True)
    except yaml.YAMLError:
        return yaml.dump(value)  # bytes and other values safe_dump refuses: tagged YAML


def _config_like(value: Any, slot: str) -> dict[str, Any]:
    config: dict[str, Any] = {"template": "tpl", "version": {"commit": "ab12"}, "answers": {}}
    config[slot] = value
    return config


def _only_evobot_errors(parse: Any, data: str | bytes) -> None:
    try:
        parse(data)
    except EvobotError as exc:
        assert exc.message.strip()


def _parsers() -> list[Any]:
    return [
        lambda d: parse_consumer_config(d, source=".evobot.yml"),
        lambda d: parse_manifest(d, source="template.yml"),
        lambda d: load_yaml(d, source="doc.yml"),
        lambda d: load_json(d, source="doc.json"),
    ]


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(data: bytes) -> None:
    for parse in _parsers():
        _only_evobot_errors(parse, data)


@FUZZ
@given(st.text(max_size=500))
def test_random_text(text: str) -> None:
    for parse in _parsers():
        _only_evobot_errors(parse, text)


@FUZZ
@given(structures)
def test_random_structures(value: Any) -> None:
    text = _dump(value)
    for parse in _parsers()[:3]:
        _only_evobot_errors(parse, text)
    _only_evobot_errors(_parsers()[3], json.dumps(value, default=repr))


@FUZZ
@given(
    structures, st.sampled_from(["template", "version", "answers", "rollout", "protect", "checks"])
)
def test_random_structures_in_each_evobot_yml_key(value: Any, slot: str) -> None:
    _only_evobot_errors(parse_consumer_config, _dump(_config_like(value, slot)))


@FUZZ
@given(deep_yaml(), st.sampled_from(["", "template: ", "answers: ", "name: "]))
def test_deep_nesting(deep: str, prefix: str) -> None:
    for parse in _parsers()[:3]:
        _only_evobot_errors(parse, prefix + deep)
    _only_evobot_errors(_parsers()[3], deep.replace("{a: ", '{"a": '))


@FUZZ
@given(alias_bombs(), st.sampled_from(["", "answers:\n", "questions:\n"]))
def test_alias_bombs(bomb: str, prefix: str) -> None:
    text = prefix + "".join(f"  {line}\n" for line in bomb.splitlines()) if prefix else bomb
    for parse in _parsers()[:3]:
        _only_evobot_errors(parse, text)


paths = st.lists(
    st.text(st.characters(codec="utf-8"), max_size=6)
    | st.sampled_from(["/", "..", ".", "\\", "*", "{{", "}}", "~", ".git"]),
    max_size=8,
).map("".join)


@FUZZ
@given(
    name=st.text(max_size=30),
    files_dir=paths,
    globs=st.lists(paths, max_size=4),
    renames=st.dictionaries(paths, paths, max_size=3),
    questions=st.dictionaries(st.text(max_size=10), structures, max_size=3),
)
def test_manifest_with_random_names_and_paths(
    name: str,
    files_dir: str,
    globs: list[str],
    renames: dict[str, str],
    questions: dict[str, Any],
) -> None:
    manifest = {
        "name": name,
        "version": "1.0.0",
        "files_dir": files_dir,
        "exclude": globs,
        "skip_if_exists": globs,
        "questions": questions,
        "migrations": [{"version": "1.0.0", "renames": renames, "deletes": globs}],
    }
    _only_evobot_errors(parse_manifest, _dump(manifest))
