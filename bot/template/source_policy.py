"""Where a template source may point, and which hosts may receive a credential for it.

Pure functions over strings, no I/O. Two decisions live here:

- **source policy** — in *remote* mode (`pr open`, the service, the Action acting on another
  repository) the template named by a consumer's `.evobot.yml` must be an https URL (plain http
  only on a loopback address, for tests and the emulator) of a repository on an allowed host,
  without credentials; local paths, ``file://``, ssh and git's other transports are refused with
  one message that says nothing about the machine. In *local* mode (`render`, `update`, `verify`
  of a checkout a person owns) any source is accepted.
- **credential policy** — a credential header goes to a URL only when its host is exactly one
  of the hosts the credential belongs to, over https (or http to a loopback address).

Hosts are compared exactly: lower-cased name, with the port when the URL gives one (a default
port, 443 for https and 80 for http, counts as none). A URL whose authority is anything but
``host[:port]`` (user information, backslashes, spaces) matches no host.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.errors import TemplateSourceError
from bot.redact import redact_url, url_credentials

__all__ = [
    "TemplateUrl",
    "check_remote_source",
    "credential_may_go_to",
    "github_host",
    "is_loopback",
    "normalize_host",
    "parse_host_list",
    "parse_template_url",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
_AUTHORITY = re.compile(r"(?P<host>\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?")
_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class TemplateUrl:
    """An http(s) template URL taken apart: ``host`` is ``name[:port]`` as hosts are compared."""

    scheme: str
    host: str
    hostname: str
    path: str

    @property
    def repo(self) -> str | None:
        """``OWNER/NAME`` when the path is exactly ``/OWNER/NAME[.git][/]``, else None."""
        parts = self.path.strip("/").split("/")
        if len(parts) != 2 or not all(_SEGMENT.fullmatch(p) for p in parts):
            return None
        owner, name = parts[0], parts[1].removesuffix(".git")
        if not name or owner in (".", "..") or name in (".", ".."):
            return None
        return f"{owner}/{name}"


def github_host(api_url: str) -> str:
    """The host serving git (and the web) for a GitHub API URL, as hosts are compared.

    ``https://api.github.com`` → ``github.com``; Enterprise ``https://HOST/api/v3`` → ``HOST``
    (the emulator's ``http://127.0.0.1:PORT/api/v3`` → ``127.0.0.1:PORT``). App and installation
    tokens go to this host and no other.
    """
    parts = urlsplit(api_url.strip())
    scheme = parts.scheme.lower()
    host = _authority(parts.netloc.rpartition("@")[2], scheme)
    name = host[0] if host else (parts.hostname or "")
    return name.removeprefix("api.")


def is_loopback(hostname: str) -> bool:
    """Whether ``hostname`` (no port) names this machine: ``localhost`` or a loopback IP."""
    name = hostname.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _authority(netloc: str, scheme: str) -> tuple[str, str] | None:
    """``(host[:port], hostname)`` of a plain ``host[:port]`` authority, else None."""
    match = _AUTHORITY.fullmatch(netloc.lower())
    if match is None:
        return None
    hostname, port = match["host"], match["port"]
    if not hostname.startswith("[") and not _HOST.fullmatch(hostname):
        return None
    if port is not None:
        number = int(port)
        if not 0 < number < 65536:
            return None
        if number != _DEFAULT_PORTS.get(scheme):
            return f"{hostname}:{number}", hostname
    return hostname, hostname


def normalize_host(entry: str) -> str | None:
    """A host as written in a setting (``github.com``, ``ghe.corp:8443``), compared form."""
    entry = entry.strip()
    if "://" in entry:
        entry = urlsplit(entry).netloc
    parsed = _authority(entry.rstrip("/"), "https")
    return parsed[0] if parsed else None


def parse_host_list(value: str) -> frozenset[str]:
    """Comma- or space-separated hosts; entries that are not ``host[:port]`` are dropped."""
    hosts = (normalize_host(h) for h in re.split(r"[,\s]+", value) if h.strip())
    return frozenset(h for h in hosts if h)


def parse_template_url(source: str) -> TemplateUrl | None:
    """``source`` as an http(s) URL with a plain ``host[:port]`` authority, else None."""
    if any(c.isspace() or ord(c) < 0x20 or c == "\\" for c in source):
        return None
    match = re.match(r"(?i)(https?)://([^/?#]*)(.*)\Z", source)
    if match is None:
        return None
    scheme = match[1].lower()
    authority = _authority(match[2], scheme)
    if authority is None:
        return None
    rest = urlsplit(f"{scheme}://x{match[3]}")
    return TemplateUrl(scheme=scheme, host=authority[0], hostname=authority[1], path=rest.path)


def credential_may_go_to(source: str, hosts: Iterable[str]) -> bool:
    """Whether a credential belonging to ``hosts`` may be sent to ``source``.

    Only to an exact host of ``hosts``, only over https, or over http to a loopback address.
    """
    url = parse_template_url(source)
    if url is None or url.host not in frozenset(hosts):
        return False
    return url.scheme == "https" or is_loopback(url.hostname)


def _refusal(source: str, where: str) -> TemplateSourceError:
    shown = redact_url(source) if "://" in source else source
    return TemplateSourceError(
        f"{where}: template {shown!r} is not allowed here: a remote consumer's template must be "
        "an https URL of a repository on an allowed host, without credentials",
        hint="name the template by its https URL on the GitHub host (or a host the operator "
        "listed in $EVOBOT_TEMPLATE_HOSTS); local paths, file://, ssh and other transports "
        "are refused for remote consumers",
    )


def check_remote_source(source: str, *, allowed_hosts: Collection[str], where: str) -> TemplateUrl:
    """The template URL of a remote consumer, or a refusal naming ``where`` (its config file).

    The refusal is the same whatever the source is (an existing path, a missing one, a URL on
    another host), so its text reveals nothing about the machine evobot runs on.
    """
    url = parse_template_url(source)
    if (
        url is None
        or url_credentials(source)
        or url.host not in frozenset(allowed_hosts)
        or (url.scheme == "http" and not is_loopback(url.hostname))
        or "?" in source
        or "#" in source
        or any(seg in (".", "..") for seg in url.path.split("/"))
        or "%" in url.path
    ):
        raise _refusal(source, where)
    return url
