"""Careless or hostile input to any `evobot` command gets one message naming what is wrong and
where, a non-zero exit, and no traceback."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from cli_helpers import assert_clear_error, run_evobot, template_repo
from evobot_testing import build_file_tree, git_commit_all

CONFIG = "template: {template}\nversion: {{commit: abc, ref: v1.0.0}}\nanswers: {{}}\n"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "EVOBOT_APP_ID", "EVOBOT_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    for name in ("EVOBOT_PRIVATE_KEY", "EVOBOT_PRIVATE_KEY_FILE", "EVOBOT_GITHUB_URL"):
        monkeypatch.delenv(name, raising=False)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# -- render ------------------------------------------------------------------------------------


def test_render_names_a_missing_template(capsys: pytest.CaptureFixture[str]) -> None:
    assert_clear_error(run_evobot(capsys, "render", "no-such-template", "out"), "no-such-template")
    assert not Path("out").exists()


def test_render_names_a_directory_without_template_yml(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("plain").mkdir()
    assert_clear_error(run_evobot(capsys, "render", "plain", "out"), "plain/template.yml")


def test_render_names_a_version_the_template_does_not_have(
    capsys: pytest.CaptureFixture[str],
) -> None:
    template_repo(Path("tpl"))
    outcome = run_evobot(capsys, "render", "tpl", "out", "--vcs-ref", "v9.9.9")
    assert_clear_error(outcome, "v9.9.9")
    assert not Path("out").exists()


def test_render_names_a_jinja_error_in_template_yml(capsys: pytest.CaptureFixture[str]) -> None:
    build_file_tree(Path("tpl"), {"template.yml": "name: t\nquestions:\n  a: {default: '{{ x'}\n"})
    assert_clear_error(run_evobot(capsys, "render", "tpl", "out"), "tpl/template.yml", "a")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--data", "foo"], ["--data 'foo'", "NAME=VALUE"]),
        (["--data-file", "missing.yml"], ["missing.yml", "cannot read"]),
        (["--data-file", "garbage.yml"], ["garbage.yml", "not valid YAML"]),
        (["--data-file", "list.yml"], ["list.yml", "mapping"]),
    ],
)
def test_render_names_bad_answers_input(
    capsys: pytest.CaptureFixture[str], args: list[str], fragments: list[str]
) -> None:
    template_repo(Path("tpl"))
    build_file_tree(Path(), {"garbage.yml": "{a: [\n", "list.yml": "- a\n"})
    assert_clear_error(run_evobot(capsys, "render", "tpl", "out", *args), *fragments)
    assert not Path("out").exists()


def test_render_quotes_brackets_in_paths_literally(capsys: pytest.CaptureFixture[str]) -> None:
    # Rich would read `[/]` as markup and crash, or swallow `[red]`, hiding the real path.
    assert_clear_error(run_evobot(capsys, "render", "tpl[/]", "out"), "tpl[/]")
    assert_clear_error(run_evobot(capsys, "render", "tpl[red]x", "out"), "tpl[red]x")


def test_render_output_prints_a_bracketed_destination(
    capsys: pytest.CaptureFixture[str],
) -> None:
    template_repo(Path("tpl"))
    outcome = run_evobot(capsys, "render", "tpl", "out[/]")
    assert outcome.code == 0, outcome
    assert "out[/]" in outcome.stdout


# -- update, check, report, verify: .evobot.yml ------------------------------------------------


@pytest.mark.parametrize("command", ["update", "check", "verify"])
@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("", "must be a mapping"),
        ("{a: [\n", "not valid YAML"),
        ("- a\n", "must be a mapping"),
        ("template: x\nversion: {commit: abc}\nanswers: 5\n", "answers"),
        ("template: x\nversion: {commit: abc}\nbogus: 1\n", "bogus"),
    ],
)
def test_consumer_config_errors_name_the_file_and_key(
    capsys: pytest.CaptureFixture[str], command: str, content: str, fragment: str
) -> None:
    build_file_tree(Path("svc"), {".evobot.yml": content})
    outcome = run_evobot(capsys, command, "svc")
    assert_clear_error(outcome, ".evobot.yml", fragment)


@pytest.mark.parametrize("command", ["update", "check", "verify", "report"])
def test_a_missing_or_file_path_is_named(capsys: pytest.CaptureFixture[str], command: str) -> None:
    Path("afile").write_text("x")
    assert_clear_error(run_evobot(capsys, command, "nowhere"), "nowhere")
    assert_clear_error(run_evobot(capsys, command, "afile"), "afile")


def test_a_directory_in_place_of_evobot_yml_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    Path("svc/.evobot.yml").mkdir(parents=True)
    assert_clear_error(run_evobot(capsys, "update", "svc"), "svc/.evobot.yml", "is a directory")


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("/no/such/template", "`template:` in the consumer's .evobot.yml"),
        ("{plain}", "template.yml"),
    ],
)
def test_update_names_a_template_source_it_cannot_use(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, template: str, fragment: str
) -> None:
    Path("plain").mkdir()
    config = CONFIG.format(template=template.format(plain=tmp_path / "plain"))
    build_file_tree(Path("svc"), {".evobot.yml": config})
    assert_clear_error(run_evobot(capsys, "update", "svc"), fragment)


def test_update_names_a_recorded_commit_the_template_lacks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    template_repo(Path("tpl"), versions=2)
    config = CONFIG.format(template=tmp_path / "tpl").replace("abc", "deadbeef" * 5)
    build_file_tree(Path("svc"), {".evobot.yml": config})
    outcome = run_evobot(capsys, "update", "svc")
    assert_clear_error(outcome, "deadbeef" * 5, "version.commit", ".evobot.yml")
    assert Path("svc/.evobot.yml").read_text() == config


@pytest.mark.parametrize(
    ("checks", "fragments"),
    [
        ("block_on: huge\n", [".evobot.yml: checks.block_on"]),
        ("checkers: [ruff]\n", [".evobot.yml: checks.checkers"]),
        ("checkers: 5\n", [".evobot.yml: checks.checkers"]),
        ("checkers: {ruff: {options: 5}}\n", [".evobot.yml: checks.checkers.ruff.options"]),
        ("checkers: {nosuch: false}\n", ["checks.checkers.nosuch", "no such checker"]),
        ("ignore: 5\n", [".evobot.yml: checks.ignore"]),
        ("ignore: {a: 1}\n", [".evobot.yml: checks.ignore"]),
        ("ignore: [{checker: ruff, rule: X}]\n", ["ignore.0.reason"]),
    ],
)
def test_check_names_a_bad_policy_key(
    capsys: pytest.CaptureFixture[str], checks: str, fragments: list[str]
) -> None:
    indented = "".join(f"  {line}\n" for line in checks.splitlines())
    config = CONFIG.format(template="x") + "checks:\n" + indented
    build_file_tree(Path("svc"), {".evobot.yml": config, "app.py": "x = 1\n"})
    assert_clear_error(run_evobot(capsys, "check", "svc", "--all", "--no-cache"), *fragments)


def test_check_names_a_bad_org_policy_file(capsys: pytest.CaptureFixture[str]) -> None:
    policy = "checkers: {ruff: {options: 7}}\n"
    build_file_tree(Path(), {"svc/app.py": "x = 1\n", "org.yml": policy})
    outcome = run_evobot(capsys, "check", "svc", "--no-cache", "--org-policy", "org.yml")
    assert_clear_error(outcome, "org.yml", "checkers.ruff.options")
    missing = run_evobot(capsys, "check", "svc", "--no-cache", "--org-policy", "nope.yml")
    assert_clear_error(missing, "nope.yml")


# -- pr open, pr revert --------------------------------------------------------------------------


def test_pr_open_without_credentials_says_which_to_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    outcome = run_evobot(capsys, "pr", "open", "--repo", "o/r")
    assert_clear_error(outcome, "no GitHub credentials", "GITHUB_TOKEN")


def test_pr_open_names_a_malformed_private_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVOBOT_APP_ID", "1")
    monkeypatch.setenv("EVOBOT_PRIVATE_KEY", "not a key")
    outcome = run_evobot(capsys, "pr", "open", "--repo", "o/r", "--base-url", "http://127.0.0.1:9")
    assert_clear_error(outcome, "private key")
    assert "not a key" not in outcome.stderr


@pytest.mark.parametrize("repo", ["nonsense", "a/b/c", "/"])
def test_pr_commands_name_a_bad_repo(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, repo: str
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    url = f"http://127.0.0.1:{_closed_port()}"
    assert_clear_error(run_evobot(capsys, "pr", "open", "--repo", repo, "--base-url", url), repo)
    revert = run_evobot(capsys, "pr", "revert", "--repo", repo, "--pr", "1", "--base-url", url)
    assert_clear_error(revert, repo)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("notaurl", "http:// or https://"),
        ("ftp://example.com", "http:// or https://"),
        ("http://127.0.0.1:99999", "port"),
        ("https://", "names no host"),
    ],
)
def test_pr_commands_name_a_bad_base_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str, fragment: str
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    outcome = run_evobot(capsys, "pr", "open", "--repo", "o/r", "--base-url", url)
    assert_clear_error(outcome, "GitHub API URL", fragment, "--base-url")


def test_pr_open_names_the_unreachable_host(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("EVOBOT_RETRY_BACKOFF", "0")  # retried as often as ever, without waiting
    port = _closed_port()
    started = time.monotonic()
    outcome = run_evobot(
        capsys,
        "pr",
        "revert",
        "--repo",
        "o/r",
        "--pr",
        "3",
        "--base-url",
        f"http://127.0.0.1:{port}",
    )
    assert_clear_error(outcome, f"127.0.0.1:{port}", "after 5 attempts")
    assert "t0ken" not in outcome.stderr
    assert time.monotonic() - started < 5.0  # the default backoff waits about 11 s in all


@pytest.mark.parametrize("value", ["-1", "soon", "nan", "61"])
def test_a_bad_retry_backoff_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("EVOBOT_RETRY_BACKOFF", value)
    outcome = run_evobot(capsys, "pr", "revert", "--repo", "o/r", "--pr", "3")
    assert_clear_error(outcome, "EVOBOT_RETRY_BACKOFF", repr(value))


def test_pr_open_names_a_bad_org_policy_before_calling_github(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    Path("org.yml").write_text("block_on: huge\n")
    url = f"http://127.0.0.1:{_closed_port()}"
    outcome = run_evobot(
        capsys, "pr", "open", "--repo", "o/r", "--base-url", url, "--org-policy", "org.yml"
    )
    assert_clear_error(outcome, "org.yml", "block_on")


# -- emulator serve, demo ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "fragment"),
    [("{\n", "not valid YAML"), ("repos: 5\n", "repos"), ("- 1\n", "seed.yml")],
)
def test_emulator_serve_names_a_bad_seed(
    capsys: pytest.CaptureFixture[str], seed: str, fragment: str
) -> None:
    Path("seed.yml").write_text(seed)
    outcome = run_evobot(
        capsys, "emulator", "serve", "--port", "0", "--state", "st", "--seed", "seed.yml"
    )
    assert_clear_error(outcome, "seed.yml", fragment)


def test_emulator_serve_names_a_seed_repo_that_is_not_git(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("plain").mkdir()
    Path("seed.yml").write_text("repos:\n  - full_name: o/r\n    from_git: plain\n")
    outcome = run_evobot(
        capsys, "emulator", "serve", "--port", "0", "--state", "st", "--seed", "seed.yml"
    )
    assert_clear_error(outcome, "o/r", "from_git")


def test_emulator_serve_names_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        outcome = run_evobot(capsys, "emulator", "serve", "--port", port, "--state", "st")
    assert_clear_error(outcome, f"127.0.0.1:{port}", "--port")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--port", "99999"], "99999"), (["--port", "0", "--host", "999.1.1.1"], "999.1.1.1")],
)
def test_emulator_serve_names_an_address_it_cannot_bind(
    capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    outcome = run_evobot(capsys, "emulator", "serve", *args, "--state", "st")
    assert_clear_error(outcome, fragment)


@pytest.mark.parametrize(
    ("state", "fragment"),
    [("afile", "is a file"), ("garbage", "state.json"), ("listed", "state.json")],
)
def test_emulator_serve_names_a_state_it_cannot_resume(
    capsys: pytest.CaptureFixture[str], state: str, fragment: str
) -> None:
    Path("afile").write_text("x")
    build_file_tree(Path(), {"garbage/state.json": "{\n", "listed/state.json": "[1]\n"})
    outcome = run_evobot(capsys, "emulator", "serve", "--port", "0", "--state", state)
    assert_clear_error(outcome, state, fragment)


@pytest.mark.parametrize("where", ["afile", "afile/below"])
def test_demo_names_a_dir_it_cannot_use(capsys: pytest.CaptureFixture[str], where: str) -> None:
    Path("afile").write_text("x")
    outcome = run_evobot(capsys, "demo", "--dir", where, "--skip-service-checks")
    assert_clear_error(outcome, where)
    assert "left for inspection" not in outcome.stderr


@pytest.mark.parametrize(
    ("checker", "setting"), [("ruff", "select"), ("bandit", "skips"), ("validator", "x")]
)
def test_check_refuses_options_a_checker_does_not_read(
    capsys: pytest.CaptureFixture[str], checker: str, setting: str
) -> None:
    # An option nobody reads would otherwise be silently ignored: it is refused when the policy
    # loads, naming the file and the key, before any checker runs.
    checks = f"checks:\n  checkers: {{{checker}: {{options: {{{setting}: 5}}}}}}\n"
    build_file_tree(
        Path("svc"), {".evobot.yml": CONFIG.format(template="x") + checks, "app.py": "x = 1\n"}
    )
    outcome = run_evobot(capsys, "check", "svc", "--all", "--no-cache")
    assert outcome.code == 1
    assert "Traceback" not in outcome.stderr
    assert (
        f"error: .evobot.yml: checks.checkers.{checker}.options.{setting}: unknown key\n"
        f"hint: the {checker} checker's options are: max_file_bytes" in outcome.stderr
    )


def test_update_missing_a_new_answer_points_at_evobot_yml_not_data(
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = template_repo(Path("tpl"))
    build_file_tree(repo, {"template.yml": "name: mini\nquestions:\n  port: {type: int}\n"})
    git_commit_all(repo, "v2", tag="v2.0.0")
    assert run_evobot(capsys, "render", "tpl", "svc", "--vcs-ref", "v1.0.0").code == 0
    before = Path("svc/.evobot.yml").read_text()
    outcome = run_evobot(capsys, "update", "svc")
    assert_clear_error(outcome, ".evobot.yml", "v2.0.0", "missing answers: port")
    assert "--data" not in outcome.stderr  # `update` has no such option
    assert Path("svc/.evobot.yml").read_text() == before


def test_render_says_a_bad_answer_once(capsys: pytest.CaptureFixture[str]) -> None:
    build_file_tree(Path("tpl"), {"template.yml": "name: t\nquestions:\n  port: {type: int}\n"})
    outcome = run_evobot(capsys, "render", "tpl", "svc", "--data", "port=abc")
    assert_clear_error(outcome, "port: expected an integer, got 'abc'")
    assert outcome.stderr.count("'abc'") == 1
    assert not Path("svc").exists()


def test_render_blames_an_invalid_default_on_the_template(
    capsys: pytest.CaptureFixture[str],
) -> None:
    manifest = "name: t\nquestions:\n  port: {type: int, default: abc}\n"
    build_file_tree(Path("tpl"), {"template.yml": manifest})
    outcome = run_evobot(capsys, "render", "tpl", "svc")
    assert_clear_error(outcome, "port: expected an integer", "template.yml questions.port.default")
    assert not Path("svc").exists()
