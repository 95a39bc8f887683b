"""A new evolution PR costs at most 4 writes (labels are opt-in); an unchanged re-run at most 3
requests."""

from __future__ import annotations

from pathlib import Path

from forge_helpers import emulated, installation_requests, open_pr, writes


def test_new_pr_within_four_writes_and_unchanged_rerun_within_three_requests(
    tmp_path: Path,
) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        emu.reset_counters()
        first = open_pr(forge, tmp_path, vcs_ref="v2")
        opened = installation_requests(emu)
        assert first.action == "created"
        assert writes(opened) <= 4, opened
        # Reading costs: the tarball, the open PRs, and the repo (no bot PR yet) -- 3.
        assert sum(opened.values()) <= 7, opened

        emu.reset_counters()
        again = open_pr(forge, tmp_path, vcs_ref="v2")
        rerun = installation_requests(emu)
        assert again.action == "unchanged"
        assert again.number == first.number
        assert writes(rerun) == 0, rerun
        assert sum(rerun.values()) <= 3, rerun
        assert emu.branch_sha("acme/svc1", "evobot/svc/v2") == first.commit

        pull = forge.get_pull("acme/svc1", first.number)
        assert pull.head_ref == "evobot/svc/v2"
        assert pull.base_ref == "main"
        assert pull.labels == ()  # found by branch prefix, not by label
        assert "v2" in pull.title
        files = emu.files("acme/svc1", "evobot/svc/v2")
        assert files["app.py"] == b"print('v2')\n"
        assert b"line 4 (v2)" in files["README.md"]
        assert "old.txt" not in files
        assert b"v2" in files[".evobot.yml"]
        assert ".evobot/provenance.json" in files


def test_nothing_to_change_opens_no_pr(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        result = open_pr(forge, tmp_path, vcs_ref="v1")
        assert result.action == "no-change"
        assert emu.pulls("acme/svc1") == []
