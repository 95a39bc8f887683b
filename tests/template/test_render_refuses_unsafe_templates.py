"""Every unsafe or broken template is refused with a clear error naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from template_helpers import make_template

from bot.errors import RenderError
from bot.template import open_template, render_template


def _render(root: Path, answers: dict[str, object] | None = None) -> None:
    with open_template(str(root)) as template:
        render_template(template, answers or {})


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("{{ x }}.txt", "../evil", "path separator"),
        ("{{ x }}", "..", "leave its directory"),
        ("{{ x }}/a.txt", "/etc", "path separator"),
        ("{{ x }}.txt", "a\\b", "path separator"),
        ("{{ x }}.txt", "a\0b", "NUL"),
        ("dir/{{ x }}", ".", "leave its directory"),
        ("{{ x }}.txt", "two\nlines", "control character"),
    ],
)
def test_names_that_escape_the_output_are_refused(
    tmp_path: Path, name: str, value: str, words: str
) -> None:
    root = make_template(tmp_path / "tpl", {name: "content\n"})
    with pytest.raises(RenderError, match=words) as info:
        _render(root, {"x": value})
    assert f"files/{name}" in info.value.message


def test_symlink_pointing_out_of_the_template_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret\n")
    root = make_template(tmp_path / "tpl", {"ok.txt": "ok\n"})
    (root / "files" / "leak.txt").symlink_to(outside)
    with pytest.raises(RenderError, match=r"files/leak.txt: symlink points outside the template"):
        _render(root)


def test_directory_symlink_out_of_the_template_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    root = make_template(tmp_path / "tpl", {"ok.txt": "ok\n"})
    (root / "files" / "etc").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RenderError, match="symlink points outside"):
        _render(root)


def test_jinja_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    root = make_template(tmp_path / "tpl", {"app.py.jinja": "ok\nstill ok\n{% if %}\n"})
    with pytest.raises(RenderError, match=r"files/app.py.jinja:3: .*expression"):
        _render(root)


def test_syntax_error_in_a_name_is_refused(tmp_path: Path) -> None:
    root = make_template(tmp_path / "tpl", {"{{ x }.txt": "a\n"})
    with pytest.raises(RenderError, match=r"files/\{\{ x \}\.txt"):
        _render(root, {"x": 1})


@pytest.mark.parametrize(
    "expression",
    [
        "().__class__.__base__.__subclasses__()",
        "cycler.__init__.__globals__",
        "self._TemplateReference__context",
        "lipsum.__globals__['os']",
    ],
)
def test_sandbox_violations_are_refused(tmp_path: Path, expression: str) -> None:
    root = make_template(tmp_path / "tpl", {"x.txt.jinja": "fine\n{{ " + expression + " }}\n"})
    with pytest.raises(RenderError, match=r"files/x.txt.jinja:2: (sandbox violation|.*undefined)"):
        _render(root)


def test_undefined_variable_names_file_and_line(tmp_path: Path) -> None:
    root = make_template(tmp_path / "tpl", {"a/b.txt.jinja": "1\n2\n3 {{ missing_answer }}\n"})
    with pytest.raises(RenderError, match=r"files/a/b.txt.jinja:3: 'missing_answer' is undefined"):
        _render(root)


def test_error_inside_an_included_file_names_that_file(tmp_path: Path) -> None:
    root = make_template(tmp_path / "tpl", {"main.txt.jinja": "{% include 'part.jinja' %}\n"})
    (root / "part.jinja").write_text("line one\n{{ nope }}\n")
    with pytest.raises(RenderError, match=r"part.jinja:2: 'nope' is undefined"):
        _render(root)


def test_non_utf8_jinja_file_is_refused(tmp_path: Path) -> None:
    root = make_template(tmp_path / "tpl", {"latin1.txt.jinja": b"ok\ncaf\xe9\n"})
    with pytest.raises(RenderError, match=r"files/latin1.txt.jinja: not UTF-8 text \(line 2"):
        _render(root)


def test_non_utf8_plain_file_is_copied(tmp_path: Path) -> None:
    root = make_template(tmp_path / "tpl", {"latin1.txt": b"caf\xe9\n"})
    with open_template(str(root)) as template:
        assert render_template(template, {})["latin1.txt"].data == b"caf\xe9\n"


def test_two_files_rendering_to_one_path_are_refused(tmp_path: Path) -> None:
    root = make_template(tmp_path / "tpl", {"{{ a }}.txt": "1\n", "{{ b }}.txt": "2\n"})
    with pytest.raises(RenderError, match=r"both render to same\.txt"):
        _render(root, {"a": "same", "b": "same"})


def test_template_may_not_write_the_consumer_config(tmp_path: Path) -> None:
    root = make_template(tmp_path / "tpl", {".evobot.yml": "template: evil\n"})
    with pytest.raises(RenderError, match=r"may not produce \.evobot\.yml"):
        _render(root)
