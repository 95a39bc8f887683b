"""`evobot render`: the first render of a template into a new consumer directory."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.prompt import Confirm, Prompt
from rich.text import Text

from bot.cli._output import JsonOption, console, err_console, print_json
from bot.cli._template_auth import explain_refusal, template_http_headers
from bot.consumer import (
    CONFIG_NAME,
    ConsumerConfig,
    TemplateVersion,
    dump_consumer_config,
    refuse_credentials,
)
from bot.errors import EvobotError
from bot.parsing import load_yaml
from bot.report.provenance import (
    PROVENANCE_PATH,
    dump_statement,
    provenance_for_render,
    system_clock,
)
from bot.template import (
    Question,
    ResolvedTemplate,
    matches_any,
    open_template,
    redact_url,
    render_template,
    resolve_answers,
)
from bot.template.source import is_git_url
from bot.tree import File, Tree, write_tree

__all__ = ["parse_data_options", "register"]

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class RenderUsageError(EvobotError):
    """A `render` invocation that cannot go ahead (bad `--data`, an occupied destination)."""


def parse_data_options(pairs: list[str], data_file: Path | None) -> dict[str, Any]:
    """Answers from ``--data-file`` (YAML or JSON) overlaid with ``--data KEY=VALUE`` strings."""
    given: dict[str, Any] = {}
    if data_file is not None:
        try:
            text = data_file.read_bytes()
        except OSError as exc:
            raise RenderUsageError(f"{data_file}: cannot read: {exc.strerror or exc}") from None
        raw = load_yaml(text, source=str(data_file), error=RenderUsageError)
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise RenderUsageError(f"{data_file}: must be a mapping of answer names to values")
        given.update({str(k): v for k, v in raw.items()})
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            raise RenderUsageError(f"--data {pair!r}: expected NAME=VALUE with NAME an identifier")
        given[key] = value
    return given


def _ask(name: str, question: Question, default: Any) -> Any:
    """Prompt a person for one answer (only ever called on a terminal)."""
    if question.help:
        err_console.print(Text(question.help, style="dim"))
    label = Text(name, style="bold")
    if question.type == "bool":
        return Confirm.ask(
            label, default=bool(default) if default is not None else False, console=err_console
        )
    shown_default = None
    if default is not None:
        shown_default = ",".join(map(str, default)) if isinstance(default, list) else str(default)
    if question.type == "choice":
        choices = [str(c) for c in question.choice_values]
        if isinstance(question.choices, dict):
            for label_text, value in question.choices.items():
                err_console.print(f"  {value}: {label_text}")
        return Prompt.ask(label, choices=choices, default=shown_default, console=err_console)
    if question.type == "list":
        label.append(" (comma separated)", style="dim")
    answer = Prompt.ask(label, default=shown_default, console=err_console)
    return "" if answer is None else answer


def _interactive() -> bool:
    """Prompt only when a person is at the keyboard; in CI a missing answer is an error."""
    return sys.stdin.isatty()


def _report_invalid(name: str, message: str) -> None:
    err_console.print(Text(f"{name}: {message}", style="red"))


def _stored_source(source: str) -> str:
    """What `.evobot.yml` records: an absolute path for a local source, a URL without secrets."""
    if is_git_url(source):
        return redact_url(source)
    return str(Path(source).expanduser().resolve())


def _existing(dest: Path) -> list[str]:
    if not dest.exists():
        return []
    if not dest.is_dir():
        raise RenderUsageError(f"{dest}: exists and is not a directory")
    return sorted(p.name for p in dest.iterdir() if p.name != ".git")


def register(app: typer.Typer) -> None:
    """Add `evobot render` to ``app``."""

    @app.command("render")
    def render(
        template_source: Annotated[
            str, typer.Argument(help="Template: a directory, a git repository path or a git URL.")
        ],
        dest: Annotated[Path, typer.Argument(help="Directory to create the consumer in.")],
        vcs_ref: Annotated[
            str | None,
            typer.Option("--vcs-ref", help="Tag, branch or commit (default: newest version tag)."),
        ] = None,
        subdir: Annotated[
            str | None,
            typer.Option("--subdir", help="Subdirectory of the repository holding template.yml."),
        ] = None,
        data: Annotated[
            list[str] | None,
            typer.Option("--data", "-d", help="An answer, NAME=VALUE (repeatable)."),
        ] = None,
        data_file: Annotated[
            Path | None,
            typer.Option("--data-file", help="Answers from a YAML or JSON mapping."),
        ] = None,
        force: Annotated[
            bool,
            typer.Option(
                "--force",
                help="Render into a non-empty directory (existing skip_if_exists files stay).",
            ),
        ] = False,
        prereleases: Annotated[
            bool, typer.Option("--prereleases", help="Let the default version be a pre-release.")
        ] = False,
        json_output: JsonOption = False,
    ) -> None:
        """Render a template into a new consumer directory and record it in .evobot.yml.

        A private template fetched over https is authenticated with $EVOBOT_TEMPLATE_TOKEN
        (sent only to the hosts in $EVOBOT_TEMPLATE_TOKEN_HOSTS, default the GitHub host).
        """
        refuse_credentials(template_source, where="evobot render")
        given = parse_data_options(data or [], data_file)
        existing = _existing(dest)
        if existing and not force:
            shown = ", ".join(existing[:5]) + (" ..." if len(existing) > 5 else "")
            hint = "pass --force to render into it anyway"
            if CONFIG_NAME in existing:
                hint = "it was rendered before: run `evobot update` to evolve it"
            raise RenderUsageError(f"{dest}: not empty ({shown})", hint=hint)
        interactive = _interactive()
        with (
            explain_refusal(template_source, os.environ),
            open_template(
                template_source,
                subdir=subdir,
                vcs_ref=vcs_ref,
                prereleases=prereleases,
                git_http_headers=template_http_headers(template_source, os.environ),
            ) as template,
        ):
            answers = resolve_answers(
                template.manifest,
                given,
                ask=_ask if interactive else None,
                on_invalid=_report_invalid if interactive else None,
            )
            if answers.unknown_keys:
                err_console.print(
                    Text.assemble(
                        ("warning:", "yellow"),
                        f" no question asks for {', '.join(answers.unknown_keys)}; ignored",
                    )
                )
            tree = render_template(template, answers.values)
            written, skipped = _write(dest, template, tree, answers.values, template_source)
        version = {"ref": template.ref, "commit": template.commit}
        if json_output:
            print_json(
                {
                    "template": _stored_source(template_source),
                    "subdir": template.subdir,
                    "version": version,
                    "dest": str(dest),
                    "files": written,
                    "skipped": skipped,
                    "answers": answers.values,
                    "unknown_keys": list(answers.unknown_keys),
                }
            )
            return
        label = template.ref or template.commit[:12]
        console.print(
            Text.assemble(
                ("Rendered", "green"),
                " ",
                (template.manifest.name, "bold"),
                f" {label} into {dest}: "
                f"{len(written)} files, plus {CONFIG_NAME} and {PROVENANCE_PATH}",
            )
        )
        for path in written:
            console.print(Text.assemble("  ", ("+", "green"), f" {path}"))
        for path in skipped:
            console.print(Text(f"  = {path} (exists, skip_if_exists)", style="dim"))


def _write(
    dest: Path,
    template: ResolvedTemplate,
    tree: Tree,
    answers: dict[str, Any],
    source: str,
) -> tuple[list[str], list[str]]:
    """Write the rendered tree and `.evobot.yml`; existing skip_if_exists files are kept."""
    skip = template.manifest.skip_if_exists
    skipped = sorted(p for p in tree if matches_any(skip, p) and (dest / p).exists())
    out: dict[str, File] = {p: f for p, f in tree.items() if p not in skipped}
    config = ConsumerConfig(
        template=_stored_source(source),
        template_subdir=template.subdir,
        version=TemplateVersion(ref=template.ref, commit=template.commit),
        answers=json.loads(json.dumps(answers)),
    )
    out[CONFIG_NAME] = File(dump_consumer_config(config).encode())
    statement = provenance_for_render(template, tree, config, clock=system_clock)
    out[PROVENANCE_PATH] = File(dump_statement(statement))
    write_tree(dest, out)  # creates ``dest``; all or nothing
    return sorted(p for p in out if p not in (CONFIG_NAME, PROVENANCE_PATH)), skipped
