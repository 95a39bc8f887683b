"""Deeply nested, self-referencing or alias-exploding YAML and JSON in any file evobot reads
(`.evobot.yml`, `template.yml`, an org policy, `--data-file`, the provenance file) is refused in
one paragraph naming the file and the limit: no RecursionError traceback, no memory blow-up, in
well under a few seconds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cli_helpers import Outcome, assert_clear_error, run_evobot, template_repo
from evobot_testing import build_file_tree

from bot.parsing import YAML_LIMITS

DEEP = 100_000
LOL = '["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
# Billion laughs: nine levels of nine aliases each, 9**9 "lol"s once expanded.
LAUGHS = (
    "a: &a "
    + LOL
    + "\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
    )
)

# (a YAML value, what the error says about it)
HOSTILE: dict[str, tuple[str, str]] = {
    "deep-list": ("[" * DEEP, f"nested deeper than {YAML_LIMITS.max_depth} levels"),
    "deep-map": ("{a: " * DEEP, f"nested deeper than {YAML_LIMITS.max_depth} levels"),
    "deep-block": (
        "".join(f"\n{' ' * i}- " for i in range(0, 400, 2)) + "x",
        f"nested deeper than {YAML_LIMITS.max_depth} levels",
    ),
    "self-alias": ("&me [*me]", "alias *me refers to its own anchor"),
    "huge": ("x" * (YAML_LIMITS.max_bytes + 1), f"larger than {YAML_LIMITS.max_bytes} bytes"),
}
CONFIG = "version: {{commit: abc, ref: v1.0.0}}\nanswers: {{}}\ntemplate: {value}\n"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _timed(capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    start = time.monotonic()
    outcome = run_evobot(capsys, *args)
    assert time.monotonic() - start < 5, f"evobot {args[0]} took too long"
    return outcome


def _refused(outcome: Outcome, *fragments: str) -> None:
    assert_clear_error(outcome, *fragments)
    assert "RecursionError" not in outcome.stderr
    assert "\n\n" not in outcome.stderr.strip(), "one paragraph"


def _laughs_config() -> str:
    return (
        "template: x\nversion: {commit: abc}\nanswers:\n"
        + "".join(f"  {line}\n" for line in LAUGHS.splitlines())
        + "  boom: *i\n"
    )


@pytest.mark.parametrize("command", ["update", "verify", "check"])
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_evobot_yml_is_refused(
    capsys: pytest.CaptureFixture[str], command: str, kind: str
) -> None:
    value, says = HOSTILE[kind]
    build_file_tree(Path("svc"), {".evobot.yml": CONFIG.format(value=value)})
    _refused(_timed(capsys, command, "svc"), "svc/.evobot.yml", says)


@pytest.mark.parametrize("command", ["update", "verify", "check"])
def test_billion_laughs_in_evobot_yml_is_refused(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    build_file_tree(Path("svc"), {".evobot.yml": _laughs_config()})
    _refused(_timed(capsys, command, "svc"), "svc/.evobot.yml", "too many aliases")


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_template_yml_is_refused_by_render(
    capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    value, says = HOSTILE[kind]
    build_file_tree(Path("tpl"), {"template.yml": f"name: {value}\n", "files/a.txt": "a\n"})
    _refused(_timed(capsys, "render", "tpl", "out"), "tpl/template.yml", says)
    assert not Path("out").exists()


def test_billion_laughs_in_template_yml_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    manifest = LAUGHS + "name: mini\n"
    build_file_tree(Path("tpl"), {"template.yml": manifest, "files/a.txt": "a\n"})
    _refused(_timed(capsys, "render", "tpl", "out"), "tpl/template.yml", "too many aliases")


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_data_file_is_refused_by_render(
    capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    value, says = HOSTILE[kind]
    template_repo(Path("tpl"))
    build_file_tree(Path(), {"answers.yml": f"service_name: {value}\n"})
    outcome = _timed(capsys, "render", "tpl", "out", "--data-file", "answers.yml")
    _refused(outcome, "answers.yml", says)
    assert not Path("out").exists()


def test_deep_json_data_file_is_refused_by_render(capsys: pytest.CaptureFixture[str]) -> None:
    template_repo(Path("tpl"))
    build_file_tree(Path(), {"answers.json": '{"service_name": ' + '{"a": ' * DEEP})
    outcome = _timed(capsys, "render", "tpl", "out", "--data-file", "answers.json")
    _refused(outcome, "answers.json", "nested deeper than")


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_org_policy_is_refused_by_check(
    capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    value, says = HOSTILE[kind]
    build_file_tree(Path(), {"svc/app.py": "x = 1\n", "org.yml": f"checkers: {value}\n"})
    outcome = _timed(capsys, "check", "svc", "--no-cache", "--org-policy", "org.yml")
    _refused(outcome, "org.yml", says)


def test_billion_laughs_org_policy_is_refused_by_check_and_pr_open(
    capsys: pytest.CaptureFixture[str],
) -> None:
    build_file_tree(Path(), {"svc/app.py": "x = 1\n", "org.yml": LAUGHS})
    outcome = _timed(capsys, "check", "svc", "--no-cache", "--org-policy", "org.yml")
    _refused(outcome, "org.yml", "too many aliases")
    # `pr open` reads the org policy before it needs credentials or GitHub.
    outcome = _timed(capsys, "pr", "open", "--repo", "o/r", "--org-policy", "org.yml")
    _refused(outcome, "org.yml", "too many aliases")


def test_deep_provenance_file_is_reported_not_crashed_on_by_verify(
    capsys: pytest.CaptureFixture[str],
) -> None:
    template_repo(Path("tpl"))
    assert run_evobot(capsys, "render", "tpl", "svc").code == 0
    Path("svc/.evobot/provenance.json").write_text('{"a": ' * DEEP)
    outcome = _timed(capsys, "verify", "svc")
    assert outcome.code != 0, outcome
    assert "Traceback" not in outcome.stderr + outcome.stdout
    assert "nested deeper than" in _flat(outcome.stdout + outcome.stderr)


def _flat(text: str) -> str:
    """Output with the terminal's line wrapping undone."""
    return " ".join(text.split())


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_emulator_seed_is_refused(capsys: pytest.CaptureFixture[str], kind: str) -> None:
    value, says = HOSTILE[kind]
    build_file_tree(Path(), {"seed.yml": f"repos: {value}\n"})
    outcome = _timed(
        capsys, "emulator", "serve", "--port", "0", "--state", "st", "--seed", "seed.yml"
    )
    _refused(outcome, "seed.yml", says)
