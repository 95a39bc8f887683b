"""Fixtures for the FastAPI service template's tests: its directory, and rendering it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.template import open_template, render_template, resolve_answers
from bot.tree import Tree, write_tree

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "fastapi-service"

RenderService = Callable[..., Tree]


@pytest.fixture
def template_dir() -> Path:
    return TEMPLATE_DIR


@pytest.fixture
def render_service() -> RenderService:
    """``render_service(answers, dest=None)``: resolve the answers, render, optionally write."""

    def render(given: Mapping[str, Any], dest: Path | None = None) -> Tree:
        with open_template(str(TEMPLATE_DIR)) as template:
            answers = resolve_answers(template.manifest, given)
            assert answers.unknown_keys == ()
            tree = render_template(template, answers.values)
        if dest is not None:
            write_tree(dest, tree)
        return tree

    return render
