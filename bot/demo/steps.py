"""The demo's steps: a template repository, a consumer rendered from it, edits on both sides.

What the two teams write (the orders team's route and test, template v1.1.0's request ids) are
fixture files under `bot/demo/fixtures/`, copied or applied as they are.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.consumer import CONFIG_NAME, ConsumerConfig, TemplateVersion, dump_consumer_config
from bot.errors import EvobotError
from bot.git import Git
from bot.template import open_template, render_template, resolve_answers
from bot.tree import File, write_tree

__all__ = [
    "ANSWERS",
    "DemoError",
    "TemplateEdit",
    "check_service",
    "commit_all",
    "edit_consumer",
    "make_template_repo",
    "release_template_v1_1",
    "render_consumer",
    "template_v1_1_edits",
]

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "fastapi-service"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The orders team's own files, copied over the rendered service.
CONSUMER_EDITS = FIXTURES / "orders-edits"
# Template v1.1.0: new files copied into the template, and edits to existing ones.
TEMPLATE_V1_1_FILES = FIXTURES / "template-v1.1.0"
TEMPLATE_V1_1_EDITS = FIXTURES / "template-v1.1.0.edits.yml"

ANSWERS: dict[str, Any] = {
    "service_name": "orders",
    "description": "Order lookups for the shop front.",
    "owner_team": "checkout",
    "python_version": "3.12",
    "use_database": True,
    "metrics": True,
}

_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "evobot demo",
    "GIT_AUTHOR_EMAIL": "demo@evobot.invalid",
    "GIT_COMMITTER_NAME": "evobot demo",
    "GIT_COMMITTER_EMAIL": "demo@evobot.invalid",
}
_GIT_CONFIG = ("commit.gpgsign=false", "tag.gpgsign=false", "core.autocrlf=false")
_GIT_TIMEOUT_S = 120
_SERVICE_TIMEOUT_S = 600


class DemoError(EvobotError):
    """A demo step that failed, or an outcome the demo did not expect."""


CONSUMER_README_SECTION = """
## On-call

