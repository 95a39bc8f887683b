"""`make demo` (`python -m bot.demo`): a template release reaches an edited service cleanly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo import DemoError, run_demo
from bot.evolution import FileStatus


def test_demo_merges_the_release_into_the_edited_service(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "demo", run_service_checks=False, quiet=True)

    statuses = {o.path: o.status for o in result.evolution.files}
    assert statuses["src/orders/main.py"] is FileStatus.UPDATED
    assert statuses["src/orders/request_id.py"] is FileStatus.ADDED
    assert statuses["tests/test_request_id.py"] is FileStatus.ADDED
    assert statuses["README.md"] is not FileStatus.UPDATED
    assert result.evolution.conflicts == ()
    assert all(result.kept.values()), result.kept
    assert all(result.arrived.values()), result.arrived
    assert result.second_run_changed is False
    assert result.ok

    main_py = (result.consumer / "src/orders/main.py").read_text()
    assert "app.include_router(api_router)" in main_py
    assert "app.add_middleware(RequestIdMiddleware" in main_py
    assert "<<<<<<<" not in main_py
    log = subprocess.run(
        ["git", "log", "--format=%s"], cwd=result.consumer, capture_output=True, text=True
    ).stdout.splitlines()
    assert log == [
        "evobot: fastapi-service v1.1.0",
        "Add order lookups and on-call notes",
        "Render fastapi-service v1.0.0",
    ]


def test_demo_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "something.txt").write_text("mine\n")

    with pytest.raises(DemoError, match="not empty"):
        run_demo(tmp_path, run_service_checks=False, quiet=True)

    assert [p.name for p in tmp_path.iterdir()] == ["something.txt"]


@pytest.mark.slow
def test_make_demo_runs_end_to_end_with_the_service_checks(tmp_path: Path) -> None:
    demo_dir = tmp_path / "demo"
    completed = subprocess.run(
        [sys.executable, "-m", "bot.demo", "--json", "--dir", str(demo_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["ok"] is True
    assert report["from"]["ref"] == "v1.0.0"
    assert report["to"]["ref"] == "v1.1.0"
    assert report["conflicts"] == []
    assert report["second_update_is_noop"] is True
    assert set(report["service_checks"]) == {"ruff check", "ruff format", "bandit", "pytest"}
    assert all(v.startswith("passed") for v in report["service_checks"].values())
    assert Path(report["consumer"], ".evobot.yml").is_file()
