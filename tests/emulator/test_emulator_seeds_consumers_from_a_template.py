"""Seeding a fleet: a template repository with tagged versions and consumers rendered from it,
whose `.evobot.yml` points back at the emulator's git URL for the template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from evobot_testing import build_file_tree, git, git_commit_all, git_init

from bot.consumer import parse_consumer_config
from bot.emulator import load_seed
from bot.emulator.testing import running_emulator
from bot.template import open_template

TEMPLATE_V1 = {
    "template.yml": "name: greeter\nquestions:\n  name:\n    type: str\n    default: world\n",
    "files/hello.txt.jinja": "Hello {{ name }}!\n",
    "files/static.txt": "static\n",
}


def _template_repo(root: Path) -> Path:
    git_init(root)
    build_file_tree(root, TEMPLATE_V1)
    git_commit_all(root, "v1", tag="v1.0.0")
    build_file_tree(root, {"files/hello.txt.jinja": "Hello, {{ name }}!\n"})
    git_commit_all(root, "v1.1", tag="v1.1.0")
    return root


def test_consumers_are_rendered_from_a_seeded_template_version(
    tmp_path: Path, app_key_pem: str
) -> None:
    template = _template_repo(tmp_path / "template-src")
    seed: dict[str, Any] = {
        "app": {"private_key": app_key_pem},
        "installations": [{"id": 1, "account": "acme"}],
        "repos": [
            {"full_name": "acme/greeter-template", "from_git": str(template)},
            {
                "full_name": "acme/consumer-a",
                "render": {
                    "template": "acme/greeter-template",
                    "ref": "v1.0.0",
                    "answers": {"name": "Ada"},
                    "ring": "canary",
                },
                "ci": {"always": "success"},
            },
            {
                "full_name": "acme/consumer-b",
                "render": {"template": "acme/greeter-template", "ref": "v1.1.0"},
            },
        ],
    }
    with running_emulator(seed, tmp_path / "state") as handle:
        files = handle.files("acme/consumer-a", "main")
        assert files["hello.txt"] == b"Hello Ada!\n"
        assert files["static.txt"] == b"static\n"
        config = parse_consumer_config(files[".evobot.yml"])
        assert config.template == handle.git_url("acme/greeter-template")
        assert config.version.ref == "v1.0.0"
        assert config.answers == {"name": "Ada"}
        assert config.rollout.ring == "canary"
        other = handle.files("acme/consumer-b", "main")
        assert other["hello.txt"] == b"Hello, world!\n"
        assert parse_consumer_config(other[".evobot.yml"]).version.ref == "v1.1.0"
        # The recorded template URL really serves the template, newest tag first.
        token = handle.installation_token("acme")
        with open_template(
            config.template,
            git_http_headers=[f"Authorization: Bearer {token}"],
            cache_dir=tmp_path / "cache",
        ) as resolved:
            assert resolved.ref == "v1.1.0"
            assert resolved.commit == git(template, "rev-parse", "v1.1.0")


def test_seed_file_paths_are_relative_to_the_seed(tmp_path: Path) -> None:
    build_file_tree(tmp_path / "seed-files", {"a.txt": "A\n", "sub/b.txt": "B\n"})
    (tmp_path / "seed.yml").write_text(
        yaml.safe_dump(
            {
                "installations": [{"id": 5, "account": "acme"}],
                "repos": [{"full_name": "acme/from-dir", "from_dir": "seed-files"}],
                "webhook": {"url": "http://127.0.0.1:9/hook", "secret": "s"},
            }
        )
    )
    seed = load_seed(tmp_path / "seed.yml")
    assert seed.repos[0].from_dir == tmp_path / "seed-files"
    with running_emulator(seed, tmp_path / "state") as handle:
        assert handle.files("acme/from-dir", "main") == {"a.txt": b"A\n", "sub/b.txt": b"B\n"}
