"""`evobot pr revert` keeps to its request budget, and running it again over unchanged content
writes nothing: no new commit, no force-push, no PATCH (on GitHub each would re-run CI)."""

from __future__ import annotations

from pathlib import Path

from forge_helpers import emulated, installation_requests, make_forge, open_pr, writes

from bot.emulator.handle import EmulatorHandle
from bot.pipeline import RevertPrResult, revert_pr


def _revert(emu: EmulatorHandle, number: int | None) -> RevertPrResult:
    """Revert PR ``number`` through a new forge (so its request counters start at zero)."""
    return revert_pr(make_forge(emu, write_interval=0.0), "acme/svc1", number or 0)


def test_second_revert_writes_nothing_and_keeps_the_branch_head(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        evolution = open_pr(forge, tmp_path, vcs_ref="v2")
        emu.merge("acme/svc1", evolution.number)

        emu.reset_counters()
        first = _revert(emu, evolution.number)
        counts = installation_requests(emu)
        assert first.action == "created"
        # 7 reads (PR, 3 tarballs, revert PR by branch, check runs, status) + 4 writes.
        assert writes(counts) == 4, counts
        assert sum(counts.values()) == 11, counts
        assert first.requests == 11
        assert first.auth_requests >= 1  # the installation token, counted apart
        assert "GET /repos/{owner}/{repo}" not in counts  # the PR's base names the branch
        head = emu.branch_sha("acme/svc1", str(first.branch))

        emu.reset_counters()
        second = _revert(emu, evolution.number)
        counts = installation_requests(emu)
        assert second.action == "unchanged"
        assert second.number == first.number
        assert writes(counts) == 0, counts
        assert sum(counts.values()) == 7, counts
        assert emu.branch_sha("acme/svc1", str(first.branch)) == head
        assert len(emu.pulls("acme/svc1")) == 2  # the evolution PR and one revert PR


def test_revert_rebuilds_its_pr_when_the_default_branch_changed_the_revert(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        evolution = open_pr(forge, tmp_path, vcs_ref="v2")
        emu.merge("acme/svc1", evolution.number)
        first = _revert(emu, evolution.number)
        readme = emu.read_file("acme/svc1", "main", "README.md")
        assert readme is not None
        emu.push_commit("acme/svc1", "main", {"README.md": readme + b"more\n"}, "later edit")

        again = _revert(emu, evolution.number)
        assert again.action == "updated"
        assert again.number == first.number
        files = emu.files("acme/svc1", str(again.branch))
        assert files["README.md"].endswith(b"more\n")
        assert len(emu.pulls("acme/svc1")) == 2


def test_unreadable_status_makes_the_body_say_unknown_instead_of_failing(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        evolution = open_pr(forge, tmp_path, vcs_ref="v2")
        emu.merge("acme/svc1", evolution.number)
        emu.fail_next(1, status=404, match=r"GET /repos/\{owner\}/\{repo\}/commits/\{ref\}/status$")
        result = _revert(emu, evolution.number)
        assert result.action == "created"
        assert "could not be read" in str(result.checks_unknown)
        body = forge.get_pull("acme/svc1", int(str(result.number))).body
        assert "Status unknown" in body
        assert emu.injected_faults == 1
