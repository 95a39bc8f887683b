"""The installed `evobot` script prints an error as one unwrapped paragraph on stderr, exits 1
and shows no traceback, whatever the message holds."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from cli_helpers import EVOBOT, template_repo


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    env["COLUMNS"] = "40"  # narrow: rich must still not break the message inside a path
    return subprocess.run(
        [str(EVOBOT), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_render_under_a_file_fails_with_one_paragraph(tmp_path: Path) -> None:
    template_repo(tmp_path / "tpl")
    (tmp_path / "afile").write_text("x")
    proc = _run(tmp_path, "render", "tpl", "afile/a-rather-long-destination-name")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    line = proc.stderr.strip()
    assert "\n" not in line
    assert line.startswith("error: ")
    assert f"{tmp_path}/afile/a-rather-long-destination-name" in line


def test_markup_like_text_in_a_message_is_printed_as_is(tmp_path: Path) -> None:
    proc = _run(tmp_path, "update", "svc[/]")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "error: svc[/]: not a directory"


def test_a_port_in_use_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        proc = _run(tmp_path, "emulator", "serve", "--port", port, "--state", "st")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr
