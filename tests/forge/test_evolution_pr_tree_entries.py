"""The evolution commit carries only changed files: inline text, blobs for binaries, modes kept,
deletions as null entries -- checked on the recording fake of the port."""

from __future__ import annotations

from types import SimpleNamespace

from bot.consumer import TemplateVersion
from bot.forge import RecordingForge
from bot.pipeline.evolution_pr import (
    branch_name,
    open_or_update_evolution_pr,
    read_consumer,
    ref_component,
)
from bot.tree import File


def _evolution(tree: dict[str, File], name: str = "svc", ref: str = "v2") -> SimpleNamespace:
    return SimpleNamespace(
        tree=tree,
        to_version=TemplateVersion(ref=ref, commit="a" * 40),
        template=SimpleNamespace(
            manifest=SimpleNamespace(name=name), source="https://x/t.git", commit="a" * 40
        ),
    )


def test_only_changes_are_sent_with_modes_blobs_and_deletions() -> None:
    forge = RecordingForge()
    forge.add_repo(
        "o/r",
        {"keep.txt": File(b"same\n"), "gone.txt": File(b"bye\n"), "run.sh": File(b"echo 1\n")},
    )
    state = read_consumer(forge, "o/r")
    target = {
        "keep.txt": File(b"same\n"),
        "run.sh": File(b"echo 2\n", executable=True),
        "logo.png": File(b"\x89PNG\x00\x01"),
    }
    outcome = open_or_update_evolution_pr(
        forge,
        state.repo,
        state.snapshot,
        state.open_pulls,
        _evolution(target),  # type: ignore[arg-type]
        title="evobot: update svc to v2",
        body="body",
    )
    assert outcome.action == "created"
    tree_call = next(c for c in forge.calls if c.method == "create_tree")
    assert tree_call.args[1] == ("gone.txt", "logo.png", "run.sh")  # keep.txt not resent
    assert forge.count("create_blob") == 1  # only the binary file
    assert forge.files("o/r", outcome.branch) == target
    writes = [c.method for c in forge.calls if c.method.startswith(("create", "add", "update"))]
    assert writes == [
        "create_blob",
        "create_tree",
        "create_commit",
        "create_branch",
        "create_pull",
    ]  # no add_labels: labels are opt-in


def test_branch_names_are_safe_refs() -> None:
    assert branch_name("FastAPI Service", "v1.2.0") == "evobot/FastAPI-Service/v1.2.0"
    assert ref_component("..weird..name.lock") == "weird.name-lock"
    assert ref_component("~^:?*[") == "unnamed"
