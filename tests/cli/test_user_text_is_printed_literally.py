"""Paths, names and messages are printed as they are: `:x:` is not an emoji, `[bold]` and `[/]`
are not markup, in errors and in ordinary output of every command."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import assert_clear_error, run_evobot, template_repo
from evobot_testing import build_file_tree

ODD = ["no:x:such:smile:dir", "a[bold]b", "c[/]d", "[red]e:thumbsup:"]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _no_emoji(text: str) -> None:
    # :x: is U+274C, :smile: U+1F604, :thumbsup: U+1F44D (table borders stay below U+2600)
    assert not [c for c in text if ord(c) >= 0x1F000 or 0x2600 <= ord(c) < 0x2800], text


@pytest.mark.parametrize("name", ODD)
def test_render_error_quotes_the_template_source_literally(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    outcome = run_evobot(capsys, "render", str(tmp_path / name), "d")
    assert_clear_error(outcome, name)
    _no_emoji(outcome.stderr)


@pytest.mark.parametrize("name", ODD)
@pytest.mark.parametrize("command", ["update", "check", "verify", "report"])
def test_errors_about_a_consumer_path_quote_it_literally(
    capsys: pytest.CaptureFixture[str], command: str, name: str
) -> None:
    outcome = run_evobot(capsys, command, name)
    assert_clear_error(outcome, name)
    _no_emoji(outcome.stderr)


@pytest.mark.parametrize("name", ODD)
def test_bad_evobot_yml_is_named_literally(capsys: pytest.CaptureFixture[str], name: str) -> None:
    build_file_tree(Path(name), {".evobot.yml": "{a: [\n"})
    for command in ("update", "check", "verify"):
        outcome = run_evobot(capsys, command, name)
        assert_clear_error(outcome, f"{name}/.evobot.yml")
        _no_emoji(outcome.stderr)


@pytest.mark.parametrize("name", ODD)
def test_render_and_update_output_name_the_destination_literally(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    template_repo(Path("tpl"), versions=2)
    rendered = run_evobot(capsys, "render", "tpl", name, "--vcs-ref", "v1.0.0")
    assert rendered.code == 0, rendered
    assert name in rendered.stdout
    _no_emoji(rendered.stdout + rendered.stderr)
    updated = run_evobot(capsys, "update", name)
    assert updated.code == 0, updated
    assert name in updated.stdout
    assert "docs/guide.md" in updated.stdout
    _no_emoji(updated.stdout + updated.stderr)


def test_check_findings_quote_paths_literally(capsys: pytest.CaptureFixture[str]) -> None:
    bad = "x:smile:[bold]y[/].py"
    build_file_tree(Path("svc"), {bad: "def broken(:\n"})
    outcome = run_evobot(capsys, "check", "svc", "--all", "--no-cache")
    assert bad in outcome.stdout, outcome
    _no_emoji(outcome.stdout)
