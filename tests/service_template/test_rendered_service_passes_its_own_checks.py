"""A freshly rendered service passes its own tests, ruff (lint and format), bandit and mypy.

Real tools, run as subprocesses with this venv's binaries over the rendered files, for several
answer combinations: database on/off, metrics on/off, every Python version, a 40-character name.
mypy (the slowest, ~20 s cold) runs on the all-features and the no-features services, which
between them cover every branch of the templates.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.tree import Tree

BIN = Path(sys.executable).parent

COMBINATIONS: dict[str, dict[str, Any]] = {
    "db-metrics-py312": {
        "service_name": "orders",
        "use_database": True,
        "metrics": True,
        "python_version": "3.12",
    },
    "plain-py311": {
        "service_name": "orders",
        "use_database": False,
        "metrics": False,
        "python_version": "3.11",
    },
    "db-only-py313": {
        "service_name": "billing_api",
        "description": "Invoices, payments and refunds for every customer account.",
        "use_database": True,
        "metrics": False,
        "python_version": "3.13",
        "owner_team": "payments",
    },
    "metrics-only-py313": {
        "service_name": "billing_api",
        "use_database": False,
        "metrics": True,
        "python_version": "3.13",
        "http_port": 9000,
    },
    "longest-names-py311": {
        "service_name": "a_service_name_exactly_forty_chars_long_",
        "use_database": True,
        "database_name": "d" * 63,
        "metrics": True,
        "python_version": "3.11",
    },
}


def _clean_env(home: str) -> dict[str, str]:
    """The environment without pytest's own variables or any service setting."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "ORDERS_", "BILLING_API_", "A_SERVICE_NAME"))
    }
    env.update(PYTHONDONTWRITEBYTECODE="1", HOME=home, NO_COLOR="1")
    return env


CHECKS: dict[str, list[str]] = {
    "pytest": [str(BIN / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
    "ruff check": [str(BIN / "ruff"), "check", "--no-cache", "."],
    "ruff format": [str(BIN / "ruff"), "format", "--no-cache", "--check", "."],
    "bandit": [str(BIN / "bandit"), "-q", "-c", "pyproject.toml", "-r", "src"],
    "mypy": [str(BIN / "mypy")],  # strict, files and plugins from the service's pyproject.toml
}


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache per test process, so third-party packages are analysed only once."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.mark.slow
@pytest.mark.parametrize("answers", COMBINATIONS.values(), ids=COMBINATIONS.keys())
def test_rendered_service_passes_its_own_checks(
    tmp_path: Path,
    answers: dict[str, Any],
    render_service: Callable[..., Tree],
    mypy_cache: Path,
) -> None:
    service = tmp_path / "service"
    tree = render_service(answers, service)
    assert f"src/{answers['service_name']}/main.py" in tree

    failures = []
    env = _clean_env(str(tmp_path))
    features = (answers["use_database"], answers["metrics"])
    for name, command in CHECKS.items():
        if name == "mypy":
            if features not in ((True, True), (False, False)):
                continue
            command = [*command, "--cache-dir", str(mypy_cache)]
        result = subprocess.run(
            command, cwd=service, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            output = result.stdout + result.stderr
            failures.append(f"--- {name} exited {result.returncode}\n{output}")

    assert not failures, "\n".join(failures)
