"""Who may see the dashboard: open on loopback, else HTTP basic auth or a GitHub sign-in limited
to one organisation team; exposed without either, it refuses with a page saying what to set.

The decisions are pure functions over the configuration and the request's addresses and
headers, so they are tested as tables; `bot.service.dashboard.oauth` does the GitHub sign-in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "SESSION_SECONDS",
    "AuthMode",
    "DashboardAccess",
    "Decision",
    "check_basic",
    "github_web_url",
    "is_loopback",
    "local_decision",
    "new_state",
    "read_session",
    "sign_session",
]

AuthMode = Literal["none", "basic", "github"]
# Headers a proxy adds: a request carrying one did not come from this machine's own user.
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
SESSION_SECONDS = 8 * 3600


@dataclass(frozen=True)
class DashboardAccess:
    """The dashboard's access settings (`EVOBOT_DASHBOARD_*`), validated by the settings.

    ``bind_host`` is the address the service listens on (None: not known, e.g. in a test app);
    ``github_url`` is the API (`EVOBOT_GITHUB_URL`), Enterprise or github.com; ``public_url``
    the dashboard's address as people reach it (`EVOBOT_DASHBOARD_URL`: the sign-in's return
    address), else taken from the request."""

    auth: AuthMode = "none"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    github_client_id: str | None = None
    github_client_secret: str | None = field(default=None, repr=False)
    github_org: str | None = None
    github_team: str | None = None
    github_url: str = "https://api.github.com"
    public_url: str | None = None
    bind_host: str | None = None

    def session_key(self) -> bytes:
        """The key that signs sign-in cookies, derived from the OAuth client secret (so a new
        secret ends every session)."""
        secret = (self.github_client_secret or "").encode()
        return hmac.new(secret, b"evobot dashboard session v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class Decision:
    """Whether a request may see the dashboard; otherwise the HTTP status and what to tell."""

    allowed: bool
    status: int = 200
    title: str = ""
    message: str = ""


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def local_decision(
    access: DashboardAccess, client_host: str | None, headers: Mapping[str, str]
) -> Decision:
    """The decision without credentials (`EVOBOT_DASHBOARD_AUTH=none`): open only when the
    service listens on loopback and the request comes from loopback, not through a proxy, and
    names a loopback host (so DNS rebinding cannot reach it from a web page)."""
    forwarded = any(name in headers for name in FORWARDING_HEADERS)
    bound_loopback = access.bind_host is None or is_loopback(access.bind_host)
    # A page elsewhere that rebinds its own name to 127.0.0.1 still sends that name as Host.
    named_loopback = is_loopback(_hostname(headers.get("host", "")))
    if bound_loopback and is_loopback(client_host) and not forwarded and named_loopback:
        return Decision(True)
    if not bound_loopback:
        where = f"the service listens on {access.bind_host}"
    elif not is_loopback(client_host):
        where = "this request did not come from this machine"
    elif forwarded:
        where = "this request came through a proxy"
    else:
        where = "this request names another host than this machine"
    return Decision(
        False,
        403,
        "The dashboard is not open to the network",
        f"The dashboard is served without sign-in only on loopback, and {where}. "
        "Set EVOBOT_DASHBOARD_AUTH=basic (with EVOBOT_DASHBOARD_USER and "
        "EVOBOT_DASHBOARD_PASSWORD) or EVOBOT_DASHBOARD_AUTH=github (with "
        "EVOBOT_DASHBOARD_GITHUB_CLIENT_ID, EVOBOT_DASHBOARD_GITHUB_CLIENT_SECRET, "
        "EVOBOT_DASHBOARD_GITHUB_ORG and EVOBOT_DASHBOARD_GITHUB_TEAM), or listen on "
        "127.0.0.1 (evobot serve --host 127.0.0.1).",
    )


def _hostname(host: str) -> str:
    """The name in a Host header, without its port (``[::1]:8000`` → ``::1``)."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def check_basic(access: DashboardAccess, authorization: str | None) -> bool:
    """Whether an ``Authorization: Basic …`` header names the configured user and password.
    Both are compared in constant time, always both, so the answer's timing tells nothing."""
    expected_user = (access.user or "").encode()
    expected_password = (access.password or "").encode()
    user, password = b"", b""
    if authorization and authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        user, _, password = decoded.partition(b":")
    user_ok = hmac.compare_digest(user, expected_user)
    password_ok = hmac.compare_digest(password, expected_password)
    return bool(expected_user and expected_password and user_ok & password_ok)


def github_web_url(api_url: str) -> str:
    """The web address of a GitHub whose API is ``api_url``: ``https://api.github.com`` →
    ``https://github.com``, ``https://HOST/api/v3`` (Enterprise Server) → ``https://HOST``,
    ``https://api.SUB.ghe.com`` → ``https://SUB.ghe.com``."""
    parts = urlsplit(api_url.rstrip("/"))
    host, path = parts.netloc, parts.path
    if path.endswith("/api/v3"):
        path = path.removesuffix("/api/v3")
    elif host.lower().startswith("api.") and not path:
        host = host[4:]
    return urlunsplit((parts.scheme, host, path, "", ""))


def sign_session(key: bytes, data: dict[str, object]) -> str:
    """A cookie value carrying ``data``, signed with ``key`` (HMAC-SHA256)."""
    body = base64.urlsafe_b64encode(json.dumps(data, sort_keys=True).encode()).decode()
    mac = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def read_session(key: bytes, value: str | None, now: float) -> dict[str, object] | None:
    """The data of a cookie `sign_session` made, if its signature holds and it has not
    expired (``exp``); else None."""
    if not value or "." not in value:
        return None
    body, _, mac = value.rpartition(".")
    expected = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body.encode()))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    expires = data.get("exp")
    if not isinstance(expires, int | float) or expires < now:
        return None
    return data


def new_state() -> str:
    """An unguessable OAuth ``state`` (tied to the browser by a signed cookie)."""
    return secrets.token_urlsafe(24)
