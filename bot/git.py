"""The one way evobot runs git: a locked-down environment, per-call options, one error conversion.

Every git process evobot starts goes through `Git`. It runs with no terminal prompts, without the
system git config, with hooks and the file-system monitor switched off and the `ext::` transport
refused, whatever the user's or the repository's config says; with none of the variables that
would point git at another repository (set, e.g., when evobot runs inside a git hook). Extra
HTTP headers (credentials) travel in the environment, never on the command line, and git does
not follow a redirect while it carries them. A failing call raises the caller's `EvobotError`
subclass (`GitError` by default) naming the git command and git's last lines of stderr, with
credentials removed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.errors import EvobotError
from bot.redact import REDACTED, redact_urls_in

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "LOCKDOWN_CONFIG",
    "Git",
    "GitError",
    "GitPort",
    "GitResult",
]

DEFAULT_TIMEOUT_S = 600.0

# Passed with `-c` on every call: command-line config wins over the global, and the repository's,
# config, so neither can make evobot's git run a program or reach for `ext::` commands.
LOCKDOWN_CONFIG: tuple[str, ...] = (
    "protocol.ext.allow=never",
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
)

# Variables that would point git at another repository, index or config than the one we name.
_REPO_ENV = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
        "GIT_CONFIG",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
    }
)

_FIXED_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "true",
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",
    "LANGUAGE": "C",
}

# Options of `git` itself that take a value as the next argument.
_GLOBAL_OPTIONS_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})
_STDERR_LINES = 5


class GitError(EvobotError):
    """A git command that failed, timed out or could not start.

    ``returncode`` is git's exit status (None when it never finished); ``stderr`` is what git
    wrote to its standard error, credentials removed.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        returncode: int | None = None,
        stderr: str = "",
    ) -> None:
        super().__init__(message, hint=hint)
        self.returncode = returncode
        self.stderr = stderr


@dataclass(frozen=True)
class GitResult:
    """A finished git process: its exit status and the bytes it wrote."""

    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def text(self) -> str:
        """Standard output as text, surrounding whitespace stripped."""
        return self.stdout.decode("utf-8", "surrogateescape").strip()


class GitPort(Protocol):
    """What a use case needs to run git in one repository (`Git` is the real one)."""

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        config: Sequence[str] = (),
    ) -> GitResult: ...

    def text(self, *args: str, input: bytes | None = None) -> str: ...

    def try_text(self, *args: str) -> str | None: ...


