"""Which credentials may read which template, and where they may go: the template-access policy.

``EVOBOT_TEMPLATE_TOKEN`` authenticates `update`/`verify` to a private template. It goes only to
a host in ``EVOBOT_TEMPLATE_TOKEN_HOSTS`` (default: the GitHub host of ``EVOBOT_GITHUB_URL``,
itself by default github.com), only over https (plain http only to a loopback address), and
never across a redirect. It never appears on a command line: it travels to git as an
``http.extraHeader`` in git's environment (see :mod:`bot.template.source`).

For remote consumers (`pr open`, the service, the Action) :class:`TemplateAccess` says which
hosts a consumer's template may live on (``EVOBOT_TEMPLATE_HOSTS``) and which template
repositories may be read with their own installation's token on behalf of any consumer
(``EVOBOT_TEMPLATE_REPOS``); :func:`remote_template_headers` picks the credentials (the
consumer's own installation's, from the forge) and :func:`explain_unreadable` says what to do
when they cannot read the template.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from bot.consumer import CONFIG_NAME
from bot.errors import TemplateSourceError
from bot.forge.port import Forge
from bot.template.source_policy import (
    TemplateUrl,
    credential_may_go_to,
    github_host,
    parse_host_list,
    parse_template_url,
)

__all__ = [
    "REPOS_ENV",
    "TEMPLATE_HOSTS_ENV",
    "TOKEN_ENV",
    "TOKEN_HOSTS_ENV",
    "TemplateAccess",
    "configured_github_host",
    "explain_refusal",
    "explain_unreadable",
    "refused_by_server",
    "remote_template_headers",
    "template_http_headers",
    "token_hosts",
]

TOKEN_ENV = "EVOBOT_TEMPLATE_TOKEN"  # noqa: S105 (the variable's name, not a token)
TOKEN_HOSTS_ENV = "EVOBOT_TEMPLATE_TOKEN_HOSTS"  # noqa: S105 (a variable's name)
TEMPLATE_HOSTS_ENV = "EVOBOT_TEMPLATE_HOSTS"
REPOS_ENV = "EVOBOT_TEMPLATE_REPOS"
GITHUB_URL_ENV = "EVOBOT_GITHUB_URL"
DEFAULT_API_URL = "https://api.github.com"  # the same as bot.forge.auth's, without its imports

# What git says when the server wants credentials or refuses the ones it got.
_REFUSED = re.compile(
    r"Authentication failed|could not read Username|terminal prompts disabled|"
    r"\b(?:401|403)\b|Repository not found",
    re.IGNORECASE,
)


def refused_by_server(message: str) -> bool:
    """Whether git's error ``message`` says the server wants (other) credentials."""
    return bool(_REFUSED.search(message))


