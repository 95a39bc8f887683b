"""The `evobot` command line: composes each feature's commands and converts errors once."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
import typer
from rich.text import Text

from bot import __version__
from bot.cli import _output
from bot.errors import EvobotError

__all__ = ["app", "main"]

app = typer.Typer(
    name="evobot",
    help="Keep generated services in step with their templates through evolution PRs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        _output.console.print(f"evobot {__version__}")
        raise typer.Exit()


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    # Looked up on every call, so a replaced sys.stderr (tests, pipes) is always the one used.
    return structlog.PrintLogger(sys.stderr)


def _configure_logging() -> None:
    """Logs go to stderr, warnings and up, so stdout stays clean for tables and `--json`."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version."
    ),
) -> None:
    """Keep generated services in step with their templates through evolution PRs."""
    _configure_logging()


def _register_commands() -> None:
    # Each feature module owns its commands and adds them to the one app here.
    from bot.cli import (
        action,
        check,
        db,
        demo,
        emulator,
        pr,
        render,
        report,
        rollout,
        serve,
        update,
    )

    for module in (render, update, check, report, pr, rollout, emulator, demo, db, serve, action):
        module.register(app)


_register_commands()


def _print_error(text: str) -> None:
    # Messages quote paths and values, which may hold `[...]` or `:x:`: printed literally.
    # The terminal wraps the lines, so a long path is never split where it can't be copied.
    _output.err_console.print(Text.assemble(("error:", "bold red"), " ", text), soft_wrap=True)


def _os_error_text(exc: OSError) -> str:
    """One line naming the path(s) an operating-system error is about, and what went wrong."""
    what = exc.strerror or str(exc) or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {what}" if paths else what


def main() -> None:
    """Entry point: the one place where an EvobotError becomes a message and an exit code."""
    try:
        # Without standalone mode click returns (not raises) a command's `typer.Exit` code.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except EvobotError as exc:
        _print_error(exc.diagnostics())
        sys.exit(exc.exit_code)
    except OSError as exc:
        # A safety net: commands name the files they cannot read; one they missed still gets
        # one paragraph naming the path instead of a traceback.
        _print_error(_os_error_text(exc))
        sys.exit(1)
    except UnicodeDecodeError as exc:
        _print_error(f"a file is not UTF-8 text ({exc.reason} at byte {exc.start})")
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _output.err_console.print("aborted")
        sys.exit(1)
    except KeyboardInterrupt:
        _output.err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # usage errors: typer >= 0.20 raises its own vendored click's
        import click
        from typer._click.exceptions import ClickException as TyperClickException

        if isinstance(exc, click.ClickException | TyperClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
