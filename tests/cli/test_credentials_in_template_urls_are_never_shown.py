"""Credentials in a template URL (``user:token@``, ``?token=``) are never printed by `verify`
(text or --json), `update` or `render`, and never written into `.evobot.yml`: `render` and
`update` refuse such a URL and say to pass the token in EVOBOT_TEMPLATE_TOKEN instead."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from evobot_testing import build_file_tree, git_commit_all, git_init
from template_credentials_support import consumer_naming, listening, run_evobot

from bot.consumer import CONFIG_NAME, ConsumerConfig, TemplateVersion, dump_consumer_config
from bot.errors import ConsumerConfigError, TemplateSourceError
from bot.redact import redact_url, redact_urls_in
from bot.template import open_template

SECRET = "ghs_UserInfoSecret0123456789"
QUERY_SECRET = "QuerySecret0123456789"


@pytest.fixture
def served_template(tmp_path: Path) -> Path:
    """A bare git repository holding a one-file template tagged v1."""
    src = git_init(tmp_path / "template-src")
    build_file_tree(
        src,
        {
            "template.yml": "name: hello\nquestions:\n  name:\n    type: str\n    default: x\n",
            "files/hello.txt.jinja": "Hello {{ name }}\n",
        },
    )
    git_commit_all(src, "v1", tag="v1")
    bare = tmp_path / "template.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(src), str(bare)], check=True)
    return bare


def _with_credentials(consumer: Path, url: str) -> None:
    """Put credentials into the consumer's template URL, as someone might by hand."""
    config = consumer / CONFIG_NAME
    text = config.read_text()
    assert url in text
    config.write_text(text.replace(url, url.replace("file://", f"file://x-access-token:{SECRET}@")))


def test_verify_prints_the_template_url_without_credentials(
    served_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"file://{served_template}"
    consumer = tmp_path / "svc"
    assert run_evobot(capsys, "render", url, consumer, "--data", "name=ada").exit_code == 0
    # file:// ignores the user part: a stand-in for https://user:token@host that works offline.
    _with_credentials(consumer, url)

    text = run_evobot(capsys, "verify", consumer)
    assert text.exit_code == 0, text.output
    assert f"template {url} at" in text.output
    assert SECRET not in text.stdout + text.stderr

    as_json = run_evobot(capsys, "verify", consumer, "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["template"] == url
    assert SECRET not in as_json.stdout + as_json.stderr


def test_update_refuses_to_write_credentials_back(
    served_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"file://{served_template}"
    consumer = tmp_path / "svc"
    assert run_evobot(capsys, "render", url, consumer).exit_code == 0
    _with_credentials(consumer, url)
    before = (consumer / CONFIG_NAME).read_bytes()

    result = run_evobot(capsys, "update", consumer)
    assert result.exit_code == 1
    assert "carries credentials" in result.output
    assert "EVOBOT_TEMPLATE_TOKEN" in result.output
    assert SECRET not in result.stdout + result.stderr
    assert (consumer / CONFIG_NAME).read_bytes() == before


def test_a_config_with_credentials_is_never_serialised() -> None:
    config = ConsumerConfig(
        template=f"https://x-access-token:{SECRET}@github.com/acme/t.git",
        version=TemplateVersion(commit="a" * 40),
    )
    with pytest.raises(ConsumerConfigError) as info:
        dump_consumer_config(config)
    assert SECRET not in info.value.diagnostics()
    for query in (f"?token={QUERY_SECRET}", f"?X-Amz-Signature={QUERY_SECRET}"):
        with pytest.raises(ConsumerConfigError) as info:
            dump_consumer_config(
                config.model_copy(update={"template": f"https://github.com/a/t.git{query}"})
            )
        assert QUERY_SECRET not in info.value.diagnostics()


@pytest.mark.parametrize(
    "source",
    [
        f"file://x-access-token:{SECRET}@/srv/t.git",
        f"https://x-access-token:{SECRET}@github.com/acme/t.git",
        f"https://github.com/acme/t.git?private_token={SECRET}",
    ],
)
def test_render_refuses_a_url_with_credentials(
    source: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_evobot(capsys, "render", source, tmp_path / "new")
    assert result.exit_code == 1
    assert "carries credentials" in result.output
    assert "EVOBOT_TEMPLATE_TOKEN" in result.output
    assert SECRET not in result.stdout + result.stderr
    assert not (tmp_path / "new").exists()


def test_update_and_verify_errors_hide_query_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening() as server:
        source = f"{server.url}/acme/t.git?token={QUERY_SECRET}&ref=main"
        consumer = consumer_naming(tmp_path / "svc", source, with_provenance=True)
        for command in ("update", "verify"):
            result = run_evobot(capsys, command, consumer)
            assert result.exit_code == 1
            assert QUERY_SECRET not in result.stdout + result.stderr, command
            assert "token=***" in result.output
        # git itself repeats the URL in its own words; that is scrubbed too.
        with pytest.raises(TemplateSourceError) as info, open_template(source):
            pass
        assert "Authentication failed" in info.value.message
        assert QUERY_SECRET not in info.value.diagnostics()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@h/x", "https://h/x"),
        ("https://tok@h:8443/x", "https://h:8443/x"),
        ("https://h/x?token=abc&ref=v1", "https://h/x?token=***&ref=v1"),
        (
            "https://h/x?access_token=a&private_token=b",
            "https://h/x?access_token=***&private_token=***",
        ),
        ("https://h/x?sig=a&signature=b&key=c", "https://h/x?sig=***&signature=***&key=***"),
        (
            "https://h/x?X-Amz-Signature=a&x-amz-credential=b",
            "https://h/x?X-Amz-Signature=***&x-amz-credential=***",
        ),
        (
            "https://h/x?password=a&secret=b&client_secret=c",
            "https://h/x?password=***&secret=***&client_secret=***",
        ),
        ("https://h/x?ref=v1&monkey=1", "https://h/x?ref=v1&monkey=1"),
        ("git@github.com:acme/t.git", "git@github.com:acme/t.git"),
        ("/srv/t", "/srv/t"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert (
        redact_urls_in(f"fatal: unable to access '{url}': 401")
        == f"fatal: unable to access '{shown}': 401"
    )


def test_report_hides_credentials_a_provenance_file_was_given(
    served_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"file://{served_template}"
    consumer = tmp_path / "svc"
    assert run_evobot(capsys, "render", url, consumer).exit_code == 0
    provenance = consumer / ".evobot" / "provenance.json"
    text = provenance.read_text()
    assert url in text
    provenance.write_text(text.replace(url, f"https://x-access-token:{SECRET}@github.com/a/t.git"))
    git_init(consumer)
    git_commit_all(consumer, "rendered")
    for fmt in ("md", "json"):
        result = run_evobot(capsys, "report", consumer, "--format", fmt)
        assert result.exit_code == 0, result.output
        assert "https://github.com/a/t.git" in result.stdout
        assert SECRET not in result.stdout + result.stderr
