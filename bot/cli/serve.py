"""`evobot serve` (the webhook service: web edge, healer and workers in one process) and
`evobot worker` (worker processes only, sharing the service's database)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

_SETTINGS_HELP = (
    "A file of EVOBOT_NAME=value lines (default: $EVOBOT_SETTINGS_FILE); the environment wins."
)


def register(app: typer.Typer) -> None:
    """Add `serve` and `worker` to `app`."""

    @app.command("serve")
    def serve_command(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
        workers: Annotated[
            int | None,
            typer.Option(help="Worker threads in this process (default: $EVOBOT_WORKERS, 2)."),
        ] = None,
        heal: Annotated[
            bool, typer.Option(help="Ask GitHub again for deliveries that never arrived.")
        ] = True,
        settings_file: Annotated[
            Path | None, typer.Option("--settings", help=_SETTINGS_HELP)
        ] = None,
    ) -> None:
        """Run the webhook service until SIGTERM: POST /webhook, /healthz, /readyz, /metrics."""
        from bot.service import Service, load_settings
        from bot.service.logs import configure_logging

        settings = load_settings(settings_file, workers=workers)
        configure_logging()
        Service.build(settings).serve(host, port, heal=heal)

    @app.command("worker")
    def worker_command(
        workers: Annotated[
            int | None,
            typer.Option(help="Worker threads in this process (default: $EVOBOT_WORKERS, 2)."),
        ] = None,
        settings_file: Annotated[
            Path | None, typer.Option("--settings", help=_SETTINGS_HELP)
        ] = None,
    ) -> None:
        """Process queued deliveries from the service's database until SIGTERM."""
        from bot.service import Service, load_settings
        from bot.service.logs import configure_logging

        settings = load_settings(settings_file, workers=workers)
        configure_logging()
        service = Service.build(settings)
        service.run_workers(settings.workers)