Page `#checkout-oncall`. Runbook: `docs/runbook.md`.
"""


@dataclass(frozen=True)
class TemplateEdit:
    """Replace ``old``, which must occur exactly once in template file ``path``, with ``new``."""

    path: str
    old: str
    new: str


def template_v1_1_edits() -> list[TemplateEdit]:
    """The edits to existing template files that make v1.1.0, from the fixture file."""
    try:
        data = yaml.safe_load(TEMPLATE_V1_1_EDITS.read_text(encoding="utf-8"))
        return [TemplateEdit(**edit) for edit in data["edits"]]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise DemoError(
            f"{TEMPLATE_V1_1_EDITS}: the demo's template edits cannot be read: {exc}",
            hint="reinstall evobot (pip install -e .); the file ships with the package",
        ) from None


def _git(cwd: Path, *args: str) -> str:
    git = Git(cwd, error=DemoError, config=_GIT_CONFIG, env=_GIT_IDENTITY, timeout=_GIT_TIMEOUT_S)
    return git.text(*args)


def commit_all(repo: Path, message: str, *, tag: str | None = None) -> str:
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "--message", message)
    if tag is not None:
        _git(repo, "tag", tag)
    return _git(repo, "rev-parse", "HEAD")


def make_template_repo(repo: Path) -> str:
    """Copy the built-in template into a fresh git repository tagged v1.0.0; return the commit."""
    if not (TEMPLATE_DIR / "template.yml").is_file():
        raise DemoError(
            f"{TEMPLATE_DIR}: the built-in template is missing",
            hint="run the demo from an evobot source checkout (pip install -e .)",
        )
    shutil.copytree(TEMPLATE_DIR, repo, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _git(repo, "init", "--quiet", "--initial-branch", "main")
    return commit_all(repo, "fastapi-service template v1.0.0", tag="v1.0.0")


def render_consumer(template_repo: Path, dest: Path, answers: Mapping[str, Any]) -> ConsumerConfig:
    """First render of a consumer through the library API, `.evobot.yml` included."""
    with open_template(str(template_repo)) as template:
        resolved = resolve_answers(template.manifest, answers)
        tree = render_template(template, resolved.values)
        config = ConsumerConfig(
            template=str(template_repo),
            version=TemplateVersion(ref=template.ref, commit=template.commit),
            answers=resolved.values,
        )
    tree[CONFIG_NAME] = File(dump_consumer_config(config).encode())
    write_tree(dest, tree)
    _git(dest, "init", "--quiet", "--initial-branch", "main")
    commit_all(dest, f"Render fastapi-service {config.version.ref}")
    return config


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if text.count(old) != 1:
        raise DemoError(f"{path}: expected {old.strip()!r} exactly once, found {text.count(old)}")
    path.write_text(text.replace(old, new), encoding="utf-8")


def _overlay(fixture: Path, dest: Path) -> None:
    """Copy every file under ``fixture`` to the same relative path under ``dest``."""
    for source in sorted(p for p in fixture.rglob("*") if p.is_file()):
        target = dest / source.relative_to(fixture)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def edit_consumer(consumer: Path) -> None:
    """What a service team does after the first render: a route of its own and README notes."""
    package = consumer / "src" / "orders"
    _overlay(CONSUMER_EDITS, consumer)
    _replace_once(
        package / "main.py",
        "from orders import __version__\n",
        "from orders import __version__\nfrom orders.api import router as api_router\n",
    )
    _replace_once(
        package / "main.py",
        "    app.include_router(health_router)\n",
        "    app.include_router(health_router)\n    app.include_router(api_router)\n",
    )
    with (consumer / "README.md").open("a", encoding="utf-8") as readme:
        readme.write(CONSUMER_README_SECTION)
    commit_all(consumer, "Add order lookups and on-call notes")


def release_template_v1_1(repo: Path) -> str:
    """The platform team's improvement: request ids in headers and logs, a new question."""
    for edit in template_v1_1_edits():
        _replace_once(repo / edit.path, edit.old, edit.new)
    _overlay(TEMPLATE_V1_1_FILES, repo)
    return commit_all(repo, "Request ids: header in and out, on every log line", tag="v1.1.0")


def _run(command: Sequence[str], cwd: Path) -> tuple[bool, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "ORDERS_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        result = subprocess.run(
            list(command),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=_SERVICE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return False, f"timed out after {_SERVICE_TIMEOUT_S} s"
    output = (result.stdout + result.stderr).strip()
    return result.returncode == 0, output


def check_service(consumer: Path) -> dict[str, str]:
    """Run the evolved service's own checks with this interpreter: ruff, bandit, and pytest.

    pytest, aiosqlite and greenlet come with `evobot[dev]` (what `make demo` installs); without
    them the service's test suite is reported as skipped rather than failing for the wrong reason.
    """
    python = sys.executable
    results: dict[str, str] = {}
    checks: dict[str, list[str]] = {
        "ruff check": [python, "-m", "ruff", "check", "--no-cache", "."],
        "ruff format": [python, "-m", "ruff", "format", "--no-cache", "--check", "."],
        "bandit": [python, "-m", "bandit", "-q", "-c", "pyproject.toml", "-r", "src"],
    }
    needed = ("pytest", "aiosqlite", "greenlet")
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if not missing:
        checks["pytest"] = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    for name, command in checks.items():
        ok, output = _run(command, consumer)
        last = output.splitlines()[-1] if output else ""
        if ok:
            results[name] = f"passed: {last}" if last else "passed"
        else:
            results[name] = f"FAILED: {output[-2000:]}"
    if missing:
        results["pytest"] = f"skipped: {', '.join(missing)} not installed (pip install -e '.[dev]')"
    return results
