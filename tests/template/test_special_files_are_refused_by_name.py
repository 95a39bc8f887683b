"""A FIFO, socket or device in a plain-directory template or a consumer is refused by name at
once; reading it could block `evobot` forever."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from evobot_testing import build_file_tree
from hostile_files_support import assert_refused_without_leak, run_evobot

MANIFEST = "name: mini\nquestions:\n  service_name: {default: orders}\n"


def _template(root: Path) -> Path:
    return build_file_tree(
        root, {"template.yml": MANIFEST, "files/README.md.jinja": "# {{ service_name }}\n"}
    )


def test_a_fifo_in_a_plain_template_fails_render_quickly(tmp_path: Path) -> None:
    os.mkfifo(_template(tmp_path / "tpl") / "files" / "pipe")
    started = time.monotonic()
    proc = run_evobot(tmp_path, "render", "tpl", "out", timeout=30)
    assert_refused_without_leak(proc, "tpl/files/pipe: is a FIFO", "regular files and symlinks")
    assert time.monotonic() - started < 30
    assert not (tmp_path / "out").exists()


def test_a_fifo_as_the_manifest_fails_render_quickly(tmp_path: Path) -> None:
    root = build_file_tree(tmp_path / "tpl", {"files/a.txt": "a\n"})
    os.mkfifo(root / "template.yml")
    proc = run_evobot(tmp_path, "render", "tpl", "out", timeout=30)
    assert_refused_without_leak(proc, "template.yml: is a FIFO")


def test_a_unix_socket_in_a_plain_template_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _template(tmp_path / "tpl")
    monkeypatch.chdir(root / "files")  # a relative name: socket paths are short
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("sock")
        proc = run_evobot(tmp_path, "render", "tpl", "out", timeout=30)
    assert_refused_without_leak(proc, "files/sock: is a socket")


def test_a_fifo_in_a_consumer_is_refused_by_read_tree(tmp_path: Path) -> None:
    consumer = build_file_tree(tmp_path / "svc", {"app.py": "x = 1\n"})
    os.mkfifo(consumer / "jobs.fifo")
    (consumer / "alias").symlink_to("jobs.fifo")
    code = (
        "import sys; from pathlib import Path; from bot.tree import read_tree;"
        "from bot.errors import EvobotError\n"
        "try:\n    read_tree(Path(sys.argv[1]))\n"
        "except EvobotError as e:\n    print(e.message); sys.exit(3)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(consumer)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
    assert "is a FIFO; only regular files and symlinks are read" in proc.stdout
    assert str(consumer / "alias") in proc.stdout or str(consumer / "jobs.fifo") in proc.stdout


def test_links_in_a_consumer_are_read_as_their_target_only_inside(tmp_path: Path) -> None:
    from bot.errors import RenderError
    from bot.tree import File, read_tree

    consumer = build_file_tree(tmp_path / "svc", {"real.txt": "r\n"})
    (consumer / "alias.txt").symlink_to("real.txt")
    (consumer / "gone.txt").symlink_to("missing.txt")  # dangling: nothing to read
    assert read_tree(consumer) == {"alias.txt": File(b"r\n"), "real.txt": File(b"r\n")}
    (tmp_path / "host.txt").write_text("secret\n")
    (consumer / "out.txt").symlink_to(tmp_path / "host.txt")
    with pytest.raises(RenderError, match=r"out\.txt: symlink points outside the tree"):
        read_tree(consumer)
