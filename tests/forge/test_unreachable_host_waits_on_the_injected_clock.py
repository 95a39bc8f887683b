"""An unreachable GitHub is retried with bounded backoff on the injected clock: the waits are
asked of the clock (no real seconds pass), and the error names the host."""

from __future__ import annotations

import socket
import time

import pytest
from forge_helpers import FakeClock

from bot.errors import ForgeError
from bot.forge import BackoffPolicy, ForgeSettings, GitHubForge, TokenCredentials


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_refused_connection_backs_off_on_the_clock_and_names_the_host() -> None:
    port = _closed_port()
    clock = FakeClock()
    forge = GitHubForge(
        TokenCredentials("t0ken-for-a-closed-port"),
        settings=ForgeSettings(
            base_url=f"http://127.0.0.1:{port}", backoff=BackoffPolicy(base=1.0, cap=30.0)
        ),
        clock=clock,
    )
    started = time.monotonic()
    with pytest.raises(ForgeError) as caught:
        forge.get_repository("o/r")
    assert time.monotonic() - started < 5  # the real host would have slept ~12 s
    assert f"127.0.0.1:{port}" in caught.value.message
    assert "5 attempts" in caught.value.message
    assert len(clock.slept) == 4
    for attempt, slept in enumerate(clock.slept):
        assert 2**attempt / 2 <= slept <= 2**attempt
    assert forge.requests == 5


def test_refused_write_is_sent_again_since_it_never_arrived() -> None:
    port = _closed_port()
    clock = FakeClock()
    forge = GitHubForge(
        TokenCredentials("t0ken-for-a-closed-port"),
        settings=ForgeSettings(
            base_url=f"http://127.0.0.1:{port}",
            write_interval=0.0,
            backoff=BackoffPolicy(max_attempts=3),
        ),
        clock=clock,
    )
    with pytest.raises(ForgeError) as caught:
        forge.create_pull("o/r", title="t", body="b", head="h", base="main")
    assert "3 attempts" in caught.value.message
    assert forge.requests == 3  # no answer was lost: nothing to look up first
