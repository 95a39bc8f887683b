"""Credentials for fetching a private template over git HTTP, read from the environment.

The token never appears on a command line: it comes from ``EVOBOT_TEMPLATE_TOKEN`` and travels
to git as an ``http.extraHeader`` in git's environment (see :mod:`bot.template.source`).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from bot.errors import TemplateSourceError

__all__ = ["TOKEN_ENV", "explain_refusal", "template_http_headers"]

TOKEN_ENV = "EVOBOT_TEMPLATE_TOKEN"  # noqa: S105 (the variable's name, not a token)

# What git says when the server wants credentials or refuses the ones it got.
_REFUSED = re.compile(
    r"Authentication failed|could not read Username|terminal prompts disabled|"
    r"\b(?:401|403)\b|Repository not found",
    re.IGNORECASE,
)


def _is_http(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def template_http_headers(source: str, env: Mapping[str, str]) -> list[str]:
    """The git HTTP headers authenticating to the template ``source``: none unless it is an
    http(s) URL and ``EVOBOT_TEMPLATE_TOKEN`` is set.

    The header is Basic ``x-access-token:TOKEN``, the form GitHub accepts for installation
    tokens (and for personal tokens) over git HTTP.
    """
    token = env.get(TOKEN_ENV, "").strip()
    if not token or not _is_http(source):
        return []
    credentials = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    return [f"Authorization: Basic {credentials}"]


@contextmanager
def explain_refusal(source: str, env: Mapping[str, str]) -> Iterator[None]:
    """Add a hint about ``EVOBOT_TEMPLATE_TOKEN`` when the template server refuses to serve."""
    try:
        yield
    except TemplateSourceError as exc:
        if exc.hint is None and _is_http(source) and _REFUSED.search(exc.message):
            if env.get(TOKEN_ENV, "").strip():
                exc.hint = (
                    f"the server refused the token in ${TOKEN_ENV}: check that it can read the "
                    "template repository and has not expired"
                )
            else:
                exc.hint = (
                    f"if the template repository is private, put a token that can read it "
                    f"(an installation token or a personal access token) in ${TOKEN_ENV}"
                )
        raise
