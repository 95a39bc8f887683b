"""An evolution PR's commit never carries a path into git's own directory: the tree is refused
before any write request (no blob, no tree, no commit, no branch), on the recording fake and
by the GitHub adapter against the emulator."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from forge_helpers import emulated, installation_requests, writes

from bot.consumer import TemplateVersion
from bot.errors import RenderError
from bot.forge import RecordingForge, TreeChange
from bot.pipeline.evolution_pr import open_or_update_evolution_pr, read_consumer
from bot.tree import File


def _evolution(tree: dict[str, File]) -> SimpleNamespace:
    return SimpleNamespace(
        tree=tree,
        to_version=TemplateVersion(ref="v2", commit="a" * 40),
        template=SimpleNamespace(
            manifest=SimpleNamespace(name="svc"), source="https://x/t.git", commit="a" * 40
        ),
    )


@pytest.mark.parametrize("bad", [".git/config", ".GIT/hooks/post-checkout", "git~1/config"])
def test_evolution_pr_with_a_git_dir_path_makes_no_write(bad: str) -> None:
    forge = RecordingForge()
    forge.add_repo("o/r", {"README.md": File(b"# r\n")})
    state = read_consumer(forge, "o/r")
    target = {
        "README.md": File(b"# r\n"),
        "logo.png": File(b"\x89PNG\x00\x01"),  # a binary would be sent as a blob first
        bad: File(b"[core]\n\tfsmonitor = touch pwned\n", executable=True),
    }
    with pytest.raises(RenderError) as caught:
        open_or_update_evolution_pr(
            forge,
            state.repo,
            state.snapshot,
            state.open_pulls,
            _evolution(target),  # type: ignore[arg-type]
            title="evobot: update svc to v2",
            body="body",
        )
    assert repr(bad) in caught.value.message
    assert "o/r" in caught.value.message
    assert [c.method for c in forge.calls] == ["read_tree", "list_open_pulls", "get_repository"]


def test_github_adapter_refuses_the_tree_before_posting_it(tmp_path: Path) -> None:
    with emulated(tmp_path) as (emu, forge):
        emu.reset_counters()
        with pytest.raises(RenderError) as caught:
            forge.create_tree(
                "acme/svc1",
                None,
                {
                    "README.md": TreeChange(content="# ok\n"),
                    ".git/hooks/post-commit": TreeChange(mode="100755", content="#!/bin/sh\n"),
                },
            )
        assert "'.git/hooks/post-commit'" in caught.value.message
        assert writes(installation_requests(emu)) == 0
