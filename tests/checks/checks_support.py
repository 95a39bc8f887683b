"""Helpers for the checks tests: in-memory trees and a small service every checker passes."""

from __future__ import annotations

from collections.abc import Mapping

from bot.tree import File, Tree

CLEAN_PYPROJECT = """\
[project]
name = "orders-service"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["fastapi>=0.115", "PyYAML>=6", "python-dotenv", "beautifulsoup4"]

[project.optional-dependencies]
dev = ["pytest>=8"]

[dependency-groups]
lint = ["scikit-learn"]
"""

CLEAN_MAIN = '''\
"""The orders service."""

import subprocess
from pathlib import Path

import yaml
from bs4 import BeautifulSoup
from dotenv import load_dotenv
from fastapi import FastAPI

from orders.settings import Settings

from .settings import DEFAULT_NAME

app = FastAPI()


def load(path: Path, extra: list[str] | None = None) -> dict[str, object]:
    """Read a YAML config safely."""
    load_dotenv()
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping")
    try:
        BeautifulSoup("<p>x</p>", "html.parser")
    except ValueError:
        data["soup"] = False
    subprocess.run(["git", "--version"], check=False, shell=False)
    return {**data, "name": DEFAULT_NAME, "settings": Settings(), "extra": extra or []}
'''

CLEAN_SETTINGS = '''\
"""Settings."""

DEFAULT_NAME = "orders"


class Settings:
    """Nothing configurable yet."""
'''

CLEAN_TEST = """\
from orders.main import app


def test_app_exists() -> None:
    assert app is not None
"""

CLEAN_SERVICE: dict[str, str] = {
    "pyproject.toml": CLEAN_PYPROJECT,
    "src/orders/__init__.py": "",
    "src/orders/main.py": CLEAN_MAIN,
    "src/orders/settings.py": CLEAN_SETTINGS,
    "tests/test_main.py": CLEAN_TEST,
    "config/app.yaml": "name: orders\nports: [8000, 8001]\n",
    "config/app.json": '{"name": "orders"}\n',
    "config/app.toml": 'name = "orders"\n',
    "README.md": "# orders\n",
}


def make_tree(spec: Mapping[str, str | bytes]) -> Tree:
    """An in-memory tree from ``{path: text or bytes}``."""
    return {
        path: File(content.encode() if isinstance(content, str) else content)
        for path, content in spec.items()
    }
