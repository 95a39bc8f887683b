"""URLs without their credentials: what evobot prints, logs, or writes into a file.

A URL may carry a secret in two places: its user information (``https://user:TOKEN@host/``)
and its query (``?token=...``, ``?X-Amz-Signature=...``). Everything here is pure string work,
so any layer can use it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit, urlunsplit

__all__ = ["REDACTED", "is_credential_param", "redact_url", "redact_urls_in", "url_credentials"]

REDACTED = "***"

# Query parameter names that carry a secret, matched on the whole (case-insensitive) name.
_CREDENTIAL_PARAM = re.compile(
    r"(?i)(?:[\w.-]*(?:token|secret|passw(?:or)?d|credentials?)|pwd|key|api[-_]?key|"
    r"access[-_]?key|sig|signature|auth|authorization|x-amz-[\w-]*|x-goog-[\w-]*)"
)
_SCHEME = r"\b[a-zA-Z][a-zA-Z0-9+.-]*://"
_USERINFO_IN_TEXT = re.compile(rf"({_SCHEME})[^/@\s?#]+@")
# In free text a value ends at a separator, a space or a quote; a ``/`` after it (git adds one)
# is taken as part of the value, so a secret is hidden whole, never half.
_PARAM_IN_TEXT = re.compile(r"([?&;])([^=&;#\s'\"<>]+)=([^&;#\s'\"<>]*)")


def is_credential_param(name: str) -> bool:
    """Whether a query parameter called ``name`` carries a secret (``token``, ``sig``, ...)."""
    return bool(_CREDENTIAL_PARAM.fullmatch(name))


def url_credentials(source: str) -> list[str]:
    """What in ``source`` carries credentials: ``"user:password@"`` and ``"?NAME="`` items."""
    if "://" not in source:
        return []
    parts = urlsplit(source)
    found: list[str] = []
    # A user name alone (``git@`` in ssh URLs) is not a secret; a password or a token-looking
    # user name is.
    if parts.password is not None or (
        parts.username is not None and parts.scheme.lower() in ("http", "https")
    ):
        found.append("user:password@")
    for name, _value in parse_qsl(parts.query, keep_blank_values=True):
        if is_credential_param(name):
            found.append(f"?{name}=")
    return found


def _redact_param(match: re.Match[str]) -> str:
    sep, name, value = match.groups()
    return f"{sep}{name}={REDACTED if is_credential_param(name) and value else value}"


def _redact_query(query: str) -> str:
    return _PARAM_IN_TEXT.sub(_redact_param, "?" + query)[1:] if query else query


def redact_url(source: str) -> str:
    """``source`` without user or password, and with secret query values replaced by ``***``."""
    if "://" not in source:
        return source
    try:
        parts = urlsplit(source)
        port = parts.port
    except ValueError:
        return redact_urls_in(source)
    netloc = parts.netloc
    if parts.username is not None or parts.password is not None:
        netloc = netloc.rpartition("@")[2]
        if port is not None and not netloc.endswith(f":{port}"):
            netloc = f"{netloc}:{port}"
    query = _redact_query(parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_urls_in(text: str) -> str:
    """``text`` with ``user:password@`` removed from every URL and secret query values hidden."""
    return _PARAM_IN_TEXT.sub(_redact_param, _USERINFO_IN_TEXT.sub(r"\1", text))
