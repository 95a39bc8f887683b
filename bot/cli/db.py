"""`evobot db upgrade` and `evobot db current`: the store's schema, from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli._output import console

_URL_HELP = (
    "Database URL (sqlite:///PATH or postgresql+psycopg://USER@HOST/DB). "
    "Default: $EVOBOT_DATABASE_URL, else evobot.db in the state directory."
)
_STATE_HELP = "State directory for the default SQLite database (default: $EVOBOT_STATE_DIR)."


def register(app: typer.Typer) -> None:
    """Add the `db` command group to `app`."""
    group = typer.Typer(
        name="db",
        help="The store's database: upgrade its schema, show its revision.",
        no_args_is_help=True,
    )

    @group.command("upgrade")
    def upgrade_command(
        database_url: Annotated[str | None, typer.Option(help=_URL_HELP)] = None,
        state_dir: Annotated[Path | None, typer.Option(help=_STATE_HELP)] = None,
    ) -> None:
        """Create or upgrade the store's schema to this evobot's newest revision."""
        from bot.store import create_engine_for, upgrade
        from bot.store import database_url as pick_url

        engine = create_engine_for(pick_url(database_url, state_dir=state_dir))
        try:
            status = upgrade(engine)
        finally:
            engine.dispose()
        console.print(status.describe(), highlight=False, markup=False, soft_wrap=True)

    @group.command("current")
    def current_command(
        database_url: Annotated[str | None, typer.Option(help=_URL_HELP)] = None,
        state_dir: Annotated[Path | None, typer.Option(help=_STATE_HELP)] = None,
    ) -> None:
        """Show the database's schema revision (exit 1 if a newer evobot migrated it)."""
        from bot.store import check_schema, create_engine_for
        from bot.store import database_url as pick_url

        engine = create_engine_for(pick_url(database_url, state_dir=state_dir))
        try:
            status = check_schema(engine)
        finally:
            engine.dispose()
        console.print(status.describe(), highlight=False, markup=False, soft_wrap=True)

    app.add_typer(group)
