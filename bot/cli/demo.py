"""`evobot demo`: the whole loop — emulator, service, a fleet, a release, a rollout with a
revert and a resume — or, with `--local`, the walk-through that evolves one service on disk.

This module is where the demo gets its service: the demo may use the emulator but not the
service, so `_service` here runs the service in-process (uvicorn and workers in threads) and
hands the demo what it reads.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli._output import JsonOption

if TYPE_CHECKING:
    from bot.demo.loop import ServiceInputs
    from bot.store import Store

__all__ = ["register"]

DEMO_WORKERS = 2


@dataclass(frozen=True)
class _Served:
    url: str
    store: Store


@contextmanager
def _service(inputs: ServiceInputs) -> Iterator[_Served]:
    """The webhook service on a free loopback port with its workers, against the emulator;
    its JSON logs go to ``service.log`` in its state directory."""
    import structlog

    from bot.pipeline import CheckOptions, EvolvePrOptions, GitTemplateFetcher
    from bot.pipeline.preflight import PreflightOptions
    from bot.service import Service, load_settings
    from bot.service.inprocess import serving_in_thread
    from bot.service.logs import configure_logging
    from bot.service.rollouts import RolloutOptions

    inputs.state_dir.mkdir(parents=True, exist_ok=True)
    settings = load_settings(
        app_id=str(inputs.app_id),
        private_key=inputs.private_key_pem,
        webhook_secret=inputs.webhook_secret,
        state_dir=inputs.state_dir,
        github_url=inputs.api_url,
        heal_interval=600.0,
        shutdown_grace=5.0,
    )
    # The demo's CI is the emulator's; evobot's own checks have their tests and the local demo.
    checks = CheckOptions(enabled=False)
    rollouts = RolloutOptions(
        templates=GitTemplateFetcher(inputs.state_dir / "template-cache"),
        evolve=EvolvePrOptions(checks=checks),
        preflight=PreflightOptions(checks=checks),
        reconcile_interval=settings.heal_interval,
    )
    with (inputs.state_dir / "service.log").open("w", encoding="utf-8") as log:
        configure_logging(log)
        service = Service.build(settings, clock=inputs.clock, rollouts=rollouts)
        pool = service.worker_pool(DEMO_WORKERS)
        try:
            with serving_in_thread(service.web_app()) as url:
                pool.start()
                try:
                    yield _Served(url, service.store)
                finally:
                    pool.stop(settings.shutdown_grace)
        finally:
            service.store.close()
            structlog.reset_defaults()


def demo(
    local: Annotated[
        bool,
        typer.Option(
            "--local",
            help="Only the local walk-through: evolve one service on disk, no emulator or service.",
        ),
    ] = False,
    repos: Annotated[
        int, typer.Option("--repos", min=3, max=200, help="Consumers in the fleet (2 canaries).")
    ] = 12,
    serve: Annotated[
        bool,
        typer.Option("--serve", help="Leave the service and the emulator up afterwards (Ctrl-C)."),
    ] = False,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Empty directory to work in (default: a new one).")
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep/--no-keep", help="--local: keep the demo directory.")
    ] = True,
    skip_service_checks: Annotated[
        bool,
        typer.Option(
            "--skip-service-checks", help="--local: do not run the evolved service's own checks."
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """The whole loop: a template release rolled out to a fleet in waves, a failure after a
    merge reverted, the rollout halted and resumed. `--local`: one service evolved on disk."""
    if local:
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
        return

    from bot.demo.show_loop import show_loop

    work_dir = directory or Path(tempfile.mkdtemp(prefix="evobot-demo-"))
    code = show_loop(work_dir, _service, repos=repos, json_output=json_output, serve=serve)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add `evobot demo` to ``app``."""
    app.command("demo")(demo)
