"""Protected and skip_if_exists paths, CRLF files, executable bits and binary files on update."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from evobot_testing import git_commit_all
from evolution_helpers import (
    BASIC_MANIFEST,
    LINES,
    TemplateRepo,
    make_consumer,
    replace_once,
    run_evobot,
)


def test_protected_paths_are_never_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    repo.release(
        "v1.0.0",
        {".github/workflows/ci.yml": "v1\n", "Dockerfile": "FROM a\n", "app.py": "x = 1\n"},
    )
    repo.release(
        "v1.1.0",
        {
            ".github/workflows/ci.yml": "v2\n",
            ".github/workflows/new.yml": "new\n",
            "Dockerfile": "FROM b\n",
            "app.py": "x = 2\n",
        },
    )
    consumer = make_consumer(
        repo, tmp_path / "consumer", ref="v1.0.0", protect=[".github/**", "Dockerfile"]
    )

    result = run_evobot(capsys, "update", consumer, "--json")

    assert result.exit_code == 0, result.stderr
    assert (consumer / ".github/workflows/ci.yml").read_text() == "v1\n"
    assert not (consumer / ".github/workflows/new.yml").exists()
    assert (consumer / "Dockerfile").read_text() == "FROM a\n"
    assert (consumer / "app.py").read_text() == "x = 2\n"
    details = {f["path"]: f["detail"] for f in json.loads(result.stdout)["files"]}
    assert "protected" in details["Dockerfile"]


def test_skip_if_exists_keeps_the_consumers_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    manifest = {**BASIC_MANIFEST, "skip_if_exists": ["CHANGELOG.md", "config/*.toml"]}
    repo.release("v1.0.0", {"CHANGELOG.md": "# Changes\n", "config/app.toml": "a = 1\n"}, manifest)
    repo.release(
        "v1.1.0",
        {
            "CHANGELOG.md": "# Changelog\n",
            "config/app.toml": "a = 2\n",
            "config/db.toml": "d = 1\n",
        },
        manifest,
    )
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")
    (consumer / "CHANGELOG.md").write_text("# Changes\n\n- shipped\n")
    git_commit_all(consumer, "changelog")

    result = run_evobot(capsys, "update", consumer)

    assert result.exit_code == 0, result.stderr
    assert (consumer / "CHANGELOG.md").read_text() == "# Changes\n\n- shipped\n"
    assert (consumer / "config/app.toml").read_text() == "a = 1\n"
    assert (consumer / "config/db.toml").read_text() == "d = 1\n"  # absent, so rendered


def test_crlf_file_keeps_its_line_endings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    repo.release("v1.0.0", {"notes.txt": LINES})
    repo.release("v1.1.0", {"notes.txt": replace_once(LINES, "line 3\n", "line three\n")})
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")
    edited = replace_once(LINES, "line 17\n", "ours 17\n").replace("\n", "\r\n")
    (consumer / "notes.txt").write_bytes(edited.encode())
    git_commit_all(consumer, "windows editor")

    result = run_evobot(capsys, "update", consumer)

    assert result.exit_code == 0, result.stderr
    data = (consumer / "notes.txt").read_bytes()
    assert data == edited.replace("line 3\r\n", "line three\r\n").encode()


def test_executable_bit_follows_the_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    repo.release("v1.0.0", {"scripts/run.sh": "#!/bin/sh\necho run\n"})
    repo.release(
        "v1.1.0", {"scripts/run.sh": "#!/bin/sh\necho run\n"}, executable=("scripts/run.sh",)
    )
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")
    assert not os.access(consumer / "scripts/run.sh", os.X_OK)

    result = run_evobot(capsys, "update", consumer, "--json")

    assert result.exit_code == 0, result.stderr
    assert os.access(consumer / "scripts/run.sh", os.X_OK)
    files = {f["path"]: f["status"] for f in json.loads(result.stdout)["files"]}
    assert files["scripts/run.sh"] == "updated"


PNG_V1 = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR v1"
PNG_V2 = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR v2"


def test_binary_file_is_replaced_when_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    repo.release("v1.0.0", {"logo.png": PNG_V1})
    repo.release("v1.1.0", {"logo.png": PNG_V2})
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")

    result = run_evobot(capsys, "update", consumer, "--json")

    assert result.exit_code == 0, result.stderr
    assert (consumer / "logo.png").read_bytes() == PNG_V2
    assert json.loads(result.stdout)["conflicts"] == []


def test_binary_file_edited_by_both_is_a_conflict_keeping_ours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    repo.release("v1.0.0", {"logo.png": PNG_V1})
    repo.release("v1.1.0", {"logo.png": PNG_V2})
    consumer = make_consumer(repo, tmp_path / "consumer", ref="v1.0.0")
    ours = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR our brand"
    (consumer / "logo.png").write_bytes(ours)
    git_commit_all(consumer, "our logo")

    result = run_evobot(capsys, "update", consumer, "--json")

    assert result.exit_code == 0, result.stderr
    assert (consumer / "logo.png").read_bytes() == ours
    assert json.loads(result.stdout)["conflicts"] == ["logo.png"]
