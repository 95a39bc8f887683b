"""The installation token handed to git lasts at least half an hour: git cannot renew it
mid-fetch, and a 401 from a token that expired on the way reads as "the consumer's installation
may not read the template" (the flaky `test_five_percent_server_errors_still_succeed`)."""

from __future__ import annotations

from pathlib import Path

from forge_helpers import FakeClock, emulated

from bot.emulator.clock import EmulatorClock
from bot.errors import TemplateSourceError
from bot.forge.auth import GIT_TOKEN_LIFE, TOKEN_REFRESH_MARGIN, InstallationTokenCache
from bot.git import Git


def test_git_gets_a_fresh_token_when_the_cached_one_would_expire_mid_fetch(
    tmp_path: Path,
) -> None:
    with emulated(tmp_path / "emu", speed=1.0) as (emu, forge):
        assert isinstance(emu.clock, EmulatorClock)
        forge.get_repository("acme/svc1")  # an installation token, cached for REST calls
        # Ten minutes left: still good enough for REST requests (refreshed 5 minutes before).
        emu.clock.advance(3600 - 600)
        forge.get_repository("acme/svc1")
        header = forge.git_http_header("acme/svc1")
        # A slow fetch: by the time git's request arrives, the old token would have expired.
        emu.clock.advance(600 + 1)
        git = Git(where="acme/tpl", error=TemplateSourceError, headers=[header])
        refs = git.out("ls-remote", "--", emu.git_url("acme/tpl"), "refs/tags/v1").decode()
        assert "refs/tags/v1" in refs


def test_a_token_for_git_must_last_longer_than_one_for_rest() -> None:
    clock = FakeClock(start=1_700_000_000.0)
    issued: list[str] = []

    def fetch(_installation: int) -> tuple[str, str | None]:
        issued.append(f"tok-{len(issued) + 1}")
        return issued[-1], None  # no expiry in the answer: one hour from now

    cache = InstallationTokenCache(fetch, clock=clock)
    assert cache.token(5) == "tok-1"
    clock.t += 3600 - TOKEN_REFRESH_MARGIN - 60  # six minutes left
    assert cache.token(5) == "tok-1"  # enough for one REST request
    assert cache.token(5, lasting=GIT_TOKEN_LIFE) == "tok-2"  # not for a git fetch
    assert cache.token(5, lasting=GIT_TOKEN_LIFE) == "tok-2"  # and the new one is reused
