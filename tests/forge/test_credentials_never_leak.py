"""Credentials come from the environment, sign short JWTs, cache tokens, never show in text."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.errors import ForgeError
from bot.forge.auth import (
    AppCredentials,
    InstallationTokenCache,
    TokenCredentials,
    app_jwt,
    credentials_from_env,
    scrub,
)


@pytest.fixture(scope="module")
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def test_jwt_is_backdated_and_short_lived(pem: str) -> None:
    token = app_jwt(AppCredentials("123", pem), now=1_700_000_000)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "123"
    assert claims["iat"] == 1_700_000_000 - 60
    assert claims["exp"] - claims["iat"] <= 600
    assert token not in scrub(f"Authorization: Bearer {token}")


def test_reprs_and_scrub_hide_secrets(pem: str) -> None:
    app = AppCredentials("Iv1.abc", pem)
    plain = TokenCredentials("an-opaque-token-of-any-shape")
    assert "PRIVATE" not in repr(app) and "opaque" not in repr(plain)
    text = f"failed with {plain.token} and key {pem}"
    cleaned = scrub(text)
    assert "opaque" not in cleaned and "PRIVATE KEY" not in cleaned
    example = "see ghs_16C7e42F292c6912E7710c838347Ae178B4a here"  # evobot: allow-secret
    assert "ghs_" not in scrub(example)


def test_installation_tokens_are_cached_until_five_minutes_before_expiry() -> None:
    clock = FakeClock()
    issued: list[int] = []

    def fetch(installation: int) -> tuple[str, str | None]:
        issued.append(installation)
        return f"tok-{len(issued)}", "2023-11-14T23:13:20Z"  # 1_700_003_600: one hour later

    cache = InstallationTokenCache(fetch, clock=clock)
    assert cache.token(5) == "tok-1"
    clock.t += 3600 - 301
    assert cache.token(5) == "tok-1"
    clock.t += 2
    assert cache.token(5) == "tok-2"
    assert cache.token(6) == "tok-3"
    assert "tok-" not in repr(cache)


def test_env_prefers_the_app_and_reads_the_key_file(pem: str, tmp_path: Path) -> None:
    key_file = tmp_path / "app.pem"
    key_file.write_text(pem)
    creds = credentials_from_env(
        {"EVOBOT_APP_ID": "42", "EVOBOT_PRIVATE_KEY_FILE": str(key_file), "GITHUB_TOKEN": "t"}
    )
    assert isinstance(creds, AppCredentials) and creds.issuer == "42"
    assert isinstance(credentials_from_env({"GITHUB_TOKEN": "abcd1234"}), TokenCredentials)


def test_env_errors_name_what_is_missing() -> None:
    with pytest.raises(ForgeError, match="incomplete"):
        credentials_from_env({"EVOBOT_APP_ID": "42"})
    with pytest.raises(ForgeError, match="no GitHub credentials"):
        credentials_from_env({})
    with pytest.raises(ForgeError, match="not a PEM"):
        AppCredentials("42", "not a key")
