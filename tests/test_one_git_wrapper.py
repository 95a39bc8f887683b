"""Every git process evobot starts goes through `bot.git.Git`, and it is locked down.

A failing call says which git command failed and what git said, with credentials hidden; a hung
call stops at its timeout with everything it started; the user's own git config cannot make
evobot run hooks or a file-system monitor, nor can variables set by a surrounding git hook point
evobot at another repository. And no module of `bot/` but `bot/git.py` runs git itself.
"""

from __future__ import annotations

import ast
import stat
import subprocess
import time
from pathlib import Path

import pytest
from evobot_testing import REPO_ROOT, build_file_tree, git, git_commit_all, git_init

from bot.errors import EvobotError, MergeError
from bot.git import Git, GitError, GitPort
from bot.report.gitio import GitReadError, work_tree

TOKEN = "ghs_HeaderTokenNeverShown"
PASSWORD = "pa55word-in-a-url"


def _repo(tmp_path: Path) -> Path:
    repo = git_init(tmp_path / "repo")
    build_file_tree(repo, {"README.md": "hello\n"})
    git_commit_all(repo, "first")
    return repo


# -- errors -------------------------------------------------------------------------------------


def test_a_failing_call_names_the_command_and_what_git_said_without_credentials(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path)
    gitter = Git(repo, headers=[f"Authorization: Bearer {TOKEN}"])
    # git echoes an unknown revision back in its error: here, both kinds of secret.
    leaky = f"https://user:{PASSWORD}@example.invalid/x.git?token={TOKEN}"
    with pytest.raises(GitError) as info:
        gitter.run("log", TOKEN, "--")
    with pytest.raises(GitError) as info_url:
        gitter.run("log", leaky, "--")

    for error in (info.value, info_url.value):
        text = error.diagnostics()
        assert text.startswith(f"{repo}: git log failed: fatal: bad revision '")
        assert TOKEN not in text and PASSWORD not in text
        assert TOKEN not in error.stderr and PASSWORD not in error.stderr
        assert "Traceback" not in text
        assert error.returncode == 128
    assert "bad revision '***'" in info.value.message
    assert "https://example.invalid/x.git?token=***" in info_url.value.message


