"""`evobot pr revert` keeps to its request budget, and running it again over unchanged content
writes nothing: no new commit, no force-push, no PATCH (on GitHub each would re-run CI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from forge_helpers import emulated, installation_requests, open_pr, writes

from bot.cli.pr import pr_revert
from bot.emulator.handle import EmulatorHandle


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.delenv("EVOBOT_INSTALLATION_ID", raising=False)
    monkeypatch.delenv("EVOBOT_WRITES_PER_HOUR", raising=False)
    return monkeypatch


def _revert(emu: EmulatorHandle, monkeypatch: pytest.MonkeyPatch, number: int) -> dict[str, object]:
    monkeypatch.setenv("EVOBOT_APP_ID", str(emu.app_id))
    monkeypatch.setenv("EVOBOT_PRIVATE_KEY", emu.private_key_pem)
    return pr_revert("acme/svc1", number, base_url=emu.api_url, write_interval=0.0, clock=emu.clock)


def test_second_revert_writes_nothing_and_keeps_the_branch_head(
    tmp_path: Path, app_env: pytest.MonkeyPatch
) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        evolution = open_pr(forge, tmp_path, vcs_ref="v2")
        emu.merge("acme/svc1", evolution["number"])

        emu.reset_counters()
        first = _revert(emu, app_env, evolution["number"])
        counts = installation_requests(emu)
        assert first["action"] == "created"
        # 7 reads (PR, 3 tarballs, revert PR by branch, check runs, status) + 4 writes.
        assert writes(counts) == 4, counts
        assert sum(counts.values()) == 11, counts
        assert first["requests"] == 11
        assert first["auth_requests"] >= 1  # the installation token, counted apart
        assert "GET /repos/{owner}/{repo}" not in counts  # the PR's base names the branch
        head = emu.branch_sha("acme/svc1", str(first["branch"]))

        emu.reset_counters()
        second = _revert(emu, app_env, evolution["number"])
        counts = installation_requests(emu)
        assert second["action"] == "unchanged"
        assert second["number"] == first["number"]
        assert writes(counts) == 0, counts
        assert sum(counts.values()) == 7, counts
        assert emu.branch_sha("acme/svc1", str(first["branch"])) == head
        assert len(emu.pulls("acme/svc1")) == 2  # the evolution PR and one revert PR


def test_revert_rebuilds_its_pr_when_the_default_branch_changed_the_revert(
    tmp_path: Path, app_env: pytest.MonkeyPatch
) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        evolution = open_pr(forge, tmp_path, vcs_ref="v2")
        emu.merge("acme/svc1", evolution["number"])
        first = _revert(emu, app_env, evolution["number"])
        readme = emu.read_file("acme/svc1", "main", "README.md")
        assert readme is not None
        emu.push_commit("acme/svc1", "main", {"README.md": readme + b"more\n"}, "later edit")

        again = _revert(emu, app_env, evolution["number"])
        assert again["action"] == "updated"
        assert again["number"] == first["number"]
        files = emu.files("acme/svc1", str(again["branch"]))
        assert files["README.md"].endswith(b"more\n")
        assert len(emu.pulls("acme/svc1")) == 2


def test_unreadable_status_makes_the_body_say_unknown_instead_of_failing(
    tmp_path: Path, app_env: pytest.MonkeyPatch
) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        evolution = open_pr(forge, tmp_path, vcs_ref="v2")
        emu.merge("acme/svc1", evolution["number"])
        emu.fail_next(1, status=404, match=r"GET /repos/\{owner\}/\{repo\}/commits/\{ref\}/status$")
        result = _revert(emu, app_env, evolution["number"])
        assert result["action"] == "created"
        assert "could not be read" in str(result["checks_unknown"])
        body = forge.get_pull("acme/svc1", int(str(result["number"]))).body
        assert "Status unknown" in body
        assert emu.injected_faults == 1
