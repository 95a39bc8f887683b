"""New questions get their defaults; migrations rename and set answers; plain commits skip them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from evobot_testing import git
from evolution_helpers import TemplateRepo, make_consumer, run_evobot

from bot.consumer import load_consumer_config
from bot.evolution import evolve_consumer
from bot.tree import read_tree


def answers_of(consumer: Path) -> dict[str, object]:
    data = yaml.safe_load((consumer / ".evobot.yml").read_text())
    return dict(data["answers"])


def test_new_question_gets_its_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    v1 = {"name": "svc", "questions": {"name": {"type": "str", "default": "demo"}}}
    v2 = {
        "name": "svc",
        "questions": {
            "name": {"type": "str", "default": "demo"},
            "port": {"type": "int", "default": 8080},
            "image": {"type": "str", "default": "ghcr.io/acme/{{ name }}"},
        },
    }
    repo.release("v1.0.0", {"app.cfg.jinja": "name={{ name }}\n"}, v1)
    repo.release(
        "v1.1.0", {"app.cfg.jinja": "name={{ name }}\nport={{ port }}\nimage={{ image }}\n"}, v2
    )
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0", answers={"name": "pay"})

    result = run_evobot(capsys, "update", consumer)

    assert result.exit_code == 0, result.stderr
    assert (consumer / "app.cfg").read_text() == "name=pay\nport=8080\nimage=ghcr.io/acme/pay\n"
    assert answers_of(consumer) == {"name": "pay", "port": 8080, "image": "ghcr.io/acme/pay"}


def test_rename_answers_migration_keeps_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    v1 = {"name": "svc", "questions": {"name": {"type": "str", "default": "demo"}}}
    v2 = {
        "name": "svc",
        "questions": {
            "service_name": {"type": "str", "default": "demo"},
            "tier": {"type": "str", "default": "bronze"},
        },
        "migrations": [
            {
                "version": "2.0.0",
                "rename_answers": {"name": "service_name"},
                "set_answers": {"tier": "gold"},
            }
        ],
    }
    repo.release("v1.0.0", {"svc.txt.jinja": "{{ name }}\n"}, v1)
    repo.release("v2.0.0", {"svc.txt.jinja": "{{ service_name }} ({{ tier }})\n"}, v2)
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0", answers={"name": "pay"})

    result = run_evobot(capsys, "update", consumer, "--json")

    assert result.exit_code == 0, result.stderr
    assert (consumer / "svc.txt").read_text() == "pay (gold)\n"
    assert answers_of(consumer) == {"service_name": "pay", "tier": "gold"}
    assert json.loads(result.stdout)["migrations"] == ["2.0.0"]


def test_plain_commit_refs_apply_no_migration_and_say_so(tmp_path: Path) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    v2 = {
        "name": "svc",
        "questions": {"name": {"type": "str", "default": "demo"}},
        "migrations": [{"version": "2.0.0", "set_answers": {"name": "migrated"}}],
    }
    repo.release("v1.0.0", {"n.txt.jinja": "{{ name }}\n"})
    head = repo.release("v2.0.0", {"n.txt.jinja": "{{ name }}!\n"}, v2)
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0", answers={"name": "x"})
    config = load_consumer_config(consumer)
    # A consumer recorded by commit only (no tag name): no PEP 440 bound, so no migration.
    untagged = config.model_copy(
        update={"version": config.version.model_copy(update={"ref": None})}
    )
    git(repo.root, "tag", "-d", "v1.0.0")

    evolution = evolve_consumer(read_tree(consumer), untagged, vcs_ref=head)

    assert evolution.migrations == ()
    assert evolution.tree["n.txt"].data == b"x!\n"
    assert any("PEP 440" in note for note in evolution.notes)
    config_outcome = next(o for o in evolution.files if o.path == ".evobot.yml")
    assert config_outcome.detail is not None and "PEP 440" in config_outcome.detail
