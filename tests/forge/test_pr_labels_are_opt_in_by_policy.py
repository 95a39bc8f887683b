"""Labels cost one content-creating request per PR, so a PR carries them only when a policy asks:
the consumer's `.evobot.yml` (`pr: {labels: [...]}`) or the organisation's (`--label`,
`EVOBOT_PR_LABELS`). Without one a new PR costs 4 writes; with labels 5, and it carries them."""

from __future__ import annotations

from pathlib import Path

import pytest
from forge_helpers import emulated, installation_requests, open_pr, writes

from bot.consumer import CONFIG_NAME, parse_consumer_config
from bot.emulator.handle import EmulatorHandle
from bot.errors import ConsumerConfigError


def _ask_for_labels(emu: EmulatorHandle, *labels: str) -> None:
    config = emu.read_file("acme/svc1", "main", CONFIG_NAME)
    assert config is not None
    listed = "".join(f"    - {label}\n" for label in labels)
    emu.push_commit(
        "acme/svc1", "main", {CONFIG_NAME: config + b"pr:\n  labels:\n" + listed.encode()}, "pr"
    )


def test_by_default_a_new_pr_costs_four_writes_and_has_no_label(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        emu.reset_counters()
        opened = open_pr(forge, tmp_path, vcs_ref="v2")
        assert writes(installation_requests(emu)) == 4
        assert opened.labels == ()
        assert forge.get_pull("acme/svc1", opened.number or 0).labels == ()


def test_labels_from_the_consumer_cost_one_more_write_and_are_carried(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        _ask_for_labels(emu, "evobot", "platform")
        emu.reset_counters()
        opened = open_pr(forge, tmp_path, vcs_ref="v2")
        counts = installation_requests(emu)
        assert opened.action == "created"
        assert writes(counts) == 5, counts
        assert opened.labels == ("evobot", "platform")
        assert set(forge.get_pull("acme/svc1", opened.number or 0).labels) == {
            "evobot",
            "platform",
        }


def test_organisation_labels_join_the_consumers_in_one_request(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        _ask_for_labels(emu, "platform")
        emu.reset_counters()
        opened = open_pr(forge, tmp_path, vcs_ref="v2", labels=("evobot", "platform"))
        assert writes(installation_requests(emu)) == 5
        assert opened.labels == ("evobot", "platform")
        assert set(forge.get_pull("acme/svc1", opened.number or 0).labels) == {
            "evobot",
            "platform",
        }


@pytest.mark.parametrize("bad", ["''", "' '", "x" * 51])
def test_a_label_that_is_no_label_name_is_refused_naming_the_key(bad: str) -> None:
    text = (
        f"template: https://github.com/a/t\nversion: {{commit: {'a' * 40}}}\n"
        f"pr: {{labels: [{bad}]}}\n"
    )
    with pytest.raises(ConsumerConfigError) as caught:
        parse_consumer_config(text, source="acme/svc1:.evobot.yml")
    assert "pr.labels" in caught.value.message
    assert "acme/svc1:.evobot.yml" in caught.value.message
