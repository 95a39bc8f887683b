"""evobot runs no template code: copier tasks and migrations and cookiecutter hooks are listed,
never run; Jinja extensions (Python code) are refused with a message saying why."""

from __future__ import annotations

from pathlib import Path

import pytest
from adopt_support import template_repo

from bot.errors import ManifestError
from bot.template import open_template


def test_copier_tasks_and_migrations_are_listed_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    repo = template_repo(
        tmp_path / "tpl",
        [
            {
                "copier.yml": (
                    f"_tasks:\n  - touch {marker}\n  - [touch, {marker}]\n"
                    "_migrations:\n"
                    "  - version: v2.0.0\n    command: git mv old.cfg new.cfg\n"
                    "  - version: v2.0.0\n    command: rm -f legacy.txt\n"
                    f"  - version: v3.0.0\n    command: touch {marker}\n"
                    "  - version: v3.0.0\n    command: mv a b\n    when: '{{ x }}'\n"
                    "name: demo\n"
                ),
                "README.md.jinja": "{{ name }}\n",
            }
        ],
    )
    with open_template(str(repo)) as template:
        dialect = template.manifest.dialect
        assert dialect is not None
        assert f"task: touch {marker}" in dialect.not_run
        assert f"migration v3.0.0: touch {marker}" in dialect.not_run
        assert any(item.startswith("migration v3.0.0: mv a b (when") for item in dialect.not_run)
        (migration,) = template.manifest.migrations
        assert migration.version == "v2.0.0"
        assert migration.rename_files == {"old.cfg": "new.cfg"}
        assert migration.delete_files == ["legacy.txt"]
    assert not marker.exists()


def test_copier_jinja_extensions_are_refused(tmp_path: Path) -> None:
    repo = template_repo(
        tmp_path / "tpl",
        [
            {
                "copier.yml": (
                    "_jinja_extensions:\n  - copier_templates_extensions.TemplateExtensionLoader\n"
                )
            }
        ],
    )
    with (
        pytest.raises(ManifestError, match="extensions are Python code") as info,
        open_template(str(repo)),
    ):
        pass
    assert "copier_templates_extensions.TemplateExtensionLoader" in info.value.message


def test_cookiecutter_extensions_are_refused_and_hooks_listed(tmp_path: Path) -> None:
    repo = template_repo(
        tmp_path / "tpl",
        [
            {
                "cookiecutter.json": (
                    '{"project_slug": "demo", "_extensions": ["jinja2_time.TimeExtension"]}'
                ),
                "{{cookiecutter.project_slug}}/README.md": "{{ cookiecutter.project_slug }}\n",
            }
        ],
    )
    with pytest.raises(ManifestError, match="extensions are Python code"), open_template(str(repo)):
        pass
    hooked = template_repo(
        tmp_path / "hooked",
        [
            {
                "cookiecutter.json": '{"project_slug": "demo"}',
                "hooks/post_gen_project.py": f"open({str(tmp_path / 'ran')!r}, 'w')\n",
                "{{cookiecutter.project_slug}}/README.md": "{{ cookiecutter.project_slug }}\n",
            }
        ],
    )
    with open_template(str(hooked)) as template:
        assert template.manifest.dialect is not None
        assert template.manifest.dialect.not_run == ("hook: hooks/post_gen_project.py",)


def test_template_yml_cannot_claim_a_dialect(tmp_path: Path) -> None:
    from bot.template import parse_manifest

    with pytest.raises(ManifestError, match=r"is not a template\.yml key"):
        parse_manifest("name: x\ndialect:\n  kind: copier\n  config_file: copier.yml\n")