def test_a_failure_raises_the_callers_error_class(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    with pytest.raises(MergeError, match=r": git rev-parse failed: "):
        Git(repo, error=MergeError).run("rev-parse", "--verify", "no-such-branch")
    with pytest.raises(GitReadError) as info:  # a GitError family: carries git's answer
        Git(repo, error=GitReadError, where="the consumer").text("cat-file", "-t", "0" * 40)
    assert info.value.message.startswith("the consumer: git cat-file failed: ")
    assert isinstance(info.value, EvobotError) and info.value.returncode == 128


def test_check_false_returns_the_answer_and_failure_converts_it_later(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    gitter: GitPort = Git(repo)
    result = gitter.run("rev-parse", "--verify", "-q", "nope", check=False)
    assert not result.ok and result.returncode == 1 and result.stdout == b""
    assert gitter.try_text("rev-parse", "--verify", "-q", "nope") is None
    assert gitter.try_text("rev-parse", "--abbrev-ref", "HEAD") == "main"
    error = Git(repo, where="here").failure(result, "rev-parse")
    assert error.message == "here: git rev-parse failed with exit status 1"


def test_a_hung_git_stops_at_its_timeout_with_everything_it_started(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    # A shell alias stands in for a hung remote helper: a child of git holding git's pipes.
    slow = Git(repo, config=["alias.hang=!sleep 30"], timeout=0.5, where="the template")
    started = time.monotonic()
    with pytest.raises(GitError, match=r"^the template: git hang timed out after 0\.5 s$"):
        slow.run("hang")
    assert time.monotonic() - started < 10


def test_git_missing_from_path_is_said_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GitError, match="git status failed: git is not installed"):
        Git(repo).run("status")


# -- headers --------------------------------------------------------------------------------


def test_headers_travel_in_the_environment_and_stop_redirects() -> None:
    header = f"Authorization: Bearer {TOKEN}"
    with_headers = Git(headers=[header])
    argv = with_headers.argv(["fetch", "--", "https://example.invalid/x.git"])
    assert not any(TOKEN in arg for arg in argv)
    assert "http.followRedirects=false" in argv
    env = with_headers.environment()
    assert env["GIT_CONFIG_COUNT"] == "1"
    assert (env["GIT_CONFIG_KEY_0"], env["GIT_CONFIG_VALUE_0"]) == ("http.extraHeader", header)
    assert "http.followRedirects=false" not in Git().argv(["fetch"])
    assert "GIT_CONFIG_COUNT" not in Git().environment()


# -- the environment is ours --------------------------------------------------------------------


def _hostile_global_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A global git config whose hooks and fsmonitor leave a file in ``marks``; returns marks."""
    marks = tmp_path / "marks"
    marks.mkdir()
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in ("pre-commit", "post-commit", "reference-transaction", "post-checkout"):
        hook = hooks / name
        hook.write_text(f"#!/bin/sh\ntouch {marks}/{name}\n")
        hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    monitor = tmp_path / "fsmonitor"
    monitor.write_text(f"#!/bin/sh\ntouch {marks}/fsmonitor\nexit 1\n")
    monitor.chmod(monitor.stat().st_mode | stat.S_IXUSR)
    config = tmp_path / "hostile.gitconfig"
    config.write_text(f"[core]\n\thooksPath = {hooks}\n\tfsmonitor = {monitor}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    return marks


def test_hooks_and_fsmonitor_from_the_users_config_never_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path)
    marks = _hostile_global_config(tmp_path, monkeypatch)
    build_file_tree(repo, {"new.txt": "new\n"})

    gitter = Git(repo, config=["commit.gpgsign=false"])
    gitter.run("status", "--porcelain")
    gitter.run("add", "--all")
    gitter.run("commit", "--quiet", "--message", "by evobot")
    gitter.run("update-ref", "refs/heads/copy", "HEAD")
    assert sorted(work_tree(repo)) == ["README.md", "new.txt"]  # the report's reader
    assert sorted(p.name for p in marks.iterdir()) == []

    # The same config does run them for plain git: the test would see it happen.
    git(repo, "commit", "--quiet", "--allow-empty", "--message", "by hand")
    git(repo, "status", "--porcelain")
    assert {"pre-commit", "fsmonitor"} <= {p.name for p in marks.iterdir()}


def test_variables_of_a_surrounding_git_hook_do_not_redirect_evobot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path)
    other = _repo(tmp_path / "other")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'alias.status'='!touch pwned'")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.hooksPath")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(tmp_path))
    gitter = Git(repo)
    assert Path(gitter.text("rev-parse", "--absolute-git-dir")) == repo / ".git"
    assert gitter.try_text("config", "--get", "core.hooksPath") == "/dev/null"
    env = gitter.environment()
    assert "GIT_DIR" not in env and "GIT_CONFIG_PARAMETERS" not in env
    assert env["GIT_TERMINAL_PROMPT"] == "0" and env["GIT_CONFIG_NOSYSTEM"] == "1"


# -- one wrapper --------------------------------------------------------------------------------

_PROCESS_CALLS = (
    {("subprocess", name) for name in ("run", "Popen", "call", "check_call", "check_output")}
    | {
        ("os", name)
        for name in ("system", "popen", "execv", "execvp", "execvpe", "execl", "execlp", "spawnv")
    }
    | {
        ("asyncio", "create_subprocess_exec"),
        ("asyncio", "create_subprocess_shell"),
    }
)


def _starts_processes(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in _PROCESS_CALLS
        ):
            return True
        if isinstance(node, ast.ImportFrom) and any(
            (node.module, alias.name) in _PROCESS_CALLS for alias in node.names
        ):
            return True
    return False


def _names_git(tree: ast.AST) -> bool:
    """Whether the module holds "git" as a program name: the word alone or a command line."""
    return any(
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (node.value == "git" or node.value.startswith("git "))
        for node in ast.walk(tree)
    )


def git_runners(root: Path) -> list[str]:
    """Modules under ``root`` (but bot/git.py) that start processes and name git."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "git.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        if _starts_processes(tree) and _names_git(tree):
            found.append(path.relative_to(root.parent).as_posix())
    return found


def test_no_module_but_bot_git_runs_git() -> None:
    assert git_runners(REPO_ROOT / "bot") == [], (
        "run git through bot.git.Git (one locked-down environment, one error conversion)"
    )


def test_the_scan_finds_a_seventh_wrapper(tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    build_file_tree(
        bot,
        {
            "git.py": "import subprocess\nsubprocess.run(['git', 'status'])\n",
            "ok.py": "import subprocess\nsubprocess.run(['ruff', 'check'])\n",
            "a.py": "import subprocess\ndef f(*a):\n    return subprocess.run(['git', *a])\n",
            "b.py": "from subprocess import Popen\nPopen('git log', shell=True)\n",
            "c.py": "import asyncio, subprocess\nasyncio.to_thread(subprocess.run, ['git'])\n",
            "d.py": "import os\nos.system('git gc')\n",
        },
    )
    assert git_runners(bot) == ["bot/a.py", "bot/b.py", "bot/c.py", "bot/d.py"]


def test_the_wrapper_itself_runs_real_git(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    head = Git(repo).text("rev-parse", "HEAD")
    plain = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    )
    assert head == plain.stdout.strip()
    assert (
        Git(repo)
        .out("cat-file", "--batch", input=f"{head}\n".encode())
        .startswith(f"{head} commit ".encode())
    )
