"""A template rendering two paths that macOS and Windows see as one (`A.txt` and `a.txt`,
`Docs/` and `docs/`, `café` composed and decomposed) is refused with both paths named, unless
its template.yml sets `allow_case_collisions: true`."""

from __future__ import annotations

from pathlib import Path

import pytest
from security_support import run_evobot, write_template

from bot.errors import RenderError
from bot.template import open_template, render_template
from bot.template.manifest import parse_manifest

PLAIN = "name: svc\n"
ALLOWED = "name: svc\nallow_case_collisions: true\n"


def _render(root: Path) -> dict[str, bytes]:
    with open_template(str(root)) as template:
        return {p: f.data for p, f in render_template(template, {}).items()}


@pytest.mark.parametrize(
    ("first", "second", "names"),
    [
        ("A.txt", "a.txt", ("'A.txt'", "'a.txt'")),
        ("Docs/guide.md", "docs/api.md", ("'Docs'", "'docs'")),
        ("README", "readme/more.md", ("'README'", "'readme'")),
        ("src/Caf\u00e9.py", "src/cafe\u0301.py", ("Caf\u00e9.py", "cafe\u0301.py")),
        ("x/\u212aelvin.txt", "x/kelvin.txt", ("\u212aelvin.txt", "kelvin.txt")),
    ],
)
def test_colliding_paths_are_refused_naming_both(
    tmp_path: Path, first: str, second: str, names: tuple[str, str]
) -> None:
    root = write_template(tmp_path / "t", {first: "1\n", second: "2\n"}, manifest=PLAIN)
    with pytest.raises(RenderError) as caught:
        _render(root)
    message = caught.value.message
    assert f"files/{first}" in message and f"files/{second}" in message
    for name in names:
        assert name in message
    assert "macOS and Windows" in message
    assert caught.value.hint is not None and "allow_case_collisions: true" in caught.value.hint


def test_a_templated_name_colliding_after_rendering_is_refused(tmp_path: Path) -> None:
    root = write_template(
        tmp_path / "t",
        {"{{ name }}.md": "generated\n", "readme.md": "static\n"},
        manifest="name: svc\nquestions:\n  name: {type: str, default: README}\n",
    )
    with open_template(str(root)) as template, pytest.raises(RenderError) as caught:
        render_template(template, {"name": "README"})
    assert "files/{{ name }}.md renders to README.md, and files/readme.md to readme.md" in (
        caught.value.message
    )


def test_the_setting_allows_them(tmp_path: Path) -> None:
    root = write_template(tmp_path / "t", {"A.txt": "1\n", "a.txt": "2\n"}, manifest=ALLOWED)
    assert _render(root) == {"A.txt": b"1\n", "a.txt": b"2\n"}


@pytest.mark.parametrize(
    ("first", "second"),
    [("a.txt", "b.txt"), ("stra\u00dfe.txt", "strasse.txt"), (".github/x", ".gitignore")],
)
def test_distinct_names_are_rendered(tmp_path: Path, first: str, second: str) -> None:
    root = write_template(tmp_path / "t", {first: "1\n", second: "2\n"}, manifest=PLAIN)
    assert sorted(_render(root)) == sorted([first, second])


def test_the_setting_defaults_to_refusing_and_must_be_a_bool() -> None:
    assert parse_manifest(PLAIN).allow_case_collisions is False
    assert parse_manifest(ALLOWED).allow_case_collisions is True
    with pytest.raises(Exception, match="allow_case_collisions"):
        parse_manifest("name: svc\nallow_case_collisions: sometimes\n")


def test_render_cli_refuses_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_template(tmp_path / "t", {"Makefile": "a\n", "makefile": "b\n"}, manifest=PLAIN)
    dest = tmp_path / "out"

    result = run_evobot(capsys, "render", root, dest)

    assert result.code != 0
    assert "Traceback" not in result.stderr
    assert "'Makefile' and 'makefile'" in result.message
    assert "allow_case_collisions" in result.message
    assert not dest.exists()
