"""A tarball yields the tree, its commit id and the same tree id git computes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from evobot_testing import build_file_tree, git, git_commit_all, git_init

from bot.forge.archive import blob_sha, read_tarball, tree_sha
from bot.tree import File


def _archive(root: Path) -> bytes:
    return subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar.gz", "--prefix=o-r-abc/", "HEAD"],
        capture_output=True,
        check=True,
    ).stdout


def test_tree_id_and_commit_id_come_from_the_archive(tmp_path: Path) -> None:
    root = git_init(tmp_path / "repo")
    build_file_tree(
        root,
        {
            "README.md": "hi\n",
            "src/pkg/a.py": "a = 1\n",
            "src/pkg-b.txt": "sorting trap\n",
            "src/pkg.txt": "another\n",
            "bin/run": "#!/bin/sh\n",
            "data.bin": b"\x00\x01\x02",
        },
    )
    (root / "bin/run").chmod(0o755)
    (root / "link").symlink_to("README.md")
    commit = git_commit_all(root, "init")

    archive = read_tarball(_archive(root))
    assert archive.commit_sha == commit
    assert archive.tree_sha == git(root, "rev-parse", "HEAD^{tree}").strip()
    assert archive.tree["bin/run"] == File(b"#!/bin/sh\n", executable=True)
    assert archive.tree["data.bin"].data == b"\x00\x01\x02"
    assert archive.symlinks == {"link": "README.md"}
    assert blob_sha(b"hi\n") == git(root, "hash-object", "README.md").strip()


def test_export_ignore_makes_the_tree_id_unknown(tmp_path: Path) -> None:
    root = git_init(tmp_path / "repo")
    build_file_tree(root, {".gitattributes": "secret.txt export-ignore\n", "secret.txt": "x\n"})
    git_commit_all(root, "init")
    archive = read_tarball(_archive(root))
    assert "secret.txt" not in archive.tree
    assert archive.tree_sha is None  # the archive is not the commit's whole tree


def test_empty_tree_id_matches_git() -> None:
    assert tree_sha({}) == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
