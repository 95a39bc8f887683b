"""The template-source policy for remote consumers: only an https URL (http on loopback) of a
repository on an allowed host, without credentials; everything else is refused with one message
that says nothing about the machine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import TemplateSourceError
from bot.template.source_policy import (
    check_remote_source,
    github_host,
    parse_template_url,
)

ALLOWED = frozenset({"github.com", "127.0.0.1:8080"})
WHERE = "acme/svc:.evobot.yml"


def _refusal(source: str) -> str:
    with pytest.raises(TemplateSourceError) as info:
        check_remote_source(source, allowed_hosts=ALLOWED, where=WHERE)
    return info.value.diagnostics()


def test_an_existing_and_a_missing_path_get_the_same_message(tmp_path: Path) -> None:
    existing = tmp_path / "etc"
    existing.mkdir()
    (existing / "template.yml").write_text("name: x\n")
    missing = tmp_path / "nope"
    said_existing = _refusal(str(existing)).replace(str(existing), "PATH")
    said_missing = _refusal(str(missing)).replace(str(missing), "PATH")
    assert said_existing == said_missing
    assert "no such" not in said_existing and "not a directory" not in said_existing


@pytest.mark.parametrize(
    "source",
    [
        "/srv/templates/t",
        "file:///srv/templates/t",
        "FILE:///etc",
        "templates/t",
        "../t",
        "./t",
        "~/t",
        "~root/t",
        "ext::sh -c touch% /tmp/pwned",
        "git@github.com:acme/t.git",
        "git@evil.io:acme/t.git",
        "ssh://git@github.com/acme/t.git",
        "git://github.com/acme/t.git",
        "http://github.com/acme/t.git",
        "http://10.0.0.1/acme/t.git",
        "http://169.254.169.254/latest/meta-data",
        "https://evil.io/acme/t.git",
        "https://github.com.evil.io/acme/t.git",
        "https://github.com@evil.io/acme/t.git",
        "https://evil.io#github.com",
        "https://evil.io\\@github.com/acme/t.git",
        "https://x-access-token:ghs_abc@github.com/acme/t.git",
        "https://github.com/acme/t.git?token=abc",
        "https://github.com/acme/../../etc/t.git",
        "https://github.com/acme/%2e%2e/t.git",
        "https://github.com:8443/acme/t.git",
        "http://127.0.0.1:9090/acme/t.git",
        "-uhttps://github.com/acme/t.git",
        "",
    ],
)
def test_refused_in_remote_mode(source: str) -> None:
    message = _refusal(source)
    assert message.startswith(WHERE)
    assert "ghs_abc" not in message and "token=abc" not in message


@pytest.mark.parametrize(
    ("source", "repo"),
    [
        ("https://github.com/acme/t.git", "acme/t"),
        ("https://GITHUB.com/acme/t", "acme/t"),
        ("https://github.com:443/acme/t/", "acme/t"),
        ("http://127.0.0.1:8080/acme/t.git", "acme/t"),
        ("https://github.com/acme/group/t.git", None),
    ],
)
def test_allowed_in_remote_mode(source: str, repo: str | None) -> None:
    url = check_remote_source(source, allowed_hosts=ALLOWED, where=WHERE)
    assert url.repo == repo


@pytest.mark.parametrize(
    ("api", "host"),
    [
        ("https://api.github.com", "github.com"),
        ("https://api.github.com/", "github.com"),
        ("https://ghe.corp/api/v3", "ghe.corp"),
        ("https://ghe.corp:8443/api/v3", "ghe.corp:8443"),
        ("http://127.0.0.1:5000/api/v3", "127.0.0.1:5000"),
        ("https://api.acme.ghe.com", "acme.ghe.com"),
    ],
)
def test_the_github_host_comes_from_the_api_url(api: str, host: str) -> None:
    assert github_host(api) == host


@given(
    prefix=st.text(max_size=20),
    suffix=st.text(max_size=20),
)
def test_no_string_around_the_allowed_host_passes_as_it(prefix: str, suffix: str) -> None:
    source = f"https://{prefix}github.com{suffix}/acme/t.git"
    url = parse_template_url(source)
    if url is not None and url.host == "github.com":
        # Only what is really the host github.com parses as it: nothing before it, and after
        # it only a default port, then the path, query or fragment.
        assert prefix == ""
        authority_rest = re.split(r"[/?#]", suffix, maxsplit=1)[0]
        assert re.fullmatch(r"(?::0*443)?", authority_rest)
