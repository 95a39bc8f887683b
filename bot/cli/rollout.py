"""`evobot rollout plan|status`: a release's rollout plan and preflight, and the stored rollouts.

`plan` reads only (GitHub, or the store for the consumer list); `status` reads the store. The
service advances rollouts; these commands never do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli._output import JsonOption, console, err_console, print_json

if TYPE_CHECKING:
    from bot.pipeline.rollout_plan import PlanReport
    from bot.rollout import RolloutState
    from bot.store import Store

__all__ = ["register"]

_URL_HELP = (
    "Database URL (sqlite:///PATH or postgresql+psycopg://USER@HOST/DB). "
    "Default: $EVOBOT_DATABASE_URL, else evobot.db in the state directory."
)
_STATE_HELP = "State directory for the default SQLite database (default: $EVOBOT_STATE_DIR)."


def _print(line: str) -> None:
    console.print(line, highlight=False, markup=False, soft_wrap=True)


def _open_store(database_url: str | None, state_dir: Path | None) -> Store:
    from bot.errors import EvobotError
    from bot.store import Store
    from bot.store import database_url as pick_url

    store = Store.open(pick_url(database_url, state_dir=state_dir), upgrade_schema=False)
    status = store.schema()
    if not status.up_to_date:
        store.close()
        raise EvobotError(status.describe(), hint="run `evobot db upgrade` first")
    return store


def _print_plan(report: PlanReport) -> None:
    from bot.rollout import describe_plan

    for line in describe_plan(report.plan):
        _print(line)
    for repo, why in report.skipped:
        _print(f"  unreadable, not planned: {repo}: {why}")
    if report.preflight is None:
        return
    pf = report.preflight
    _print(pf.summary())
    for reason in pf.reasons:
        _print(f"  {reason}")
    for c in pf.consumers:
        if c.error:
            _print(f"  {c.repo}: error: {c.error}")
        elif c.changed:
            _print(
                f"  {c.repo}: {c.files_changed} files +{c.lines_added} -{c.lines_removed}, "
                f"{len(c.conflicts)} conflicts, {len(c.blocking)} blocking findings"
            )
        else:
            _print(f"  {c.repo}: up to date")


def _status_json(state: RolloutState) -> dict[str, Any]:
    from collections import Counter

    from bot.rollout.metrics import rollout_metrics

    return {
        "rollout": state.id,
        "template": state.template,
        "version": state.version,
        "status": state.status,
        "reason": state.reason,
        "current_wave": state.waves[state.current].number if state.waves else None,
        "waves": [
            {
                "number": w.number,
                "status": w.status,
                "consumers": len(state.in_wave(i)),
                "bake_until": w.bake_until,
            }
            for i, w in enumerate(state.waves)
        ],
        "consumers": dict(sorted(Counter(c.status for c in state.consumers).items())),
        "metrics": rollout_metrics(state).to_json(),
    }


def register(app: typer.Typer) -> None:
    """Add `evobot rollout plan` and `evobot rollout status`."""
    group = typer.Typer(help="Rollouts of template releases, wave by wave.", no_args_is_help=True)

    @group.command("plan")
    def plan_cmd(
        template: Annotated[
            str, typer.Option("--template", help="The template repository, OWNER/NAME.")
        ],
        to: Annotated[str, typer.Option("--to", help="The release: a tag, branch or commit.")],
        subdir: Annotated[
            str | None,
            typer.Option("--subdir", help="The template's directory in its repository."),
        ] = None,
        source: Annotated[
            str,
            typer.Option(
                "--consumers-from",
                help="Where the consumer list comes from: github (every repository the App "
                "sees) or store (the service's database).",
            ),
        ] = "github",
        preflight: Annotated[
            bool,
            typer.Option(
                "--preflight/--no-preflight", help="Evolve every consumer in memory (reads only)."
            ),
        ] = True,
        run_checks: Annotated[
            bool, typer.Option("--checks/--no-checks", help="Run the checks in the preflight.")
        ] = True,
        cache_dir: Annotated[
            Path | None, typer.Option("--cache-dir", help="Cache for template clones.")
        ] = None,
        base_url: Annotated[
            str | None,
            typer.Option("--base-url", envvar="EVOBOT_GITHUB_URL", help="GitHub API URL."),
        ] = None,
        database_url: Annotated[str | None, typer.Option(help=_URL_HELP)] = None,
        state_dir: Annotated[Path | None, typer.Option(help=_STATE_HELP)] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Print the waves (and the preflight) of a release's rollout, without acting."""
        from bot.checks import default_cache_path
        from bot.errors import EvobotError
        from bot.forge import ForgeSettings, GitHubForge, credentials_from_env
        from bot.pipeline import CheckOptions, GitTemplateFetcher, TemplateAccess
        from bot.pipeline.preflight import PreflightOptions
        from bot.pipeline.rollout_plan import (
            consumers_from_forge,
            consumers_from_store,
            plan_release,
        )

        if source not in ("github", "store"):
            raise EvobotError(f"--consumers-from must be github or store, got {source!r}")
        if template.count("/") != 1 or not all(template.split("/")):
            raise EvobotError(f"--template: expected OWNER/NAME, got {template!r}")
        settings = ForgeSettings.from_env(os.environ, base_url=base_url, write_interval=1.0)
        forge = GitHubForge(credentials_from_env(os.environ), settings=settings)
        skipped: list[tuple[str, str]] = []
        if source == "store":
            store = _open_store(database_url, state_dir)
            try:
                members = consumers_from_store(store, template)
            finally:
                store.close()
        else:
            members, skipped = consumers_from_forge(forge, template)
        options = PreflightOptions(
            checks=CheckOptions(enabled=run_checks, cache_path=default_cache_path(os.environ)),
            access=TemplateAccess.from_env(os.environ),
        )
        report = plan_release(
            forge,
            template,
            to,
            members=members,
            templates=GitTemplateFetcher(cache_dir) if preflight else None,
            options=options,
            subdir=subdir,
            skipped=skipped,
            progress=None if as_json else (lambda repo: err_console.print(f"preflight: {repo}")),
        )
        if as_json:
            print_json(report.to_json())
        else:
            _print_plan(report)
        if report.preflight is not None and not report.preflight.passed:
            raise typer.Exit(1)

    @group.command("status")
    def status_cmd(
        template: Annotated[
            str | None, typer.Option("--template", help="Only this template's rollouts.")
        ] = None,
        database_url: Annotated[str | None, typer.Option(help=_URL_HELP)] = None,
        state_dir: Annotated[Path | None, typer.Option(help=_STATE_HELP)] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Show the stored rollouts: status, waves, consumers and outcome metrics."""
        store = _open_store(database_url, state_dir)
        try:
            rollouts = [_status_json(r.state) for r in store.rollouts(template=template)]
        finally:
            store.close()
        if as_json:
            print_json({"rollouts": rollouts})
            return
        if not rollouts:
            _print("no rollouts stored" + (f" for {template}" if template else ""))
        for r in rollouts:
            reason = f" ({r['reason']})" if r["reason"] else ""
            _print(f"{r['rollout']}: {r['status']}{reason}, wave {r['current_wave']}")
            for w in r["waves"]:
                _print(f"  wave {w['number']}: {w['status']}, {w['consumers']} consumers")
            counts = ", ".join(f"{k} {v}" for k, v in r["consumers"].items())
            _print(f"  consumers: {counts}")
            m = r["metrics"]
            _print(
                f"  PRs opened {m['opened']}, merged {m['merged']}, closed unmerged "
                f"{m['closed_unmerged']}, reverted {m['reverted']}"
            )

    app.add_typer(group, name="rollout")
