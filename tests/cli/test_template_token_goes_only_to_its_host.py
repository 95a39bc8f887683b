"""EVOBOT_TEMPLATE_TOKEN reaches only the hosts it belongs to: a consumer whose `.evobot.yml`
names another host gets `evobot update`/`verify`/`report` to send nothing there, plain http
carries it only to a loopback host someone allowed, and a redirect never takes it elsewhere.

Every test runs the real CLI against real HTTP listeners on 127.0.0.1 that record headers.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from template_credentials_support import consumer_naming, listening, run_evobot

from bot.pipeline.template_access import template_http_headers

TOKEN = "ghs_TemplateTokenNeverSentAnywhere"
ENCODED = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()


@pytest.fixture(autouse=True)
def _token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVOBOT_TEMPLATE_TOKEN", TOKEN)
    for name in ("EVOBOT_TEMPLATE_TOKEN_HOSTS", "EVOBOT_GITHUB_URL"):
        monkeypatch.delenv(name, raising=False)


def _leaked(*texts: str) -> bool:
    return any(TOKEN in t or ENCODED in t for t in texts)


def test_a_consumer_naming_another_host_gets_no_token_sent_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening() as attacker:
        source = f"{attacker.url}/attacker/x.git"
        consumer = consumer_naming(tmp_path / "svc", source, with_provenance=True)
        for command in ("update", "verify", "report"):
            result = run_evobot(capsys, command, consumer)
            assert not _leaked(result.stdout, result.stderr)
        assert attacker.requests, "git did talk to the listener"
        assert attacker.authorizations == []
        assert not attacker.saw(ENCODED)


def test_update_says_the_token_was_withheld(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening() as attacker:
        consumer = consumer_naming(tmp_path / "svc", f"{attacker.url}/attacker/x.git")
        result = run_evobot(capsys, "update", consumer)
    assert result.exit_code == 1
    assert "$EVOBOT_TEMPLATE_TOKEN was not sent" in result.output
    assert "EVOBOT_TEMPLATE_TOKEN_HOSTS" in result.output
    assert attacker.authorizations == []


@pytest.mark.parametrize("how", ["token-hosts", "github-url"])
def test_an_allowed_loopback_host_gets_the_token(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening() as server:
        if how == "token-hosts":
            monkeypatch.setenv("EVOBOT_TEMPLATE_TOKEN_HOSTS", f"github.com, {server.host}")
        else:
            monkeypatch.setenv("EVOBOT_GITHUB_URL", f"{server.url}/api/v3")
        consumer = consumer_naming(tmp_path / "svc", f"{server.url}/acme/t.git")
        result = run_evobot(capsys, "update", consumer)
        assert result.exit_code == 1  # the listener serves no repository
        assert server.saw(ENCODED)
        assert not _leaked(result.stdout, result.stderr)
        assert "the server refused the token" in result.output


@pytest.mark.parametrize("status", [301, 302])
@pytest.mark.parametrize("command", ["update", "verify"])
def test_a_redirect_to_another_host_never_carries_the_token(
    status: int,
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with listening() as elsewhere, listening(redirect_to=elsewhere.url, status=status) as front:
        monkeypatch.setenv("EVOBOT_TEMPLATE_TOKEN_HOSTS", front.host)
        consumer = consumer_naming(
            tmp_path / "svc", f"{front.url}/acme/t.git", with_provenance=True
        )
        result = run_evobot(capsys, command, consumer)
        assert result.exit_code == 1
        assert front.saw(ENCODED), "the allowed host does get the token"
        assert not elsewhere.saw(ENCODED)
        assert elsewhere.authorizations == []
        assert not _leaked(result.stdout, result.stderr)


@pytest.mark.parametrize(
    "source",
    [
        "https://github.com.evil.io/acme/t.git",
        "https://evil.io#github.com/acme/t.git",
        "https://evil.io/github.com/acme/t.git",
        "https://github.com@evil.io/acme/t.git",
        "https://github.com:x@evil.io/acme/t.git",
        "https://evil.io\\@github.com/acme/t.git",
        "https://evil.io?@github.com/acme/t.git",
        "https://github.com:8443/acme/t.git",
        "https://github.co/acme/t.git",
        "https://xgithub.com/acme/t.git",
        "http://github.com/acme/t.git",  # plain http to a real host: never
        "http://127.0.0.1/acme/t.git",  # loopback, but not an allowed host
        "git@github.com:acme/t.git",
        "ssh://github.com/acme/t.git",
        "file:///srv/github.com/t.git",
        "ext::sh -c 'curl github.com'",
        " https://github.com/acme/t.git",
    ],
)
def test_no_host_trick_gets_the_token(source: str) -> None:
    env = {"EVOBOT_TEMPLATE_TOKEN": TOKEN}
    assert template_http_headers(source, env) == []


@pytest.mark.parametrize(
    ("source", "hosts", "sent"),
    [
        ("https://github.com/acme/t.git", "", True),
        ("https://GitHub.COM:443/acme/t.git", "", True),
        ("https://ghe.corp/acme/t.git", "ghe.corp", True),
        ("https://ghe.corp:8443/acme/t.git", "ghe.corp:8443", True),
        ("https://ghe.corp:8443/acme/t.git", "ghe.corp", False),
        ("https://ghe.corp/acme/t.git", "ghe.corp:8443", False),
        ("http://ghe.corp/acme/t.git", "ghe.corp", False),
        ("https://github.com/acme/t.git", "ghe.corp", False),
        ("http://localhost:9/acme/t.git", "localhost:9", True),
        ("http://[::1]:9/acme/t.git", "[::1]:9", True),
    ],
)
def test_the_token_goes_to_exactly_the_listed_hosts(source: str, hosts: str, sent: bool) -> None:
    env = {"EVOBOT_TEMPLATE_TOKEN": TOKEN, "EVOBOT_TEMPLATE_TOKEN_HOSTS": hosts}
    assert bool(template_http_headers(source, env)) is sent


def test_the_default_host_follows_the_configured_github() -> None:
    env = {"EVOBOT_TEMPLATE_TOKEN": TOKEN, "EVOBOT_GITHUB_URL": "https://ghe.corp/api/v3"}
    assert template_http_headers("https://ghe.corp/acme/t.git", env)
    assert template_http_headers("https://github.com/acme/t.git", env) == []
