"""Blobs, inline text, executable modes and deletions written through the Git Data API come back
byte for byte, and the archive's computed tree id is accepted as ``base_tree``."""

from __future__ import annotations

from pathlib import Path

from forge_helpers import emulated

from bot.forge import TreeChange
from bot.pipeline.evolution_pr import tree_changes
from bot.tree import File


def test_changes_round_trip_through_the_api(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (_emu, forge):
        before = forge.read_tree("acme/svc1")
        assert before.tree_sha == forge.get_commit("acme/svc1", before.commit_sha).tree_sha
        png = b"\x89PNG\r\n\x1a\n\x00\x00\x00binary"
        changes, binary = tree_changes(
            forge,
            "acme/svc1",
            {
                "bin/run.sh": File(b"#!/bin/sh\necho hi\n", executable=True),
                "logo.png": File(png),
                "latin1.txt": File("café".encode("latin-1")),
                "app.py": None,
            },
        )
        assert changes["app.py"] == TreeChange(delete=True)
        assert set(binary) == {"logo.png", "latin1.txt"}  # not UTF-8 text: sent as blobs
        tree = forge.create_tree("acme/svc1", before.tree_sha, changes)
        commit = forge.create_commit("acme/svc1", "round trip", tree, [before.commit_sha])
        assert forge.create_branch("acme/svc1", "evobot/test/rt", commit)
        assert not forge.create_branch("acme/svc1", "evobot/test/rt", commit)  # exists

        after = forge.read_tree("acme/svc1", commit)
        assert after.commit_sha == commit
        assert after.tree_sha == tree
        assert after.tree["bin/run.sh"] == File(b"#!/bin/sh\necho hi\n", executable=True)
        assert after.tree["logo.png"].data == png
        assert after.tree["latin1.txt"].data == "café".encode("latin-1")
        assert "app.py" not in after.tree
        assert after.tree["README.md"] == before.tree["README.md"]  # kept by base_tree
        assert forge.read_file("acme/svc1", "logo.png", ref=commit) == png
        assert forge.read_file("acme/svc1", "missing.txt") is None
        assert forge.get_branch_sha("acme/svc1", "evobot/test/rt") == commit
        assert forge.get_branch_sha("acme/svc1", "nope") is None
