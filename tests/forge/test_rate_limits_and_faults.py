"""Rate limits are waited out, transient failures retried a bounded number of times, and a
pull request whose answer was lost is found instead of opened twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from forge_helpers import INSTALLATION, emulated, make_forge, open_pr

from bot.errors import ForgeError
from bot.forge import BackoffPolicy


def test_primary_rate_limit_waits_for_the_reset(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu", speed=2000) as (emu, forge):
        forge.get_repository("acme/svc1")  # fetch the token before the window is tightened
        emu.set_limits(rate_limit=4)
        emu.reset_limits()
        start = emu.clock.now()
        for _ in range(7):
            assert forge.get_repository("acme/svc1").default_branch == "main"
        # Seven requests against four per hour: the forge waited out a window reset.
        assert emu.clock.now() - start >= 3000


def test_secondary_rate_limit_answer_is_waited_out(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu", speed=40) as (emu, _forge):
        forge = make_forge(emu, write_interval=0.0)  # no pacing: provoke the limit
        emu.set_limits(secondary_per_minute=2)
        result = open_pr(forge, tmp_path, vcs_ref="v2")
        assert result.action == "created"
        assert emu.secondary_limit_hits >= 1
        assert len(emu.pulls("acme/svc1")) == 1


def test_pacing_keeps_writes_under_the_secondary_limit(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu", speed=20) as (emu, _forge):
        forge = make_forge(emu, write_interval=16.0)  # under 4 writes a minute
        emu.set_limits(secondary_per_minute=4)
        result = open_pr(forge, tmp_path, vcs_ref="v2")
        assert result.action == "created"
        assert emu.secondary_limit_hits == 0
        assert forge.pacer(INSTALLATION).waited >= 40  # four gaps of ~16 s, emulated


def test_five_percent_server_errors_still_succeed(tmp_path: Path) -> None:
    # Clock x200, not x2000: at x2000 an hour-long installation token lives 1.8 s of real time,
    # less than a loaded machine needs for five evolutions, and a token expiring while git
    # reads the template looked like the template being refused. The faults come from the
    # emulator's seeded RNG (Seed.random_seed), so the same requests fail on every run.
    with emulated(tmp_path / "emu", speed=200, consumers=4) as (emu, forge):
        emu.inject(error_rate=0.05, only=r"/repos/")
        for n in range(1, 5):
            result = open_pr(forge, tmp_path, repo=f"acme/svc{n}", vcs_ref="v2")
            assert result.action == "created"
            assert len(emu.pulls(f"acme/svc{n}")) == 1
        emu.fail_next(2, status=502, match=r"POST .*/git/trees")
        result = open_pr(forge, tmp_path, repo="acme/svc1", vcs_ref="v3")
        assert result.action == "created"
        assert emu.injected_faults >= 2


def test_lost_pull_request_answer_is_found_not_duplicated(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu", speed=2000) as (emu, forge):
        # The PR is created; only the answer is lost on the way back.
        emu.fail_next(1, status=502, match=r"POST /repos/\{owner\}/\{repo\}/pulls$", after=True)
        result = open_pr(forge, tmp_path, vcs_ref="v2")
        assert result.action == "created"
        assert emu.injected_faults == 1
        assert len(emu.pulls("acme/svc1")) == 1
        assert emu.counters["POST /repos/{owner}/{repo}/pulls"] == 1  # found, not re-sent


def test_retries_are_bounded(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu", speed=2000) as (emu, _forge):
        forge = make_forge(emu, backoff=BackoffPolicy(base=0.5, cap=2.0, max_attempts=3))
        forge.get_repository("acme/svc1")
        emu.reset_counters()
        emu.fail_next(10, status=503, match=r"GET /repos/\{owner\}/\{repo\}$")
        with pytest.raises(ForgeError) as caught:
            forge.get_repository("acme/svc1")
        assert caught.value.status == 503
        assert "3 attempts" in caught.value.message
        assert emu.counters["GET /repos/{owner}/{repo}"] == 3


def test_timed_out_read_is_retried(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu", speed=2000) as (emu, _forge):
        forge = make_forge(emu, timeout=1)
        forge.get_repository("acme/svc1")
        emu.inject(timeout_delay=2.0)
        emu.fail_next(1, match=r"GET /repos/\{owner\}/\{repo\}$", timeout=True)
        assert forge.get_repository("acme/svc1").default_branch == "main"
        assert emu.injected_faults == 1