def _subcommand(args: Sequence[str]) -> str:
    """The git subcommand in ``args`` (``fetch`` in ``-C dir fetch --prune``)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _GLOBAL_OPTIONS_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return args[0] if args else ""


def _header_secrets(headers: Sequence[str]) -> list[str]:
    """The texts of ``headers`` that must never be shown: whole header, value, credential."""
    secrets: list[str] = []
    for header in headers:
        value = header.split(":", 1)[-1].strip()
        secrets += [header, value]
        if " " in value:  # "Basic dXNlcjp0b2tlbg==": the credential on its own too
            secrets.append(value.rsplit(" ", 1)[-1])
    # Longest first, so a header is hidden whole before its parts are looked for.
    return sorted({s for s in secrets if s}, key=len, reverse=True)


class Git:
    """Runs git in one directory (``cwd``) or against one repository (``git_dir``).

    ``where`` names the repository in error messages (a path, or a URL that is redacted before
    it is shown); ``error`` is the `EvobotError` subclass a failure raises. ``config`` items
    (``"key=value"``) are passed with ``-c`` on every call; ``headers`` are sent with every HTTP
    request git makes, through its environment; ``env`` adds variables (an identity, an index
    file) to the locked-down environment.
    """

    def __init__(
        self,
        cwd: Path | None = None,
        *,
        git_dir: Path | None = None,
        where: str | None = None,
        error: type[EvobotError] = GitError,
        config: Sequence[str] = (),
        headers: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.cwd = cwd
        self.git_dir = git_dir
        self.where = where if where is not None else str(git_dir or cwd or "git")
        self.error = error
        self.config = tuple(config)
        self.headers = tuple(headers)
        self.extra_env = dict(env or {})
        self.timeout = timeout

    # -- building the process ----------------------------------------------------------------
    def argv(self, args: Sequence[str], config: Sequence[str] = ()) -> list[str]:
        """The command line for ``git args``: never a header, never a credential of ours."""
        argv = ["git"]
        for item in (*LOCKDOWN_CONFIG, *self.config, *config):
            argv += ["-c", item]
        if self.headers:
            # git sends http.extraHeader to wherever a redirect points, even another host.
            argv += ["-c", "http.followRedirects=false"]
        if self.git_dir is not None:
            argv += ["--git-dir", str(self.git_dir)]
        return [*argv, *args]

    def environment(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a git process: the caller's, minus what redirects git, plus ours."""
        result = {
            k: v
            for k, v in os.environ.items()
            if k not in _REPO_ENV and not k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))
        }
        result.update(_FIXED_ENV)
        result.update(self.extra_env)
        if env:
            result.update(env)
        # Headers go last: as config in the environment (the same as `-c http.extraHeader=...`),
        # so they are not visible in the process list.
        for n, header in enumerate(self.headers):
            result[f"GIT_CONFIG_KEY_{n}"] = "http.extraHeader"
            result[f"GIT_CONFIG_VALUE_{n}"] = header
        if self.headers:
            result["GIT_CONFIG_COUNT"] = str(len(self.headers))
        return result

    # -- messages ----------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        """``text`` without our headers' secrets and without credentials in any URL."""
        for secret in _header_secrets(self.headers):
            text = text.replace(secret, REDACTED)
        return redact_urls_in(text)

    def _fail(
        self,
        args: Sequence[str],
        what: str,
        *,
        where: str | None,
        returncode: int | None = None,
        stderr: str = "",
    ) -> EvobotError:
        place = self.redact(where if where is not None else self.where)
        message = f"{place}: git {self.redact(_subcommand(args))} {what}"
        if issubclass(self.error, GitError):
            return self.error(message, returncode=returncode, stderr=stderr)
        return self.error(message)

    # -- running -----------------------------------------------------------------------------
    def run(
        self,
        *args: str,
        input: bytes | None = None,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        config: Sequence[str] = (),
        timeout: float | None = None,
        where: str | None = None,
    ) -> GitResult:
        """Run ``git args``; with ``check``, a non-zero exit raises ``error``.

        A timeout, or git that cannot start, raises ``error`` whatever ``check`` says: neither
        is an answer from git.
        """
        limit = self.timeout if timeout is None else timeout
        try:
            # Its own session: no terminal to prompt on, and a timeout stops every process git
            # started (a remote helper, ssh), not only git, so no pipe is left held open.
            proc = subprocess.Popen(
                self.argv(args, config),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self.environment(env),
                start_new_session=True,
            )
        except FileNotFoundError:
            if self.cwd is not None and not self.cwd.is_dir():
                why = f"no such directory {self.cwd}"
            else:
                why = "git is not installed (not found on PATH)"
            raise self._fail(args, f"failed: {why}", where=where) from None
        except OSError as exc:
            raise self._fail(args, f"failed: {exc.strerror or exc}", where=where) from None
        with proc:
            try:
                stdout, stderr = proc.communicate(input, timeout=limit)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise self._fail(args, f"timed out after {limit:g} s", where=where) from None
        result = GitResult(proc.returncode, stdout, stderr)
        if check and not result.ok:
            raise self.failure(result, *args, where=where)
        return result

    def failure(self, result: GitResult, *args: str, where: str | None = None) -> EvobotError:
        """The error for ``git args`` that ended as ``result``: for a caller that runs with
        ``check=False`` because some non-zero exits are answers, and this one is not."""
        stderr = self.redact(result.stderr.decode("utf-8", "replace")).strip()
        shown = " / ".join(line.strip() for line in stderr.splitlines()[-_STDERR_LINES:])
        what = f"failed: {shown}" if shown else f"failed with exit status {result.returncode}"
        return self._fail(args, what, where=where, returncode=result.returncode, stderr=stderr)

    def out(self, *args: str, input: bytes | None = None) -> bytes:
        """Standard output of ``git args``; a failure raises ``error``."""
        return self.run(*args, input=input).stdout

    def text(self, *args: str, input: bytes | None = None) -> str:
        """Standard output of ``git args`` as stripped text; a failure raises ``error``."""
        return self.run(*args, input=input).text

    def try_text(self, *args: str) -> str | None:
        """Standard output of ``git args`` as stripped text, or None when git says no."""
        result = self.run(*args, check=False)
        return result.text if result.ok else None
