"""`evobot pr open|revert`: the composition root of the PR use cases in :mod:`bot.pipeline`.

Each command parses its options, builds the GitHub adapter, the clock and the template fetcher
from the command line and the environment, calls the use case and prints its typed result
(``--json``: the result serialized).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli._output import JsonOption, console, print_json
from bot.cli._paths import check_cache_dir

if TYPE_CHECKING:
    from bot.forge import GitHubForge

# bot.forge (PyGithub, cryptography) and bot.pipeline (checks, rendering) are imported inside
# the commands that use them, so that every other `evobot` command starts quickly.

__all__ = ["register"]

LABELS_ENV = "EVOBOT_PR_LABELS"

RepoOption = Annotated[str, typer.Option("--repo", help="The consumer repository, OWNER/NAME.")]
WriteIntervalOption = Annotated[
    float,
    typer.Option(
        "--write-interval",
        envvar="EVOBOT_WRITE_INTERVAL",
        min=0.0,
        help="Seconds between content-creating requests per installation (GitHub asks 1).",
    ),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="EVOBOT_GITHUB_URL",
        help="GitHub API URL (Enterprise: https://HOST/api/v3). Default: api.github.com.",
    ),
]
NOTE_MAX_CHARS = 2000
NoteOption = Annotated[
    list[str] | None,
    typer.Option(
        "--note",
        help="A Markdown paragraph for the top of the PR body (repeatable; at most "
        f"{NOTE_MAX_CHARS} characters each).",
    ),
]
LabelOption = Annotated[
    list[str] | None,
    typer.Option(
        "--label",
        help=f"Label the PR (repeatable; also ${LABELS_ENV}, comma-separated). Each labelled "
        "PR costs one more write. Default: none.",
    ),
]


def _forge(base_url: str | None, write_interval: float) -> GitHubForge:
    """The GitHub adapter, configured from the command line and the environment."""
    from bot.forge import ForgeSettings, GitHubForge, credentials_from_env

    settings = ForgeSettings.from_env(os.environ, base_url=base_url, write_interval=write_interval)
    return GitHubForge(credentials_from_env(os.environ), settings=settings)


def _labels(given: Sequence[str], env: Mapping[str, str]) -> tuple[str, ...]:
    """``--label`` values, else ``EVOBOT_PR_LABELS`` (comma-separated): each once."""
    from bot.errors import EvobotError

    names = list(given) or [n for n in re.split(r"\s*,\s*", env.get(LABELS_ENV, "").strip()) if n]
    for name in names:
        if not name.strip() or len(name) > 50:
            raise EvobotError(
                f"{name!r} is not a label name (1 to 50 characters)",
                hint=f"check --label and ${LABELS_ENV}",
            )
    return tuple(dict.fromkeys(names))


def _notes(given: Sequence[str]) -> tuple[str, ...]:
    """``--note`` values, each a paragraph of bounded size (the PR body has a hard limit)."""
    from bot.errors import EvobotError

    for note in given:
        if len(note) > NOTE_MAX_CHARS:
            raise EvobotError(
                f"a --note of {len(note)} characters is too long",
                hint=f"keep each --note to {NOTE_MAX_CHARS} characters",
            )
    return tuple(given)


def register(app: typer.Typer) -> None:
    """Add `evobot pr open` and `evobot pr revert`."""
    pr = typer.Typer(help="Evolution and revert pull requests on GitHub.", no_args_is_help=True)

    @pr.command("open")
    def open_cmd(
        repo: RepoOption,
        vcs_ref: Annotated[
            str | None, typer.Option("--vcs-ref", help="Template tag, branch or commit.")
        ] = None,
        base_url: BaseUrlOption = None,
        cache_dir: Annotated[
            Path | None, typer.Option("--cache-dir", help="Cache for template clones.")
        ] = None,
        recreate: Annotated[
            bool, typer.Option("--recreate", help="Rebuild the branch over human commits.")
        ] = False,
        write_interval: WriteIntervalOption = 1.0,
        run_checks: Annotated[
            bool,
            typer.Option("--checks/--no-checks", help="Check the evolved tree for the PR body."),
        ] = True,
        check_cache: Annotated[
            Path | None,
            typer.Option("--check-cache", help="SQLite check cache (default: the user cache)."),
        ] = None,
        org_policy: Annotated[
            Path | None,
            typer.Option("--org-policy", envvar="EVOBOT_ORG_POLICY", help="Org check policy."),
        ] = None,
        labels: LabelOption = None,
        notes: NoteOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Evolve one remote consumer and open or update its evolution PR."""
        from bot.checks import default_cache_path, load_policy
        from bot.clock import SystemClock
        from bot.pipeline import (
            CheckOptions,
            EvolvePrOptions,
            GitTemplateFetcher,
            TemplateAccess,
            evolve_pr,
        )

        check_cache_dir(cache_dir)
        if run_checks and org_policy is not None:
            load_policy(None, org_policy)  # a bad org policy is named before any GitHub call
        options = EvolvePrOptions(
            vcs_ref=vcs_ref,
            recreate=recreate,
            checks=CheckOptions(
                enabled=run_checks,
                cache_path=check_cache or default_cache_path(os.environ),
                org_policy=org_policy,
            ),
            access=TemplateAccess.from_env(os.environ),
            labels=_labels(labels or (), os.environ),
            notes=_notes(notes or ()),
        )
        result = evolve_pr(
            _forge(base_url, write_interval),
            repo,
            clock=SystemClock(),
            templates=GitTemplateFetcher(cache_dir),
            options=options,
        )
        # A secret in the template output stops the run loudly: nothing was pushed anywhere.
        secret_blocked = result.blocked_by == "secrets"
        if as_json:
            print_json(result.to_json())
            if secret_blocked:
                raise typer.Exit(1)
            return
        console.print(
            f"{repo}: {result.from_version} -> {result.to_version}: {result.message}"
            + (f" {result.url}" if result.url else "")
            + f" ({result.requests} requests)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        if result.checks is not None:
            verdict = "passed" if result.checks.passed else "blocked by policy"
            console.print(f"checks {verdict}", highlight=False)
            for reason in result.checks.reasons:
                console.print(f"  {reason}", highlight=False, markup=False, soft_wrap=True)
        if secret_blocked:
            raise typer.Exit(1)

    @pr.command("revert")
    def revert_cmd(
        repo: RepoOption,
        number: Annotated[int, typer.Option("--pr", min=1, help="The merged evolution PR.")],
        base_url: BaseUrlOption = None,
        write_interval: WriteIntervalOption = 1.0,
        labels: LabelOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Open a PR reverting a merged evolution PR's changes (later edits survive)."""
        from bot.pipeline import RevertPrOptions, revert_pr

        result = revert_pr(
            _forge(base_url, write_interval),
            repo,
            number,
            options=RevertPrOptions(labels=_labels(labels or (), os.environ)),
        )
        if as_json:
            print_json(result.to_json())
            return
        console.print(
            f"{repo}: {result.message} {result.url or ''}"
            f" ({result.requests} requests, {result.auth_requests} for App authentication)",
            highlight=False,
            markup=False,
        )
        if result.checks_unknown:
            console.print(
                f"  status unknown: {result.checks_unknown}", highlight=False, markup=False
            )
        for path in result.conflicts:
            console.print(f"  conflict: {path}", highlight=False, markup=False)

    app.add_typer(pr, name="pr")
