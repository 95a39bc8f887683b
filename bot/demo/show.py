"""`python -m bot.demo` and `evobot demo`: run the demo and show people (or `--json`) the result."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import structlog
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from bot.demo._console import console, err_console, print_json
from bot.demo.run import DemoResult, run_demo
from bot.errors import EvobotError
from bot.evolution import FileStatus

__all__ = ["main", "show"]

_STATUS_STYLE = {
    FileStatus.UNCHANGED: "dim",
    FileStatus.UPDATED: "cyan",
    FileStatus.ADDED: "green",
    FileStatus.DELETED: "yellow",
    FileStatus.CONFLICT: "bold red",
}


def _mark(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[bold red]NO[/]"


def show(result: DemoResult) -> None:
    """The rich summary for people."""
    evolution = result.evolution
    table = Table(
        title=f"fastapi-service {evolution.from_version.ref} -> {evolution.to_version.ref}",
        title_justify="left",
    )
    table.add_column("file")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    unchanged = 0
    for outcome in evolution.files:
        if outcome.status is FileStatus.UNCHANGED:
            unchanged += 1
            continue
        style = _STATUS_STYLE.get(outcome.status, "")
        table.add_row(
            escape(outcome.path), f"[{style}]{outcome.status}[/]", escape(outcome.detail or "")
        )
    table.caption = f"{unchanged} more files unchanged"
    console.print(table)

    if result.main_py_diff:
        console.print(
            Panel(
                Syntax(result.main_py_diff.rstrip("\n"), "diff", theme="ansi_dark", word_wrap=True),
                title="what the evolution changed in src/orders/main.py, next to the team's edits",
                expand=False,
            )
        )
    conflicts = escape(", ".join(evolution.conflicts)) if evolution.conflicts else "[green]none[/]"
    console.print(f"conflicts: {conflicts}")
    checks = Table.grid(padding=(0, 2))
    for label, ok in {**result.kept, **result.arrived}.items():
        checks.add_row(_mark(ok), label)
    checks.add_row(_mark(not result.second_run_changed), "a second update changes nothing")
    for name, said in result.service_checks.items():
        ok = not said.startswith("FAILED")
        checks.add_row(_mark(ok), escape(f"service {name}: {said.splitlines()[0]}"))
    console.print(Panel(checks, title="local edits kept, template changes arrived", expand=False))
    console.print(
        f"demo directory: [bold]{escape(str(result.demo_dir))}[/]\n"
        f"  template repository: {escape(str(result.template_repo))}  (git tag)\n"
        f"  consumer service:    {escape(str(result.consumer))}  (git log --stat)",
        highlight=False,
    )


def _configure_logging() -> None:
    # Library logs are for operators: warnings and up, on stderr, never mixed into the output.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bot.demo`; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.demo",
        description="Render a service from the FastAPI template, edit it, release a new template "
        "version and evolve the service, keeping its edits.",
    )
    parser.add_argument("--dir", type=Path, help="empty directory to work in (default: a new one)")
    parser.add_argument(
        "--keep",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the demo directory afterwards to look around (default: keep)",
    )
    parser.add_argument(
        "--skip-service-checks",
        action="store_true",
        help="do not run the evolved service's ruff and pytest",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    args = parser.parse_args(argv)
    _configure_logging()

    demo_dir = args.dir or Path(tempfile.mkdtemp(prefix="evobot-demo-"))
    try:
        result = run_demo(
            demo_dir,
            run_service_checks=not args.skip_service_checks,
            quiet=args.json,
        )
    except EvobotError as exc:
        err_console.print(f"[bold red]error:[/] {escape(exc.diagnostics())}", highlight=False)
        if demo_dir.is_dir():
            err_console.print(f"demo directory left for inspection: {escape(str(demo_dir))}")
        return exc.exit_code
    if args.json:
        print_json(result.to_json())
    else:
        show(result)
    for name, said in result.service_checks.items():
        if said.startswith("FAILED"):
            err_console.print(f"[bold red]service {name}[/]\n{escape(said)}", highlight=False)
    if not args.keep and result.ok:
        shutil.rmtree(demo_dir, ignore_errors=True)
        if not args.json:
            console.print("demo directory removed (--no-keep)")
    if not result.ok:
        err_console.print("[bold red]the demo did not go as expected[/] (see above)")
        return 1
    return 0
