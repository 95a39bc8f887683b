"""The template-credential rules the local commands (`render`, `update`, `report`) apply.

They are use-case policy and live in :mod:`bot.pipeline.template_access`; this module names the
part the CLI commands use, so each command imports its credentials from one place.
"""

from __future__ import annotations

from bot.pipeline.template_access import (
    REPOS_ENV,
    TEMPLATE_HOSTS_ENV,
    TOKEN_ENV,
    TOKEN_HOSTS_ENV,
    explain_refusal,
    template_http_headers,
    token_hosts,
)

__all__ = [
    "REPOS_ENV",
    "TEMPLATE_HOSTS_ENV",
    "TOKEN_ENV",
    "TOKEN_HOSTS_ENV",
    "explain_refusal",
    "template_http_headers",
    "token_hosts",
]
