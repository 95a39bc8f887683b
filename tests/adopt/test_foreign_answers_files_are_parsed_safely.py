"""Hostile or broken `.copier-answers.yml` / `.cruft.json` files end in one ConsumerConfigError
naming the file, never a traceback, whatever their bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.consumer_formats import COPIER_ANSWERS, CRUFT_FILE, find_consumer_config
from bot.errors import ConsumerConfigError
from bot.tree import File


def _resolve(_source: str, _ref: str) -> str:
    return "a" * 40


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from([COPIER_ANSWERS, CRUFT_FILE]), data=st.binary(max_size=400))
def test_random_bytes_give_a_config_or_a_clear_error(name: str, data: bytes) -> None:
    try:
        found = find_consumer_config({name: File(data)}, resolve_ref=_resolve)
    except ConsumerConfigError as exc:
        assert exc.message.startswith(name) or name in exc.message
    else:
        assert found.path == name


def test_copier_answers_without_src_path_say_what_to_add() -> None:
    with pytest.raises(ConsumerConfigError, match="has no `_src_path`") as info:
        find_consumer_config({COPIER_ANSWERS: File(b"_commit: v1\nname: x\n")})
    assert info.value.hint and "_src_path" in info.value.hint


def test_copier_commit_is_pinned_through_the_resolver() -> None:
    seen: list[tuple[str, str]] = []

    def resolve(source: str, ref: str) -> str:
        seen.append((source, ref))
        return "b" * 40

    tree = {COPIER_ANSWERS: File(b"_commit: v1.2.0-3-gabc1234\n_src_path: gh:acme/tpl\nx: 1\n")}
    found = find_consumer_config(tree, resolve_ref=resolve)
    assert seen == [("gh:acme/tpl", "v1.2.0-3-gabc1234")]
    assert found.format == "copier"
    assert found.config.version.commit == "b" * 40
    assert found.config.version.ref == "v1.2.0-3-gabc1234"
    assert found.config.answers == {"x": 1}


def test_evobot_yml_wins_over_the_others() -> None:
    tree = {
        ".evobot.yml": File(b"template: /t\nversion: {commit: " + b"c" * 40 + b"}\n"),
        COPIER_ANSWERS: File(b"_src_path: x\n_commit: v1\n"),
    }
    assert find_consumer_config(tree).format == "evobot"


def test_cruft_skip_becomes_protect() -> None:
    data = (
        '{"template": "https://example.com/t.git", "commit": "' + "d" * 40 + '", '
        '"checkout": null, "context": {"cookiecutter": {"a": "1", "_template": "x"}}, '
        '"directory": null, "skip": ["settings.cfg", "docs/"]}'
    )
    found = find_consumer_config({CRUFT_FILE: File(data.encode())})
    assert found.config.protect == ["settings.cfg", "docs/"]
    assert found.config.answers == {"a": "1"}
