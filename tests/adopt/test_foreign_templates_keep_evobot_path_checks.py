"""Templates written for copier or cookiecutter render through evobot's own path checks: a name
cannot climb out of the consumer, land in `.git`, or make paths that collide on macOS/Windows."""

from __future__ import annotations

from pathlib import Path

import pytest
from adopt_support import evobot_render, template_repo

from bot.errors import RenderError


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("{{ '..' }}/escape.txt.jinja", "would leave its directory"),
        ("{{ '.GIT' }}/hooks/post-checkout.jinja", "git's own directory"),
        ("{{ sep }}.txt.jinja", "path separator"),
    ],
)
def test_copier_names_are_confined(tmp_path: Path, name: str, said: str) -> None:
    config = "_exclude: []\nsep: a/b\n"  # no default exclusions: nothing hides the name
    repo = template_repo(tmp_path / "tpl", [{"copier.yml": config, name: "boom\n"}])
    with pytest.raises(RenderError, match=said):
        evobot_render(str(repo))


def test_copier_case_collision_is_refused(tmp_path: Path) -> None:
    repo = template_repo(
        tmp_path / "tpl",
        [{"copier.yml": "x: 1\n", "README.md": "a\n", "{{ 'readme' }}.md.jinja": "b\n"}],
    )
    with pytest.raises(RenderError, match="differ only in letter case"):
        evobot_render(str(repo))


def test_cookiecutter_names_are_confined(tmp_path: Path) -> None:
    repo = template_repo(
        tmp_path / "tpl",
        [
            {
                "cookiecutter.json": '{"project_slug": "svc", "evil": ".git"}',
                "{{cookiecutter.project_slug}}/{{cookiecutter.evil}}/config": "[core]\n",
            }
        ],
    )
    with pytest.raises(RenderError, match="git's own directory"):
        evobot_render(str(repo))
