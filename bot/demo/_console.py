"""The demo's own output for people (rich) and machines (`--json`).

The demo is an entry point of its own, so it keeps its own consoles rather than borrowing the
CLI's: `evobot demo` imports the demo, never the other way round.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

__all__ = ["console", "err_console", "print_json", "say"]

console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON with sorted keys to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def say(quiet: bool, message: str) -> None:
    """Announce a step (``message`` may carry rich markup), unless ``quiet``."""
    if not quiet:
        console.print(message, highlight=False)
