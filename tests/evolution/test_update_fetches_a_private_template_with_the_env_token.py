"""A consumer of a private template on a git HTTP server updates, and verifies, with the token
in EVOBOT_TEMPLATE_TOKEN; without it both fail saying how to authenticate, and the token is
never printed."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from evobot_testing import build_file_tree, git_commit_all, git_init
from evolution_helpers import run_evobot

from bot.emulator import EmulatorHandle
from bot.emulator.testing import running_emulator
from bot.pipeline.template_access import TOKEN_ENV, template_http_headers

TEMPLATE_V1 = {
    "template.yml": "name: greeter\nquestions:\n  name:\n    type: str\n    default: world\n",
    "files/hello.txt.jinja": "Hello {{ name }}!\n",
}


@dataclass
class PrivateFleet:
    handle: EmulatorHandle
    consumer: Path
    token: str


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateFleet]:
    template = git_init(tmp_path / "template-src")
    build_file_tree(template, TEMPLATE_V1)
    git_commit_all(template, "v1", tag="v1.0.0")
    build_file_tree(template, {"files/hello.txt.jinja": "Hello, {{ name }}!\n"})
    git_commit_all(template, "v1.1", tag="v1.1.0")
    seed = {
        "installations": [{"id": 1, "account": "acme"}],
        "repos": [
            {"full_name": "acme/greeter-template", "private": True, "from_git": str(template)},
            {
                "full_name": "acme/svc",
                "render": {
                    "template": "acme/greeter-template",
                    "ref": "v1.0.0",
                    "answers": {"name": "Ada"},
                },
            },
        ],
    }
    with running_emulator(seed, tmp_path / "state") as handle:
        # The emulator is the GitHub host here: the token may go to it (over loopback http).
        monkeypatch.setenv("EVOBOT_GITHUB_URL", handle.api_url)
        monkeypatch.delenv("EVOBOT_TEMPLATE_TOKEN_HOSTS", raising=False)
        files = handle.files("acme/svc", "main")
        consumer = build_file_tree(tmp_path / "svc", files)
        yield PrivateFleet(handle, consumer, handle.installation_token("acme"))


def test_update_and_verify_use_the_token_from_the_environment(
    fleet: PrivateFleet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(TOKEN_ENV, fleet.token)
    cache = tmp_path / "template-cache"
    result = run_evobot(capsys, "update", fleet.consumer, "--cache-dir", cache, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["to"]["ref"] == "v1.1.0"
    assert (fleet.consumer / "hello.txt").read_text() == "Hello, Ada!\n"
    assert any(cache.iterdir()), "the template mirror is kept in --cache-dir"
    assert fleet.token not in result.stdout + result.stderr
    for written in fleet.consumer.rglob("*"):
        assert not written.is_file() or fleet.token.encode() not in written.read_bytes()

    verified = run_evobot(capsys, "verify", fleet.consumer, "--cache-dir", cache, "--json")
    assert verified.exit_code == 0, verified.stderr
    assert json.loads(verified.stdout)["tampered"] is False


def test_without_the_token_a_private_template_is_refused_clearly(
    fleet: PrivateFleet, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    result = run_evobot(capsys, "update", fleet.consumer)
    assert result.exit_code == 1
    assert "Authentication failed" in result.unwrapped_err
    assert "hint: if the template repository is private, put a token" in result.unwrapped_err
    assert TOKEN_ENV in result.unwrapped_err
    assert (fleet.consumer / "hello.txt").read_text() == "Hello Ada!\n"

    monkeypatch.setenv(TOKEN_ENV, "not-a-valid-token")
    result = run_evobot(capsys, "update", fleet.consumer)
    assert result.exit_code == 1
    assert f"the server refused the token in ${TOKEN_ENV}" in result.unwrapped_err
    encoded = base64.b64encode(b"x-access-token:not-a-valid-token").decode()
    for secret in ("not-a-valid-token", encoded):
        assert secret not in result.stdout + result.stderr

    monkeypatch.setenv(TOKEN_ENV, fleet.token)
    assert run_evobot(capsys, "update", fleet.consumer).exit_code == 0
    monkeypatch.delenv(TOKEN_ENV)
    result = run_evobot(capsys, "verify", fleet.consumer)
    assert result.exit_code == 1
    assert "Authentication failed" in result.unwrapped_err
    assert TOKEN_ENV in result.unwrapped_err


def test_the_header_is_basic_x_access_token_and_only_for_the_github_host() -> None:
    env = {TOKEN_ENV: "ghs_abc"}
    (header,) = template_http_headers("https://github.com/acme/t.git", env)
    scheme, value = header.removeprefix("Authorization: ").split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(value) == b"x-access-token:ghs_abc"
    assert template_http_headers("HTTPS://GitHub.com/acme/t.git", env) == [header]
    assert template_http_headers("https://ghe.local/acme/t.git", env) == []
    assert template_http_headers("git@github.com:acme/t.git", env) == []
    assert template_http_headers("/srv/templates/t", env) == []
    assert template_http_headers("https://github.com/acme/t.git", {}) == []
