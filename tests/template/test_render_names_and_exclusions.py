"""File and directory names are rendered; empty names skip, excludes drop, skip_if_exists stays."""

from __future__ import annotations

from pathlib import Path

from template_helpers import make_template

from bot.template import open_template, render_template


def test_names_render_and_empty_names_skip_files_and_directories(tmp_path: Path) -> None:
    root = make_template(
        tmp_path / "tpl",
        {
            "{{ pkg }}/{{ module }}.py": "x = 1\n",
            "{% if docs %}docs{% endif %}/index.md.jinja": "{{ undefined_when_skipped }}\n",
            "{% if ci %}ci.yml{% endif %}.jinja": "ci\n",
            "{% if not ci %}no-ci.txt{% endif %}": "none\n",
            "cache.pyc": b"\x00",
            "build/out.txt": "dropped\n",
            "LICENSE": "kept on first render\n",
        },
        {"exclude": ["*.pyc", "build"], "skip_if_exists": ["LICENSE"]},
    )
    with open_template(str(root)) as template:
        answers = {"pkg": "svc", "module": "core", "docs": False, "ci": True}
        tree = render_template(template, answers)
    assert sorted(tree) == ["LICENSE", "ci.yml", "svc/core.py"]


def test_excluding_a_rendered_path_drops_it(tmp_path: Path) -> None:
    root = make_template(
        tmp_path / "tpl",
        {"{{ name }}.txt": "a\n", "keep.txt": "b\n"},
        {"exclude": ["secret.txt"]},
    )
    with open_template(str(root)) as template:
        assert sorted(render_template(template, {"name": "secret"})) == ["keep.txt"]
        assert sorted(render_template(template, {"name": "public"})) == ["keep.txt", "public.txt"]


def test_include_of_another_template_file(tmp_path: Path) -> None:
    root = make_template(
        tmp_path / "tpl",
        {"main.txt.jinja": "{% include 'partials/head.jinja' %}body\n"},
    )
    (root / "partials").mkdir()
    (root / "partials" / "head.jinja").write_text("head {{ who }}\n")
    with open_template(str(root)) as template:
        assert render_template(template, {"who": "me"})["main.txt"].data == b"head me\nbody\n"


def test_symlink_inside_the_template_is_copied_as_its_target(tmp_path: Path) -> None:
    root = make_template(tmp_path / "tpl", {"real.txt": "real\n"})
    (root / "files" / "alias.txt").symlink_to("real.txt")
    with open_template(str(root)) as template:
        tree = render_template(template, {})
    assert tree["alias.txt"].data == b"real\n"
