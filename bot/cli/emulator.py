"""`evobot emulator serve`: run the GitHub emulator as a process (for tests and demos)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli._output import err_console


def register(app: typer.Typer) -> None:
    """Add the `emulator` command group to `app`."""
    group = typer.Typer(
        name="emulator",
        help="A GitHub emulator backed by real git repositories (for tests and demos).",
        no_args_is_help=True,
    )

    @group.command("serve")
    def serve(
        port: Annotated[int, typer.Option(help="TCP port to listen on (0 picks a free one).")],
        state: Annotated[Path, typer.Option(help="Directory for the repositories and state.json.")],
        seed: Annotated[
            Path | None, typer.Option(help="YAML seed: app, installations, repos, webhook.")
        ] = None,
        host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    ) -> None:
        """Serve the REST API under /api/v3, git over HTTP, and /_emulator control endpoints.

        An existing STATE/state.json is resumed; otherwise the seed is loaded into STATE.
        """
        from bot.emulator.seed import Seed, load_seed
        from bot.emulator.server import EmulatorServer

        parsed = load_seed(seed) if seed is not None else Seed()
        server = EmulatorServer(parsed, state, host=host, port=port)
        emu = server.emulator
        err_console.print(
            f"GitHub emulator on {emu.base_url}  (API {emu.api_url}, app id {emu.app['id']}, "
            f"state {state})",
            highlight=False,
            markup=False,
        )
        if not parsed.app.private_key and not parsed.app.private_key_path:
            key_path = state / "app-private-key.pem"
            err_console.print(
                f"the app's generated private key is in {key_path}", highlight=False, markup=False
            )
        server.serve_forever()

    app.add_typer(group)
