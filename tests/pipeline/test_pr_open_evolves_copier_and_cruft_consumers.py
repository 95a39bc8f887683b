"""`evolve_pr` (what `evobot pr open` runs) evolves a consumer that copier or cruft generated,
with no `.evobot.yml`: the PR regenerates its answers file in that tool's own format, keeps the
consumer's edits, and lists the tasks or hooks the template asks to run without running them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "forge"))

from forge_helpers import INSTALLATION, make_forge

from bot.clock import ManualClock
from bot.emulator.clock import EmulatorClock
from bot.emulator.testing import running_emulator
from bot.errors import EvobotError
from bot.forge import GitHubForge
from bot.pipeline import EvolvePrOptions, GitTemplateFetcher, evolve_pr

COPIER_YML = (
    "_answers_file: .copier-answers.yml\n"
    "_tasks:\n  - pre-commit install\n"
    "name:\n  type: str\n  default: shop\n"
)
ANSWERS = (
    "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
    "{{ _copier_answers | to_nice_yaml -}}\n"
)
COPIER_V1 = {
    "copier.yml": COPIER_YML,
    "{{ _copier_conf.answers_file }}.jinja": ANSWERS,
    "README.md.jinja": "# {{ name }}\n\nA service.\n",
    "app.py.jinja": "NAME = '{{ name }}'\n",
    "old.cfg": "legacy = true\n",
}
COPIER_V2 = {"app.py.jinja": "NAME = '{{ name }}'\nVERSION = 2\n", "CHANGELOG.md": "## 2.0.0\n"}

COOKIECUTTER_JSON = json.dumps({"project_slug": "svc", "owner": "platform"})
SLUG = "{{cookiecutter.project_slug}}"
CRUFT_V1 = {
    "cookiecutter.json": COOKIECUTTER_JSON,
    f"{SLUG}/README.md": (
        "# {{ cookiecutter.project_slug }}\n\nOwned by {{ cookiecutter.owner }}.\n"
    ),
    f"{SLUG}/app.py": "OWNER = '{{ cookiecutter.owner }}'\n",
    "hooks/post_gen_project.py": "print('would run')\n",
}
CRUFT_V2 = {f"{SLUG}/app.py": "OWNER = '{{ cookiecutter.owner }}'\nVERSION = 2\n"}


def _seed() -> dict[str, Any]:
    def template(name: str, v1: dict[str, str], v2: dict[str, str], delete: list[str]) -> Any:
        return {
            "full_name": f"acme/{name}",
            "files": v1,
            "commits": [
                {"message": "v1", "tag": "v1.0.0"},
                {"message": "v2", "files": v2, "delete": delete, "tag": "v2.0.0"},
            ],
        }

    return {
        "installations": [{"id": INSTALLATION, "account": "acme"}],
        "repos": [
            template("copier-tpl", COPIER_V1, COPIER_V2, ["old.cfg"]),
            template("cookie-tpl", CRUFT_V1, CRUFT_V2, []),
        ],
    }


def _evolve(forge: GitHubForge, repo: str, tmp_path: Path) -> Any:
    return evolve_pr(
        forge,
        repo,
        clock=ManualClock(),
        templates=GitTemplateFetcher(tmp_path / "cache"),
        options=EvolvePrOptions(),
    )


def test_pr_open_evolves_a_copier_consumer_in_copier_format(tmp_path: Path) -> None:
    with running_emulator(_seed(), tmp_path / "emu", clock=EmulatorClock(speed=500)) as emu:
        url = emu.git_url("acme", "copier-tpl")
        emu.create_repo(
            {
                "full_name": "acme/shop",
                "files": {
                    ".copier-answers.yml": (
                        "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
                        f"_commit: v1.0.0\n_src_path: {url}\nname: billing\n"
                    ),
                    "README.md": "# billing\n\nA service.\n\nOwned by the billing team.\n",
                    "app.py": "NAME = 'billing'\n",
                    "old.cfg": "legacy = true\n",
                },
            }
        )
        forge = make_forge(emu)
        result = _evolve(forge, "acme/shop", tmp_path)

        assert result.action == "created", result.message
        assert result.from_version == "v1.0.0" and result.to_version == "v2.0.0"
        branch = forge.read_tree("acme/shop", result.branch).tree
        assert ".evobot.yml" not in branch
        answers = yaml.safe_load(branch[".copier-answers.yml"].data)
        assert answers["_commit"] == "v2.0.0"
        assert answers["_src_path"] == url
        assert answers["name"] == "billing"
        assert branch["app.py"].data == b"NAME = 'billing'\nVERSION = 2\n"
        assert branch["CHANGELOG.md"].data == b"## 2.0.0\n"
        assert "old.cfg" not in branch
        assert b"Owned by the billing team." in branch["README.md"].data  # the local edit
        body = emu.pull("acme/shop", result.number)["body"]
        assert "Tasks this template asks to run, not run by evobot" in body
        assert "pre-commit install" in body


def test_pr_open_evolves_a_cruft_consumer_in_cruft_format(tmp_path: Path) -> None:
    with running_emulator(_seed(), tmp_path / "emu", clock=EmulatorClock(speed=500)) as emu:
        forge = make_forge(emu)
        url = emu.git_url("acme", "cookie-tpl")
        v1 = forge.read_tree("acme/cookie-tpl", "v1.0.0").commit_sha
        v2 = forge.read_tree("acme/cookie-tpl", "v2.0.0").commit_sha
        cruft = {
            "template": url,
            "commit": v1,
            "checkout": None,
            "context": {
                "cookiecutter": {
                    "project_slug": "svc",
                    "owner": "payments",
                    "_template": url,
                }
            },
            "directory": None,
            "skip": ["README.md"],
        }
        emu.create_repo(
            {
                "full_name": "acme/pay",
                "files": {
                    ".cruft.json": json.dumps(cruft, indent=2) + "\n",
                    "README.md": "# svc\n\nOwned by payments, edited.\n",
                    "app.py": "OWNER = 'payments'\n",
                },
            }
        )
        result = _evolve(forge, "acme/pay", tmp_path)

        assert result.action == "created", result.message
        branch = forge.read_tree("acme/pay", result.branch).tree
        assert ".evobot.yml" not in branch
        recorded = json.loads(branch[".cruft.json"].data)
        assert recorded["commit"] == v2
        assert recorded["skip"] == ["README.md"]
        assert recorded["context"]["cookiecutter"]["owner"] == "payments"
        assert branch["app.py"].data == b"OWNER = 'payments'\nVERSION = 2\n"
        assert branch["README.md"].data == b"# svc\n\nOwned by payments, edited.\n"
        body = emu.pull("acme/pay", result.number)["body"]
        assert "hook: hooks/post\\_gen\\_project.py" in body  # Markdown-escaped


def test_pr_open_names_a_repository_that_is_no_consumer(tmp_path: Path) -> None:
    with running_emulator(_seed(), tmp_path / "emu", clock=EmulatorClock(speed=500)) as emu:
        emu.create_repo({"full_name": "acme/plain", "files": {"README.md": "hi\n"}})
        with pytest.raises(EvobotError) as caught:
            _evolve(make_forge(emu), "acme/plain", tmp_path)
        message = caught.value.message
        assert "acme/plain: no .evobot.yml, .copier-answers.yml or .cruft.json" in message


def test_a_copier_consumer_recording_a_local_path_is_refused_before_git_runs(
    tmp_path: Path,
) -> None:
    local = tmp_path / "on-the-bot"
    local.mkdir()
    with running_emulator(_seed(), tmp_path / "emu", clock=EmulatorClock(speed=500)) as emu:
        emu.create_repo(
            {
                "full_name": "acme/sneaky",
                "files": {".copier-answers.yml": f"_commit: v1\n_src_path: {local}\nname: x\n"},
            }
        )
        with pytest.raises(EvobotError) as caught:
            _evolve(make_forge(emu), "acme/sneaky", tmp_path)
        message = caught.value.message
        assert "is not allowed here" in message
        assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
