"""The one way tests drive `evobot` in-process: its entry point `bot.cli.main`, as a person would.

Everything else in tests/ and bench/ calls the library (`bot.pipeline` and below), never the
CLI's modules; `tests/test_nothing_imports_cli_internals.py` holds that.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from bot.cli import main

__all__ = ["CliRun", "invoke_evobot"]


@dataclass(frozen=True)
class CliRun:
    """What a person running `evobot ARGS` sees: the exit code, stdout and stderr."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def code(self) -> int:
        return self.exit_code

    @property
    def output(self) -> str:
        """stdout then stderr, as a terminal shows them."""
        return self.stdout + self.stderr

    @property
    def message(self) -> str:
        """stderr with the terminal's line wrapping undone."""
        return re.sub(r"\s+", " ", self.stderr).strip()


class _Keyboard(io.StringIO):
    """Standard input typed by a person at a terminal."""

    def isatty(self) -> bool:
        return True


@contextmanager
def _environment(env: Mapping[str, str | None]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in env}
    try:
        for name, value in env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def invoke_evobot(
    *args: str | Path,
    env: Mapping[str, str | None] | None = None,
    input: str | None = None,
    terminal: bool = False,
) -> CliRun:
    """Run ``evobot ARGS`` through `bot.cli.main`, where errors become messages and exit codes.

    ``env`` sets (``None``: unsets) environment variables for the run; ``input`` is standard
    input, typed at a terminal when ``terminal`` is true. An exception other than the exit
    escaping `main` fails the test: that is the traceback a person would have seen.
    """
    out, err = io.StringIO(), io.StringIO()
    stdin = _Keyboard(input or "") if terminal else io.StringIO(input or "")
    saved_argv, saved_stdin = sys.argv, sys.stdin
    sys.argv = ["evobot", *map(str, args)]
    sys.stdin = stdin
    try:
        with _environment(env or {}), redirect_stdout(out), redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv, sys.stdin = saved_argv, saved_stdin
    return CliRun(code, out.getvalue(), err.getvalue())