def _is_http(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def configured_github_host(env: Mapping[str, str], base_url: str | None = None) -> str:
    """The GitHub host of ``base_url`` (``--base-url``), else of ``$EVOBOT_GITHUB_URL``."""
    return github_host(base_url or env.get(GITHUB_URL_ENV, "").strip() or DEFAULT_API_URL)


def token_hosts(env: Mapping[str, str]) -> frozenset[str]:
    """The hosts ``EVOBOT_TEMPLATE_TOKEN`` may go to: ``EVOBOT_TEMPLATE_TOKEN_HOSTS``, or the
    configured GitHub host when that is unset or empty."""
    listed = parse_host_list(env.get(TOKEN_HOSTS_ENV, ""))
    return listed or frozenset({configured_github_host(env)})


def template_http_headers(source: str, env: Mapping[str, str]) -> list[str]:
    """The git HTTP headers authenticating to the template ``source``: none unless
    ``EVOBOT_TEMPLATE_TOKEN`` is set and ``source`` is an https URL (http only to a loopback
    address) on one of :func:`token_hosts`, compared exactly.

    The header is Basic ``x-access-token:TOKEN``, the form GitHub accepts for installation
    tokens (and for personal tokens) over git HTTP.
    """
    token = env.get(TOKEN_ENV, "").strip()
    if not token or not credential_may_go_to(source, token_hosts(env)):
        return []
    credentials = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    return [f"Authorization: Basic {credentials}"]


def _withheld_hint(source: str, env: Mapping[str, str]) -> str:
    url = parse_template_url(source)
    if url is not None and url.host in token_hosts(env):
        return (
            f"${TOKEN_ENV} is never sent over plain http (only to a loopback address): "
            "use the template's https URL"
        )
    host = url.host if url is not None else "this host"
    return (
        f"${TOKEN_ENV} was not sent: it goes only to the hosts in ${TOKEN_HOSTS_ENV} "
        f"(default: the GitHub host of ${GITHUB_URL_ENV}); add {host} there if it serves "
        "the template and the token is meant for it"
    )


@contextmanager
def explain_refusal(source: str, env: Mapping[str, str]) -> Iterator[None]:
    """Add a hint about ``EVOBOT_TEMPLATE_TOKEN`` when the template server refuses to serve."""
    try:
        yield
    except TemplateSourceError as exc:
        if exc.hint is None and _is_http(source) and _REFUSED.search(exc.message):
            if env.get(TOKEN_ENV, "").strip():
                if template_http_headers(source, env):
                    exc.hint = (
                        f"the server refused the token in ${TOKEN_ENV}: check that it can read "
                        "the template repository and has not expired"
                    )
                else:
                    exc.hint = _withheld_hint(source, env)
            else:
                exc.hint = (
                    f"if the template repository is private, put a token that can read it "
                    f"(an installation token or a personal access token) in ${TOKEN_ENV}"
                )
        raise


@dataclass(frozen=True)
class TemplateAccess:
    """What a remote consumer's template may be: on which hosts, and which repositories may be
    read with their own installation's token whichever consumer names them."""

    extra_hosts: frozenset[str] = frozenset()
    shared_repos: frozenset[str] = frozenset()  # lower-case OWNER/NAME

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TemplateAccess:
        """``EVOBOT_TEMPLATE_HOSTS`` and ``EVOBOT_TEMPLATE_REPOS`` (comma-separated)."""
        repos = (r.strip().strip("/").lower() for r in re.split(r"[,\s]+", env.get(REPOS_ENV, "")))
        return cls(
            extra_hosts=parse_host_list(env.get(TEMPLATE_HOSTS_ENV, "")),
            shared_repos=frozenset(r for r in repos if r.count("/") == 1),
        )

    def allowed_hosts(self, github: str) -> frozenset[str]:
        """The hosts a remote consumer's template may be on: ``github`` and the extra hosts."""
        return self.extra_hosts | {github}

    def is_shared(self, repo: str) -> bool:
        """Whether the operator listed ``repo`` (any letter case) in ``EVOBOT_TEMPLATE_REPOS``."""
        return repo.lower() in self.shared_repos


def remote_template_headers(
    forge: Forge, source: str, consumer: str, access: TemplateAccess
) -> list[str]:
    """Credentials for a remote consumer's template URL: only for the forge's git host, and
    the consumer's own.

    The token is the consumer's installation's, so a consumer cannot read, through the bot, a
    template its own installation cannot read. Only a repository the operator listed in
    ``EVOBOT_TEMPLATE_REPOS`` is read with its own installation's token, for any consumer.
    """
    url = parse_template_url(source)
    if url is None or not credential_may_go_to(source, {forge.git_host()}):
        return []  # another allowed host: fetched without credentials
    template_repo = url.repo
    if template_repo is not None and access.is_shared(template_repo):
        return [forge.git_http_header(template_repo)]
    return [forge.git_http_header(consumer)]


@contextmanager
def explain_unreadable(
    repo: str, url: TemplateUrl, forge: Forge, access: TemplateAccess
) -> Iterator[None]:
    """A template the consumer's installation may not read is refused, saying what to do."""
    try:
        yield
    except TemplateSourceError as exc:
        shared = url.repo is not None and access.is_shared(url.repo)
        if url.host != forge.git_host() or shared or not refused_by_server(exc.message):
            raise
        raise TemplateSourceError(
            f"{repo}: its template {url.repo or url.path.strip('/')} cannot be read with "
            f"{repo}'s own installation token (from `template:` in its {CONFIG_NAME}); "
            "evobot never borrows another installation's token to read a template",
            hint="install the App with access to the template repository on the consumer's "
            "account, make the template public, or (operator) list it as OWNER/NAME in "
            f"${REPOS_ENV}",
        ) from None
