"""Rendering is a pure function of template commit + answers: same bytes, same modes."""

from __future__ import annotations

from pathlib import Path

import pytest
from evobot_testing import build_file_tree, git_commit_all, git_init

from bot.errors import RenderError
from bot.template import open_template, render_template, resolve_answers
from bot.tree import digest


def test_render_twice_gives_identical_bytes_and_modes(tmp_path: Path) -> None:
    root = git_init(tmp_path / "tpl")
    build_file_tree(
        root,
        {
            "template.yml": "name: svc\nquestions:\n  pkg: {default: app}\n",
            "files/{{ pkg }}/__init__.py.jinja": '"""{{ pkg }}."""\n',
            "files/{{ pkg }}/main.py": "print('copied byte for byte {{ not rendered }}')\n",
            "files/bin/run.sh.jinja": "#!/bin/sh\nexec {{ pkg }}\n",
            "files/logo.bin": b"\x89PNG\x00\xff\xfe binary",
            "files/windows.txt.jinja": "line {{ pkg }}\r\nsecond\r\n",
            "files/no-newline.txt.jinja": "{{ pkg }}",
        },
    )
    (root / "files/bin/run.sh.jinja").chmod(0o755)
    git_commit_all(root, "template", tag="1.0.0")

    trees = []
    for _ in range(2):
        with open_template(str(root)) as template:
            answers = resolve_answers(template.manifest, {})
            trees.append(render_template(template, answers.values))
    first, second = trees
    assert first == second
    assert digest(first) == digest(second)
    assert list(first) == sorted(first)
    assert first["app/__init__.py"].data == b'"""app."""\n'
    assert first["app/main.py"].data == b"print('copied byte for byte {{ not rendered }}')\n"
    assert first["logo.bin"].data == b"\x89PNG\x00\xff\xfe binary"
    assert first["bin/run.sh"].executable is True
    assert first["bin/run.sh"].data == b"#!/bin/sh\nexec app\n"
    assert first["app/main.py"].executable is False
    assert first["no-newline.txt"].data == b"app"
    # CRLF templates keep their line endings; Jinja alone would turn them into LF.
    assert first["windows.txt"].data == b"line app\r\nsecond\r\n"


def test_plain_directory_render_matches_git_render(tmp_path: Path) -> None:
    spec = {
        "template.yml": "name: svc\n",
        "files/README.md.jinja": "# {{ 1 + 1 }}\n",
        "files/data.txt": "as is\n",
    }
    plain = build_file_tree(tmp_path / "plain", spec)
    repo = build_file_tree(git_init(tmp_path / "repo"), spec)
    commit = git_commit_all(repo, "template")
    with open_template(str(plain)) as a, open_template(str(repo)) as b:
        assert a.is_git is False and a.ref is None and len(a.commit) == 40
        assert b.is_git is True and b.commit == commit
        assert render_template(a, {}) == render_template(b, {})
    # The plain directory's digest is stable and follows its content.
    with open_template(str(plain)) as again:
        assert again.commit == a.commit
    (plain / "files" / "data.txt").write_text("changed\n")
    with open_template(str(plain)) as changed:
        assert changed.commit != a.commit


def test_random_helpers_are_not_available(tmp_path: Path) -> None:
    for text in ("{{ [1, 2, 3] | random }}", "{{ lipsum() }}"):
        root = build_file_tree(
            tmp_path / str(len(text)), {"template.yml": "name: t\n", "files/r.jinja": text}
        )
        with (
            open_template(str(root)) as template,
            pytest.raises(RenderError, match=r"files/r\.jinja"),
        ):
            render_template(template, {})
