"""A GitHub App with a wrong key or an expired JWT gets a 401 ForgeError that leaks nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from forge_helpers import emulated

from bot.errors import ForgeError
from bot.forge import AppCredentials, ForgeSettings, GitHubForge


class _PastClock:
    """Wall time an hour ago: a host whose clock is badly behind signs expired JWTs."""

    def now(self) -> float:
        return time.time() - 3600

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _other_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _assert_clean(exc: ForgeError, key: str) -> None:
    text = exc.diagnostics() + repr(exc) + str(exc.args)
    assert exc.status == 401
    assert "PRIVATE KEY" not in text
    assert key.splitlines()[1] not in text
    assert "eyJ" not in text  # no JWT either


def test_wrong_private_key_is_refused_without_leaking_it(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, _forge):
        key = _other_key()
        forge = GitHubForge(
            AppCredentials(str(emu.app_id), key),
            settings=ForgeSettings(base_url=emu.api_url),
            clock=emu.clock,
        )
        with pytest.raises(ForgeError) as caught:
            forge.read_tree("acme/svc1")
        _assert_clean(caught.value, key)
        assert "key" not in repr(forge).lower() or "redacted" in repr(forge).lower()


def test_expired_jwt_is_refused(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, _forge):
        forge = GitHubForge(
            AppCredentials(emu.client_id, emu.private_key_pem),
            settings=ForgeSettings(base_url=emu.api_url),
            clock=emu.clock,
            jwt_clock=_PastClock(),
        )
        with pytest.raises(ForgeError) as caught:
            forge.get_repository("acme/svc1")
        _assert_clean(caught.value, emu.private_key_pem)
        assert caught.value.hint  # says what to check


def test_installation_token_is_reused_until_near_expiry(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        emu.reset_counters()
        forge.get_repository("acme/svc1")
        forge.get_repository("acme/svc1")
        token_endpoint = "POST /app/installations/{installation_id}/access_tokens"
        assert emu.counters[token_endpoint] == 1
        emu.clock.advance(56 * 60)  # GitHub's tokens live an hour; refresh 5 minutes early
        forge.get_repository("acme/svc1")
        assert emu.counters[token_endpoint] == 2
