"""`template.yml` is validated strictly; errors name the file, the key and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ManifestError
from bot.template import load_manifest, parse_manifest


def _load(tmp_path: Path, text: str) -> None:
    (tmp_path / "template.yml").write_text(text)
    load_manifest(tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: t\nquestoins: {}\n", r"template.yml: questoins: Extra inputs are not permitted"),
        ("name: t\nquestions:\n  a: {type: text}\n", r"template.yml: questions.a.type: Input"),
        ("name: t\nquestions:\n  a: {type: choice}\n", r"questions.a: .*non-empty 'choices'"),
        ("name: t\nquestions:\n  a: {validator: '[a-'}\n", r"questions.a.validator: .*regex"),
        ("name: t\nquestions:\n  a: {when: 'x ==='}\n", r"questions.a.when: .*syntax"),
        ("name: t\nquestions:\n  a: {default: '{{ x'}\n", r"questions.a: .*Jinja syntax error"),
        ("name: t\nquestions:\n  a-b: {}\n", r"questions: .*'a-b' is not an identifier"),
        ("name: t\nmigrations:\n  - {version: banana}\n", r"migrations.0.version: .*PEP 440"),
        ("name: t\nmigrations:\n  - {version: '1', delete_files: [../x]}\n", r"delete_files"),
        ("name: t\nfiles_dir: ../outside\n", r"files_dir: .*unsafe path"),
        ("name: t\nquestions:\n  on: {}\n", r"questions: .*True is not text .*quote the name"),
        ("questions: {}\n", r"template.yml: name: Field required"),
        ("- a\n- b\n", r"template.yml: must be a mapping"),
        ("name: [unclosed\n", r"template.yml: not valid YAML"),
    ],
)
def test_invalid_manifest_errors(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ManifestError, match=expected) as info:
        _load(tmp_path, text)
    assert str(tmp_path / "template.yml") in info.value.message


def test_missing_manifest_is_named(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"template.yml: not found"):
        load_manifest(tmp_path)


def test_full_manifest_parses_with_defaults() -> None:
    manifest = parse_manifest(
        """
name: fastapi-service
description: A service
questions:
  service_name: {type: str, help: Name, validator: {regex: '[a-z_]+', message: lowercase}}
  python_version: {type: choice, choices: ['3.11', '3.12'], default: '3.12'}
  use_database: {type: bool, default: false}
exclude: ['*.pyc']
skip_if_exists: [README.md]
migrations:
  - {version: v2.0.0, rename_answers: {db: use_database}}
  - {version: '1.5', rename_files: {a.txt: b.txt}, set_answers: {metrics: true}}
"""
    )
    assert manifest.files_dir == "files"
    assert manifest.version is None
    assert list(manifest.questions) == ["service_name", "python_version", "use_database"]
    assert [m.version for m in manifest.migrations] == ["1.5", "v2.0.0"]
    assert [m.version for m in manifest.migrations_between("1.0.0", "2.0.0")] == ["1.5", "v2.0.0"]
    assert [m.version for m in manifest.migrations_between("1.5", "v3")] == ["v2.0.0"]
    assert manifest.migrations_between("2.0.0", "2.1.0") == []
