"""`run_demo`: every step in order, and what the demo checks about the result."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.consumer import CONFIG_NAME, load_consumer_config
from bot.demo._console import say
from bot.demo.steps import (
    ANSWERS,
    DemoError,
    check_service,
    commit_all,
    edit_consumer,
    make_template_repo,
    release_template_v1_1,
    render_consumer,
)
from bot.evolution import Evolution, evolve_consumer
from bot.tree import Tree, read_tree, write_tree

__all__ = ["DemoResult", "run_demo"]


@dataclass
class DemoResult:
    """What the demo did and saw, for the rich summary and for `--json`."""

    demo_dir: Path
    template_repo: Path
    consumer: Path
    evolution: Evolution
    kept: dict[str, bool] = field(default_factory=dict)
    arrived: dict[str, bool] = field(default_factory=dict)
    second_run_changed: bool = True
    service_checks: dict[str, str] = field(default_factory=dict)
    main_py_diff: str = ""

    @property
    def ok(self) -> bool:
        checks_ok = not any(v.startswith("FAILED") for v in self.service_checks.values())
        return (
            not self.evolution.conflicts
            and all(self.kept.values())
            and all(self.arrived.values())
            and not self.second_run_changed
            and checks_ok
        )

    def to_json(self) -> dict[str, Any]:
        evolution = self.evolution
        return {
            "demo_dir": str(self.demo_dir),
            "template_repo": str(self.template_repo),
            "consumer": str(self.consumer),
            "from": evolution.from_version.model_dump(),
            "to": evolution.to_version.model_dump(),
            "files": [{"path": o.path, "status": str(o.status)} for o in evolution.files],
            "conflicts": list(evolution.conflicts),
            "local_edits_kept": self.kept,
            "template_changes_arrived": self.arrived,
            "second_update_is_noop": not self.second_run_changed,
            "service_checks": self.service_checks,
            "ok": self.ok,
        }


def run_demo(demo_dir: Path, *, run_service_checks: bool = True, quiet: bool = False) -> DemoResult:
    """Run every step in ``demo_dir`` (which must be empty or absent) and return what happened."""
    if demo_dir.exists() and not demo_dir.is_dir():
        raise DemoError(f"{demo_dir}: exists and is not a directory; the demo needs an empty one")
    try:
        demo_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DemoError(f"{demo_dir}: cannot create the demo directory: {exc.strerror}") from None
    if any(demo_dir.iterdir()):
        raise DemoError(f"{demo_dir}: not empty; the demo needs an empty directory")
    template_repo = demo_dir / "template-repo"
    consumer = demo_dir / "orders-service"

    say(quiet, "[bold]1.[/] template repository from templates/fastapi-service, tagged v1.0.0")
    make_template_repo(template_repo)
    say(quiet, "[bold]2.[/] render the orders service from v1.0.0 and commit it")
    render_consumer(template_repo, consumer, ANSWERS)
    say(quiet, "[bold]3.[/] the orders team edits it: a /orders route, its test, README notes")
    edit_consumer(consumer)
    before = read_tree(consumer)
    say(quiet, "[bold]4.[/] the platform team releases v1.1.0: request ids in headers and logs")
    release_template_v1_1(template_repo)
    say(quiet, "[bold]5.[/] evolve the orders service to v1.1.0 (three-way merge) and commit")
    evolution = evolve_consumer(before, load_consumer_config(consumer))
    write_tree(consumer, evolution.tree, delete=evolution.deleted)
    commit_all(consumer, f"evobot: fastapi-service {evolution.to_version.ref}")

    after = read_tree(consumer)
    result = DemoResult(demo_dir, template_repo, consumer, evolution)
    result.kept = _local_edits_kept(before, after)
    result.arrived = _template_changes_arrived(after)
    result.main_py_diff = _diff(before, after, "src/orders/main.py")
    say(quiet, "[bold]6.[/] run the update again: it must change nothing")
    result.second_run_changed = evolve_consumer(after, load_consumer_config(consumer)).changed
    if run_service_checks:
        say(quiet, "[bold]7.[/] run the evolved service's own checks")
        result.service_checks = check_service(consumer)
    return result


def _text(tree: Tree, path: str) -> str:
    f = tree.get(path)
    return f.data.decode("utf-8") if f is not None else ""


def _diff(before: Tree, after: Tree, path: str) -> str:
    lines = difflib.unified_diff(
        _text(before, path).splitlines(keepends=True),
        _text(after, path).splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    return "".join(lines)


def _local_edits_kept(before: Tree, after: Tree) -> dict[str, bool]:
    main_py = _text(after, "src/orders/main.py")
    api, api_test = "src/orders/api.py", "tests/test_api.py"
    return {
        f"{api} untouched": after.get(api) == before[api],
        f"{api_test} untouched": after.get(api_test) == before[api_test],
        "main.py still includes the /orders router": "app.include_router(api_router)" in main_py
        and "from orders.api import router as api_router" in main_py,
        "README.md keeps the on-call section": "## On-call" in _text(after, "README.md"),
    }


def _template_changes_arrived(after: Tree) -> dict[str, bool]:
    config = _text(after, CONFIG_NAME)
    return {
        "src/orders/request_id.py added": "src/orders/request_id.py" in after,
        "main.py installs RequestIdMiddleware": "RequestIdMiddleware"
        in _text(after, "src/orders/main.py"),
        "log lines carry request_id": "current_request_id()" in _text(after, "src/orders/logs.py"),
        "new question answered with its default": "request_id_header: X-Request-ID" in config,
        ".evobot.yml records v1.1.0": "ref: v1.1.0" in config,
    }
