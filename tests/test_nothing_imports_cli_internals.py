"""Tests and benchmarks call the library (`bot.pipeline` and below), never the CLI's modules.

The CLI is driven only as a person drives it: through its entry point `bot.cli.main`, which
`tests/evobot_cli_support.py` alone imports, or as an `evobot` subprocess.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINT_HELPER = ROOT / "tests" / "evobot_cli_support.py"


def cli_imports(source: str) -> list[str]:
    """The `bot.cli` modules and names ``source`` imports, as ``module`` or ``module:name``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[:2] == ["bot", "cli"]]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[:2] == ["bot", "cli"]:
                found += [f"{node.module}:{a.name}" for a in node.names]
            elif node.module == "bot":
                found += [f"bot:{a.name}" for a in node.names if a.name == "cli"]
    return found


def test_only_the_entry_point_helper_imports_the_cli() -> None:
    offenders = {
        str(path.relative_to(ROOT)): found
        for folder in ("tests", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != ENTRY_POINT_HELPER and (found := cli_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_helper_imports_only_the_entry_point() -> None:
    assert cli_imports(ENTRY_POINT_HELPER.read_text(encoding="utf-8")) == ["bot.cli:main"]


@pytest.mark.parametrize(
    "source",
    [
        "from bot.cli.pr import evolve_remote",
        "from bot.cli import main",
        "import bot.cli._template_auth",
        "from bot import cli",
        "def f():\n    from bot.cli import update\n",
    ],
)
def test_every_form_of_import_is_seen(source: str) -> None:
    assert cli_imports(source) != []
