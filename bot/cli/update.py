"""`evobot update`: evolve a local consumer checkout (git work tree or plain directory) in place."""

from __future__ import annotations

import os
import stat
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from bot.cli._output import JsonOption, console, err_console, print_json
from bot.cli._paths import check_cache_dir
from bot.cli._template_auth import explain_refusal, template_http_headers
from bot.consumer import CONFIG_NAME, TemplateVersion, load_consumer_config, refuse_credentials
from bot.errors import MergeError
from bot.evolution import Evolution, FileStatus, evolve_consumer
from bot.git import Git
from bot.report.provenance import (
    PROVENANCE_PATH,
    provenance_file,
    provenance_for_evolution,
    system_clock,
)
from bot.tree import File, Tree, raise_read_error, read_tree, write_tree

__all__ = ["register"]

_STYLE = {
    FileStatus.UNCHANGED: "dim",
    FileStatus.UPDATED: "cyan",
    FileStatus.ADDED: "green",
    FileStatus.DELETED: "red",
    FileStatus.CONFLICT: "bold yellow",
}


class ConflictStyleChoice(StrEnum):
    INLINE = "inline"
    REJ = "rej"


def _git(root: Path) -> Git:
    return Git(root, error=MergeError)


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _git_top(root: Path) -> Path | None:
    """The work tree's top level when ``root`` lies in a git work tree, else None."""
    top = _git(root).try_text("rev-parse", "--show-toplevel")
    return Path(top) if top else None


def _refuse_dirty(root: Path) -> None:
    status = _git(root).out("status", "--porcelain", "--untracked-files=all", "--", ".")
    dirty = [line[3:] for line in _decode(status).splitlines() if line.strip()]
    if dirty:
        shown = ", ".join(dirty[:10]) + (f" and {len(dirty) - 10} more" if len(dirty) > 10 else "")
        raise MergeError(
            f"{root}: the git work tree has uncommitted changes: {shown}",
            hint="commit or stash them first, or pass --allow-dirty",
        )


def _read_consumer(root: Path, in_git: bool) -> Tree:
    """The consumer's files; in a git work tree only tracked and not-ignored ones (no .venv)."""
    if not in_git:
        return read_tree(root)
    git = _git(root)
    listing = git.out("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--full-name")
    prefix = git.run("rev-parse", "--show-prefix", check=False).text
    tree: Tree = {}
    for listed in sorted(set(_decode(listing).split("\0"))):
        if not listed.startswith(prefix) or not listed:
            continue
        rel = listed[len(prefix) :]
        full = root / rel
        if full.is_symlink() and not full.resolve().is_relative_to(root):
            raise MergeError(f"{rel}: symlink points outside {root}; refusing to read it")
        if not full.is_file():
            continue  # deleted but still in the index
        try:
            tree[rel] = File(full.read_bytes(), bool(full.stat().st_mode & stat.S_IXUSR))
        except OSError as exc:
            raise_read_error(exc)
    return tree


def _version(v: TemplateVersion) -> dict[str, Any]:
    return {"ref": v.ref, "commit": v.commit}


def _report(evolution: Evolution, *, dry_run: bool) -> dict[str, Any]:
    return {
        "from": _version(evolution.from_version),
        "to": _version(evolution.to_version),
        "files": [
            {"path": o.path, "status": o.status.value, "detail": o.detail} for o in evolution.files
        ],
        "conflicts": list(evolution.conflicts),
        "changed": evolution.changed,
        "dry_run": dry_run,
        "migrations": list(evolution.migrations),
        "notes": list(evolution.notes),
    }


def _print_human(evolution: Evolution, root: Path, *, dry_run: bool) -> None:
    def name(v: TemplateVersion) -> str:
        return f"{v.ref or '(no ref)'} ({v.commit[:12]})"

    head = "would update" if dry_run else "updated"
    if not evolution.changed:
        console.print(
            f"{root}: up to date with {name(evolution.to_version)}; nothing to do",
            soft_wrap=True,
        )
        return
    console.print(
        f"{root}: {head} {name(evolution.from_version)} -> {name(evolution.to_version)}",
        soft_wrap=True,
    )
    shown = [o for o in evolution.files if o.status is not FileStatus.UNCHANGED]
    if shown:
        table = Table("status", "path", "detail", box=None, pad_edge=False)
        for o in shown:
            table.add_row(Text(o.status.value, style=_STYLE[o.status]), o.path, o.detail or "")
        console.print(table)
    quiet = len(evolution.files) - len(shown)
    if quiet:
        console.print(Text(f"{quiet} template file(s) unchanged", style="dim"))
    for note in evolution.notes:
        console.print(Text(note, style="dim"), soft_wrap=True)
    if evolution.conflicts:
        err_console.print(
            Text.assemble(
                (f"{len(evolution.conflicts)} conflict(s)", "bold yellow"),
                " to resolve by hand: " + ", ".join(evolution.conflicts),
            ),
            soft_wrap=True,
        )
    if dry_run:
        console.print(Text("dry run: nothing written", style="dim"))


def update(
    path: Annotated[
        Path, typer.Argument(help="The consumer directory (holding .evobot.yml).")
    ] = Path(),
    vcs_ref: Annotated[
        str | None,
        typer.Option("--vcs-ref", help="Template version: tag, branch or commit (default newest)."),
    ] = None,
    conflict: Annotated[
        ConflictStyleChoice,
        typer.Option("--conflict", help="Write conflicts as inline markers or as .rej files."),
    ] = ConflictStyleChoice.INLINE,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; write nothing.")
    ] = False,
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="Run even with uncommitted changes.")
    ] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir",
            help="Keep a mirror of the template repository here and fetch only what is new.",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Evolve a consumer to a newer template version, keeping its local edits.

    A private template fetched over https is authenticated with the token in
    $EVOBOT_TEMPLATE_TOKEN (an installation or personal access token), sent only to the hosts
    in $EVOBOT_TEMPLATE_TOKEN_HOSTS (default: the GitHub host of $EVOBOT_GITHUB_URL).
    """
    if not path.is_dir():
        raise MergeError(f"{path}: not a directory")
    check_cache_dir(cache_dir)
    root = path.resolve()
    in_git = _git_top(root) is not None
    if in_git and not allow_dirty:
        _refuse_dirty(root)
    config = load_consumer_config(root)
    refuse_credentials(config.template, where=str(root / CONFIG_NAME))
    ours = _read_consumer(root, in_git)
    with explain_refusal(config.template, os.environ):
        evolution = evolve_consumer(
            ours,
            config,
            vcs_ref=vcs_ref,
            conflict_style=conflict.value,
            git_http_headers=template_http_headers(config.template, os.environ),
            cache_dir=cache_dir,
        )
    if evolution.changed and not dry_run:
        written: dict[str, File] = dict(evolution.written)
        written[PROVENANCE_PATH] = provenance_file(
            provenance_for_evolution(evolution, clock=system_clock),
            existing=ours.get(PROVENANCE_PATH),
        )
        write_tree(root, written, delete=evolution.deleted)
    if json_output:
        print_json(_report(evolution, dry_run=dry_run))
    else:
        _print_human(evolution, root, dry_run=dry_run)


def register(app: typer.Typer) -> None:
    """Add `evobot update` to ``app``."""
    app.command("update")(update)
