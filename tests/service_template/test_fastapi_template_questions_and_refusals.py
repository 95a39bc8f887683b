"""The template's manifest validates, its questions have sensible defaults, and bad answers are
refused before anything is rendered."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.errors import EvobotError
from bot.template import load_manifest, open_template, resolve_answers
from bot.tree import Tree, digest


def test_manifest_validates_and_asks_the_documented_questions(template_dir: Path) -> None:
    manifest = load_manifest(template_dir)

    assert manifest.name == "fastapi-service"
    assert list(manifest.questions) == [
        "service_name",
        "description",
        "owner_team",
        "python_version",
        "http_port",
        "use_database",
        "database_name",
        "metrics",
    ]
    assert manifest.questions["service_name"].required
    assert manifest.questions["python_version"].choice_values == ["3.11", "3.12", "3.13"]
    assert manifest.questions["use_database"].type == "bool"
    assert manifest.questions["metrics"].type == "bool"
    assert set(manifest.skip_if_exists) == {"README.md", "CHANGELOG.md"}


def test_only_the_service_name_is_required(template_dir: Path) -> None:
    manifest = load_manifest(template_dir)

    answers = resolve_answers(manifest, {"service_name": "orders"}).values

    assert answers == {
        "service_name": "orders",
        "description": "The orders service.",
        "owner_team": "platform",
        "python_version": "3.12",
        "http_port": 8000,
        "use_database": False,
        "metrics": True,
    }


def test_database_name_is_asked_only_with_a_database(template_dir: Path) -> None:
    manifest = load_manifest(template_dir)

    answers = resolve_answers(manifest, {"service_name": "orders", "use_database": "yes"}).values

    assert answers["use_database"] is True
    assert answers["database_name"] == "orders"


@pytest.mark.parametrize(
    "bad_name",
    ["Orders", "1orders", "my-service", "class", "fastapi", "logging", "a" * 41, ""],
)
def test_rendering_refuses_an_invalid_service_name(template_dir: Path, bad_name: str) -> None:
    with open_template(str(template_dir)) as template, pytest.raises(EvobotError) as caught:
        resolve_answers(template.manifest, {"service_name": bad_name})

    assert "service_name" in caught.value.message


@pytest.mark.parametrize(
    ("key", "value"),
    [("python_version", "3.9"), ("http_port", "80"), ("owner_team", "Team Rocket")],
)
def test_other_invalid_answers_are_refused(template_dir: Path, key: str, value: str) -> None:
    manifest = load_manifest(template_dir)

    with pytest.raises(EvobotError) as caught:
        resolve_answers(manifest, {"service_name": "orders", key: value})

    assert key in caught.value.message


def test_feature_files_appear_only_with_their_feature(
    render_service: Callable[..., Tree],
) -> None:
    plain = render_service({"service_name": "orders", "use_database": False, "metrics": False})
    full = render_service({"service_name": "orders", "use_database": True, "metrics": True})

    feature_files = {
        "src/orders/db.py",
        "src/orders/metrics.py",
        "tests/test_database.py",
        "tests/test_metrics.py",
    }
    assert feature_files <= full.keys()
    assert not feature_files & plain.keys()
    assert not any(path.endswith(".jinja") or "{" in path for path in full)
    assert ".evobot.yml" not in full
    assert b"sqlalchemy" not in plain["pyproject.toml"].data
    assert b"prometheus-client" not in plain["pyproject.toml"].data


def test_rendering_is_deterministic(render_service: Callable[..., Tree]) -> None:
    answers = {"service_name": "orders", "use_database": True}

    assert digest(render_service(answers)) == digest(render_service(answers))


def test_evobot_render_refuses_a_bad_name_and_writes_nothing(
    template_dir: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "service"
    evobot = Path(sys.executable).parent / "evobot"

    completed = subprocess.run(
        [str(evobot), "render", str(template_dir), str(dest), "--data", "service_name=Orders"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )

    assert completed.returncode == 1
    assert "service_name" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not dest.exists()


def test_evobot_render_writes_the_service_and_its_record(
    template_dir: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "service"
    evobot = Path(sys.executable).parent / "evobot"

    completed = subprocess.run(
        [
            str(evobot),
            "render",
            str(template_dir),
            str(dest),
            "--data",
            "service_name=orders",
            "--data",
            "use_database=true",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    record = yaml.safe_load((dest / ".evobot.yml").read_text())
    assert record["answers"]["service_name"] == "orders"
    assert record["answers"]["database_name"] == "orders"
    assert record["template"] == str(template_dir)
    assert (dest / "src/orders/db.py").is_file()
