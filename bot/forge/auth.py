"""Credentials for GitHub: a GitHub App (JWT, then cached installation tokens) or a plain token.

No token, key or JWT ever reaches a log line, a ``repr`` or an exception message: every text
that leaves this package goes through :func:`scrub`.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import jwt

from bot.errors import ForgeError
from bot.forge.ratelimit import Clock, SystemClock
from bot.template.source_policy import github_host

__all__ = [
    "DEFAULT_API_URL",
    "AppCredentials",
    "Credentials",
    "InstallationTokenCache",
    "TokenCredentials",
    "app_jwt",
    "credentials_from_env",
    "github_host",
    "register_secret",
    "scrub",
]

DEFAULT_API_URL = "https://api.github.com"
# Refresh installation tokens this long before GitHub says they expire.
TOKEN_REFRESH_MARGIN = 300.0
# A token handed to git must last this long: git cannot renew it mid-fetch, and a 401 from an
# expired token would read as "the installation may not read the template".
GIT_TOKEN_LIFE = 1800.0
# GitHub refuses JWTs valid for more than 10 minutes; stay under it with clock drift in mind.
JWT_LIFETIME = 540
JWT_BACKDATE = 60

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"\b(?:gh[opsur]_|github_pat_)[A-Za-z0-9_]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"),
    re.compile(r"(?i)\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
]


def register_secret(value: str | None) -> None:
    """Remember a secret so :func:`scrub` removes it from any text, whatever its format."""
    if value and len(value) >= 4:
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def scrub(text: str) -> str:
    """``text`` with every known secret and anything shaped like a token or key replaced."""
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    for pattern in _PATTERNS:
        text = pattern.sub("[redacted]", text)
    return text


@dataclass(frozen=True)
class TokenCredentials:
    """A token used as is: Actions' ``GITHUB_TOKEN``, an installation token or a PAT."""

    token: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.token.strip():
            raise ForgeError("the GitHub token is empty")
        register_secret(self.token)

    def __repr__(self) -> str:
        return "TokenCredentials(token=[redacted])"


@dataclass(frozen=True)
class AppCredentials:
    """A GitHub App: its app id or client id (both work as the JWT issuer) and private key."""

    issuer: str
    private_key: str = field(repr=False)
    installation_id: int | None = None

    def __post_init__(self) -> None:
        if not self.issuer.strip():
            raise ForgeError("the GitHub App id (or client id) is empty")
        if "PRIVATE KEY" not in self.private_key:
            raise ForgeError(
                "the GitHub App private key is not a PEM private key",
                hint="pass the .pem file GitHub generated, via EVOBOT_PRIVATE_KEY_FILE",
            )
        register_secret(self.private_key)

    def __repr__(self) -> str:
        return f"AppCredentials(issuer={self.issuer!r}, private_key=[redacted])"


Credentials = TokenCredentials | AppCredentials


def app_jwt(credentials: AppCredentials, *, now: float) -> str:
    """A JWT for the App: ``iat`` a minute in the past (clock drift), ``exp`` under 10 minutes."""
    issued = int(now) - JWT_BACKDATE
    payload = {"iat": issued, "exp": int(now) + JWT_LIFETIME, "iss": credentials.issuer}
    try:
        token = jwt.encode(payload, credentials.private_key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise ForgeError(
            f"cannot sign a JWT with the GitHub App private key: {type(exc).__name__}",
            hint="check that EVOBOT_PRIVATE_KEY(_FILE) holds the app's RSA private key",
        ) from None
    register_secret(token)
    return token


def _parse_expiry(text: str | None, fallback: float) -> float:
    if not text:
        return fallback
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return fallback


@dataclass
class _CachedToken:
    token: str = field(repr=False)
    expires_at: float


class InstallationTokenCache:
    """Installation tokens per installation id, reused until 5 minutes before they expire.

    ``fetch(installation_id)`` performs ``POST /app/installations/{id}/access_tokens`` and
    returns ``(token, expires_at_iso)``; the adapter supplies it so this class stays free of I/O.
    """

    def __init__(
        self,
        fetch: Callable[[int], tuple[str, str | None]],
        *,
        clock: Clock | None = None,
        margin: float = TOKEN_REFRESH_MARGIN,
    ) -> None:
        self._fetch = fetch
        self._clock = clock or SystemClock()
        self._margin = margin
        self._tokens: dict[int, _CachedToken] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    def __repr__(self) -> str:
        return f"InstallationTokenCache(installations={sorted(self._tokens)})"

    def token(self, installation_id: int, *, lasting: float = 0.0) -> str:
        """A token for ``installation_id`` valid for at least ``lasting`` seconds more (and
        the refresh margin), fetching a new one only when needed."""
        with self._lock:
            now = self._clock.now()
            cached = self._tokens.get(installation_id)
            if cached is not None and cached.expires_at - max(self._margin, lasting) > now:
                return cached.token
            token, expires = self._fetch(installation_id)
            register_secret(token)
            self.fetches += 1
            # GitHub's tokens live one hour; assume that if the answer has no expiry.
            self._tokens[installation_id] = _CachedToken(token, _parse_expiry(expires, now + 3600))
            return token

    def forget(self, installation_id: int) -> None:
        """Drop a token GitHub refused (revoked, or the installation was suspended)."""
        with self._lock:
            self._tokens.pop(installation_id, None)


def _read_key(env: Mapping[str, str]) -> str | None:
    key = env.get("EVOBOT_PRIVATE_KEY")
    if key:
        return key.replace("\\n", "\n")
    path = env.get("EVOBOT_PRIVATE_KEY_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ForgeError(
                f"cannot read EVOBOT_PRIVATE_KEY_FILE {path}: {exc.strerror}"
            ) from None
    return None


def credentials_from_env(env: Mapping[str, str] | None = None) -> Credentials:
    """App credentials from ``EVOBOT_APP_ID``/``EVOBOT_CLIENT_ID`` + ``EVOBOT_PRIVATE_KEY``
    (or ``_FILE``, optional ``EVOBOT_INSTALLATION_ID``), else ``GITHUB_TOKEN``/``GH_TOKEN``."""
    env = os.environ if env is None else env
    issuer = env.get("EVOBOT_CLIENT_ID") or env.get("EVOBOT_APP_ID")
    key = _read_key(env)
    if issuer and key:
        installation = env.get("EVOBOT_INSTALLATION_ID")
        try:
            installation_id = int(installation) if installation else None
        except ValueError:
            raise ForgeError("EVOBOT_INSTALLATION_ID must be a number") from None
        return AppCredentials(issuer, key, installation_id)
    if issuer or key:
        raise ForgeError(
            "GitHub App credentials are incomplete",
            hint="set both EVOBOT_APP_ID (or EVOBOT_CLIENT_ID) and EVOBOT_PRIVATE_KEY(_FILE)",
        )
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
    if token:
        return TokenCredentials(token)
    raise ForgeError(
        "no GitHub credentials",
        hint="set EVOBOT_APP_ID + EVOBOT_PRIVATE_KEY_FILE for the App, or GITHUB_TOKEN",
    )
