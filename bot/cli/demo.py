"""`evobot demo`: render, edit and evolve a sample service locally, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli._output import JsonOption

__all__ = ["register"]


def demo(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Empty directory to work in (default: a new one).")
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep/--no-keep", help="Keep the demo directory afterwards.")
    ] = True,
    skip_service_checks: Annotated[
        bool,
        typer.Option("--skip-service-checks", help="Do not run the evolved service's own checks."),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Render a service, edit it, release a new template version and evolve it, keeping edits."""
    from bot.demo import main

    argv = ["--keep" if keep else "--no-keep"]
    if directory is not None:
        argv += ["--dir", str(directory)]
    if skip_service_checks:
        argv.append("--skip-service-checks")
    if json_output:
        argv.append("--json")
    code = main(argv)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add `evobot demo` to ``app``."""
    app.command("demo")(demo)
