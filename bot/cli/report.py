"""`evobot report` (churn and provenance) and `evobot verify` (re-render and compare)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table
from rich.text import Text

from bot.cli._output import JsonOption, console, print_json
from bot.cli._paths import check_cache_dir
from bot.cli._template_auth import explain_refusal, template_http_headers
from bot.consumer import load_consumer_config
from bot.report.summary import build_consumer_report, render_report_markdown
from bot.report.verify import IssueKind, VerifyReport, verify_checkout

__all__ = ["register"]

PathArgument = Annotated[
    Path,
    typer.Argument(
        help="The consumer checkout (default: the current directory).", show_default=False
    ),
]

_KIND_STYLE = {
    IssueKind.CONSUMER_EDIT: "yellow",
    IssueKind.CONSUMER_ADDED: "dim",
    IssueKind.CONSUMER_REMOVED: "yellow",
    IssueKind.SKIP_IF_EXISTS: "dim",
    IssueKind.PROTECTED: "dim",
}


def _print_verify(report: VerifyReport, *, show_added: bool) -> None:
    console.print(
        Text(f"template {report.template} at {report.commit[:12]}: ")
        + Text(f"{report.files_rendered} files rendered")
    )
    shown = [i for i in report.issues if show_added or i.kind is not IssueKind.CONSUMER_ADDED]
    if shown:
        table = Table("kind", "path", "detail", show_lines=False)
        for issue in shown:
            style = "bold red" if issue.tampering else _KIND_STYLE.get(issue.kind, "")
            # Text (not markup strings): a path like `[red]x` must print as itself.
            table.add_row(
                Text(issue.kind.value, style=style), Text(issue.path or ""), Text(issue.detail)
            )
        console.print(table)
    added = len(report.of(IssueKind.CONSUMER_ADDED))
    if added and not show_added:
        console.print(Text(f"{added} files added by the consumer (list them with --all)"))
    edits = sum(1 for i in report.issues if not i.tampering)
    if report.tampered:
        console.print(
            Text(
                "TAMPERED: the provenance file does not describe what the template produces",
                style="bold red",
            )
        )
    else:
        console.print(
            Text(f"verified: provenance matches the template; {edits} local differences", "green")
        )


def register(app: typer.Typer) -> None:
    """Add `evobot report` and `evobot verify` to ``app``."""

    @app.command("verify")
    def verify(
        path: PathArgument = Path(),
        as_json: JsonOption = False,
        show_all: Annotated[
            bool, typer.Option("--all", help="Also list every file the consumer added.")
        ] = False,
        cache_dir: Annotated[
            Path | None,
            typer.Option(
                "--cache-dir",
                help="Keep a mirror of the template repository here and fetch only what is new.",
            ),
        ] = None,
    ) -> None:
        """Re-render the template from `.evobot.yml` and check `.evobot/provenance.json`.

        Exits 1 when the provenance file was tampered with; local edits are normal (exit 0).
        A private template fetched over https is authenticated with $EVOBOT_TEMPLATE_TOKEN
        (sent only to the hosts in $EVOBOT_TEMPLATE_TOKEN_HOSTS, default the GitHub host).
        """
        check_cache_dir(cache_dir)
        root = path.resolve()
        template = load_consumer_config(root).template
        with explain_refusal(template, os.environ):
            report = verify_checkout(
                root,
                git_http_headers=template_http_headers(template, os.environ),
                cache_dir=cache_dir,
            )
        if as_json:
            print_json(
                {**report.model_dump(mode="json"), "tampered": report.tampered},
            )
        else:
            _print_verify(report, show_added=show_all)
        if report.tampered:
            raise typer.Exit(1)

    @app.command("report")
    def report(
        path: PathArgument = Path(),
        since: Annotated[
            str | None,
            typer.Option(
                "--since",
                help="Compare with this commit (default: before the last change to .evobot.yml).",
            ),
        ] = None,
        fmt: Annotated[
            Literal["md", "json"], typer.Option("--format", help="Markdown or JSON.")
        ] = "md",
    ) -> None:
        """Churn since the last evolution (or --since REF) and the provenance, as md or json.

        The churn is compared with the evolution before (with --since, the last one at or
        before REF).
        """
        result = build_consumer_report(path.resolve(), since=since)
        if fmt == "json":
            print_json(result.model_dump(mode="json"))
        else:
            sys.stdout.write(render_report_markdown(result))
