"""`evolve_pr` and `revert_pr` run on their ports alone: the recording fake of the Forge, a manual
clock and a template fetcher of the test's own -- no HTTP, no wall clock, no environment.

The fetcher is handed the consumer's own installation's credentials, the clock dates the
provenance, a new PR costs 4 writes (5 with labels), a re-run writes nothing, and the revert
of the merged PR restores the old files."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evolution"))

from evolution_helpers import TemplateRepo, make_consumer

from bot.clock import ManualClock
from bot.consumer import CONFIG_NAME, ConsumerConfig, dump_consumer_config, load_consumer_config
from bot.evolution import Evolution, evolve_consumer
from bot.forge import RecordingForge
from bot.pipeline import CheckOptions, EvolvePrOptions, evolve_pr, revert_pr
from bot.tree import File, read_tree

REMOTE = "https://github.com/acme/tpl"
WRITES = ("create_blob", "create_tree", "create_commit", "create_branch", "update_branch")
WRITES += ("create_pull", "update_pull", "add_labels", "create_comment")


class LocalTemplates:
    """A TemplateFetcher reading the remote template from a local clone, recording credentials."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.headers: list[Sequence[str]] = []

    def evolve(
        self,
        ours: Mapping[str, File],
        config: ConsumerConfig,
        *,
        vcs_ref: str | None,
        git_http_headers: Sequence[str],
    ) -> Evolution:
        self.headers.append(list(git_http_headers))
        local = config.model_copy(update={"template": str(self.root)})
        return evolve_consumer(ours, local, vcs_ref=vcs_ref)


def _fleet(tmp_path: Path) -> tuple[RecordingForge, LocalTemplates]:
    repo = TemplateRepo.create(tmp_path / "tpl")
    repo.release("v1", {"README.md": "# {{ name }}\n", "app.py": "print('v1')\n"})
    repo.release("v2", {"README.md": "# {{ name }}\n", "app.py": "print('v2')\n"})
    dest = make_consumer(repo, tmp_path / "svc", ref="v1", git=False)
    config = load_consumer_config(dest).model_copy(update={"template": REMOTE})
    files = read_tree(dest)
    files[CONFIG_NAME] = File(dump_consumer_config(config).encode())
    forge = RecordingForge()
    forge.add_repo("acme/svc", files)
    return forge, LocalTemplates(repo.root)


def _writes(forge: RecordingForge, since: int = 0) -> list[str]:
    return [c.method for c in forge.calls[since:] if c.method in WRITES]


def test_evolve_then_revert_on_the_fake_forge(tmp_path: Path) -> None:
    forge, templates = _fleet(tmp_path)
    clock = ManualClock(datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp())
    options = EvolvePrOptions(vcs_ref="v2", checks=CheckOptions(enabled=False))

    opened = evolve_pr(forge, "acme/svc", clock=clock, templates=templates, options=options)

    assert opened.action == "created"
    assert (opened.from_version, opened.to_version) == ("v1", "v2")
    assert templates.headers == [["Authorization: fake acme"]]  # the consumer's own credentials
    assert _writes(forge) == ["create_tree", "create_commit", "create_branch", "create_pull"]
    assert opened.branch is not None
    branch = forge.files("acme/svc", opened.branch)
    assert branch["app.py"].data == b"print('v2')\n"
    assert b"2030-01-02T03:04:05Z" in branch[".evobot/provenance.json"].data  # the clock's time
    assert opened.to_json()["requests"] == forge.requests

    before = len(forge.calls)
    clock.advance(3600)
    again = evolve_pr(forge, "acme/svc", clock=clock, templates=templates, options=options)
    assert again.action == "unchanged"
    assert _writes(forge, before) == []

    assert opened.number is not None
    forge.merge("acme/svc", opened.number)
    reverted = revert_pr(forge, "acme/svc", opened.number)
    assert reverted.action == "created"
    assert forge.files("acme/svc", reverted.branch)["app.py"].data == b"print('v1')\n"
    assert reverted.to_json()["reverted"] == list(reverted.reverted)


def test_labels_are_one_more_write_on_the_fake_forge(tmp_path: Path) -> None:
    forge, templates = _fleet(tmp_path)
    options = EvolvePrOptions(
        vcs_ref="v2", checks=CheckOptions(enabled=False), labels=("evobot", "evobot")
    )
    opened = evolve_pr(forge, "acme/svc", clock=ManualClock(), templates=templates, options=options)
    assert _writes(forge)[-1] == "add_labels"
    assert len(_writes(forge)) == 5
    assert opened.labels == ("evobot",)
    assert forge.repos["acme/svc"].pulls[opened.number or 0].labels == ("evobot",)
