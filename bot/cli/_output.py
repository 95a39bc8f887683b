"""Output for people (rich) and for machines (`--json`), shared by every command.

Both consoles print text literally: paths, names and messages come from people, templates and
repositories, so neither rich markup (`[bold]`), emoji codes (`:x:`) nor highlighting is ever
read in them. Styled output is built from `rich.text.Text` parts, which style without parsing.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

__all__ = ["JsonOption", "console", "err_console", "print_json"]

console = Console(markup=False, emoji=False, highlight=False)
err_console = Console(stderr=True, markup=False, emoji=False, highlight=False)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON with sorted keys to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
