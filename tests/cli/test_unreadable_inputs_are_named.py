"""A file or directory evobot cannot read, a binary file where YAML is expected, or a
`--cache-dir` that is a file gets one paragraph naming the path, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import assert_clear_error, run_evobot, template_repo
from evobot_testing import build_file_tree
from unreadable_support import make_unreadable, reachable_dir, run_evobot_unprivileged

BINARY = bytes(range(256)) * 4
PLAIN_TEMPLATE = {
    "template.yml": "name: mini\nquestions:\n  service_name: {default: orders}\n",
    "files/README.md.jinja": "# {{ service_name }}\n",
    "files/sub/app.py": "x = 1\n",
}


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    yield from reachable_dir()


@pytest.fixture
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "EVOBOT_APP_ID", "EVOBOT_GITHUB_URL"):
        monkeypatch.delenv(name, raising=False)


# -- unreadable files and directories (run as an unprivileged user) -----------------------------


@pytest.mark.parametrize("unreadable", ["template.yml", "files/README.md.jinja", "files/sub", ""])
def test_render_names_an_unreadable_template_path(shared_dir: Path, unreadable: str) -> None:
    build_file_tree(shared_dir / "tpl", PLAIN_TEMPLATE)
    make_unreadable(shared_dir / "tpl" / unreadable)
    outcome = run_evobot_unprivileged(shared_dir, "render", "tpl", "out")
    assert_clear_error(outcome, f"tpl/{unreadable}".rstrip("/"))
    assert not (shared_dir / "out").exists()


def test_update_names_an_unreadable_evobot_yml(shared_dir: Path) -> None:
    build_file_tree(shared_dir / "svc", {".evobot.yml": "template: x\n"})
    make_unreadable(shared_dir / "svc" / ".evobot.yml")
    outcome = run_evobot_unprivileged(shared_dir, "update", "svc")
    assert_clear_error(outcome, "svc/.evobot.yml", "cannot read")


@pytest.mark.parametrize("unreadable", ["notes.txt", "docs"])
def test_update_names_an_unreadable_consumer_path(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    shared_dir: Path,
    unreadable: str,
) -> None:
    build_file_tree(shared_dir / "tpl", PLAIN_TEMPLATE)
    monkeypatch.chdir(shared_dir)
    assert run_evobot(capsys, "render", "tpl", "svc").code == 0
    build_file_tree(shared_dir / "svc", {"notes.txt": "mine\n", "docs/guide.md": "guide\n"})
    make_unreadable(shared_dir / "svc" / unreadable)
    outcome = run_evobot_unprivileged(shared_dir, "update", "svc")
    assert_clear_error(outcome, f"svc/{unreadable}", "cannot read")


# -- paths of the wrong kind (work the same for root) --------------------------------------------


@pytest.mark.usefixtures("_in_tmp")
@pytest.mark.parametrize(
    "args",
    [
        ["update", "svc", "--cache-dir", "afile"],
        ["update", "svc", "--cache-dir", "afile/cache"],
        ["verify", "svc", "--cache-dir", "afile"],
        ["pr", "open", "--repo", "o/r", "--cache-dir", "afile"],
    ],
)
def test_a_cache_dir_that_is_a_file_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str]
) -> None:
    template_repo(Path("tpl"))
    assert run_evobot(capsys, "render", "tpl", "svc").code == 0
    Path("afile").write_text("not a directory\n")
    outcome = run_evobot(capsys, *args)
    assert_clear_error(outcome, "--cache-dir", "afile", "not a directory")
    assert Path("afile").read_text() == "not a directory\n"


@pytest.mark.usefixtures("_in_tmp")
@pytest.mark.parametrize("policy", ["binary.bin", "adir", "afile/org.yml"])
@pytest.mark.parametrize("command", ["check", "pr"])
def test_an_org_policy_that_is_binary_or_not_a_file_is_named(
    capsys: pytest.CaptureFixture[str], policy: str, command: str
) -> None:
    build_file_tree(Path(), {"svc/app.py": "x = 1\n", "afile": "x\n", "binary.bin": BINARY})
    Path("adir").mkdir()
    if command == "check":
        args = ["check", "svc", "--no-cache", "--org-policy", policy]
    else:
        args = ["pr", "open", "--repo", "o/r", "--org-policy", policy]
    assert_clear_error(run_evobot(capsys, *args), policy)


@pytest.mark.usefixtures("_in_tmp")
@pytest.mark.parametrize("seed", ["seed.bin", "adir", "afile/seed.yml"])
def test_an_emulator_seed_that_is_binary_or_not_a_file_is_named(
    capsys: pytest.CaptureFixture[str], seed: str
) -> None:
    build_file_tree(Path(), {"seed.bin": BINARY, "afile": "x\n"})
    Path("adir").mkdir()
    outcome = run_evobot(
        capsys, "emulator", "serve", "--port", "0", "--state", "st", "--seed", seed
    )
    assert_clear_error(outcome, seed)


@pytest.mark.usefixtures("_in_tmp")
@pytest.mark.parametrize("data_file", ["binary.bin", "adir", "afile/answers.yml"])
def test_a_data_file_that_is_binary_or_not_a_file_is_named(
    capsys: pytest.CaptureFixture[str], data_file: str
) -> None:
    template_repo(Path("tpl"))
    build_file_tree(Path(), {"binary.bin": BINARY, "afile": "x\n"})
    Path("adir").mkdir()
    outcome = run_evobot(capsys, "render", "tpl", "out", "--data-file", data_file)
    assert_clear_error(outcome, data_file)
    assert not Path("out").exists()


@pytest.mark.usefixtures("_in_tmp")
def test_an_os_error_no_command_expected_still_names_its_path(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The safety net in `bot.cli.main`: a read that slipped past its command's own handling.
    import bot.consumer

    def refuse(text: str | bytes, *, source: str) -> None:
        raise PermissionError(13, "Permission denied", source)

    monkeypatch.setattr(bot.consumer, "parse_consumer_config", refuse)
    build_file_tree(Path("svc"), {".evobot.yml": "template: x\n"})
    assert_clear_error(run_evobot(capsys, "update", "svc"), "svc/.evobot.yml", "Permission denied")
