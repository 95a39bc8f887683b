"""Accepted secrets stay quiet: a baseline by fingerprint or path glob, or a pragma on the line."""

from __future__ import annotations

import json
import re

import pytest
from evobot_testing import REPO_ROOT
from scans_support import scan

from bot.checks import secrets
from bot.checks.base import CheckContext
from bot.checks.secrets import SecretsChecker, SecretsOptions, fingerprint
from bot.errors import CheckError
from bot.tree import File

# The AWS documentation's own example key id: public, inactive, and the one literal we commit.
DOCS_KEY = "AKIAIOSFODNN7EXAMPLE"  # evobot: allow-secret


def _fp(message: str) -> str:
    match = re.search(r"fingerprint ([0-9a-f]{12})", message)
    assert match, message
    return match.group(1)


def test_a_fake_aws_key_is_reported_with_type_line_and_fingerprint_only() -> None:
    tree = {"app/config.py": File(f'\n\nKEY_ID = "{DOCS_KEY}"\n'.encode())}
    [finding] = scan(tree)
    assert (finding.checker, finding.rule, finding.path, finding.line) == (
        "secrets",
        "aws-access-key-id",
        "app/config.py",
        3,
    )
    # AWS's documentation example is reported, but as what it is: info, not a secret.
    assert finding.severity == "info"
    assert "a published documentation example" in finding.message
    assert _fp(finding.message) == fingerprint("aws-access-key-id", DOCS_KEY)
    assert DOCS_KEY not in finding.model_dump_json()


def test_baseline_accepts_by_fingerprint_and_narrows_by_rule_and_path() -> None:
    tree = {
        "app/config.py": File(f'KEY_ID = "{DOCS_KEY}"\n'.encode()),
        "docs/aws.md": File(f"Example: {DOCS_KEY}\n".encode()),
    }
    findings = scan(tree)
    assert {f.path for f in findings} == {"app/config.py", "docs/aws.md"}
    fp = _fp(findings[0].message)

    baseline = {
        "version": 1,
        "accepted": [
            {"fingerprint": fp, "rule": "aws-access-key-id", "path": "docs/*", "reason": "docs"}
        ],
    }
    tree[".evobot/secrets-baseline.json"] = File(json.dumps(baseline).encode())
    assert [f.path for f in scan(tree)] == ["app/config.py"]

    baseline["accepted"] = [{"fingerprint": fp, "reason": "the AWS docs example, inactive"}]
    tree[".evobot/secrets-baseline.json"] = File(json.dumps(baseline).encode())
    assert scan(tree) == []

    baseline["accepted"] = [{"fingerprint": fp, "rule": "jwt", "reason": "wrong rule"}]
    tree[".evobot/secrets-baseline.json"] = File(json.dumps(baseline).encode())
    assert len(scan(tree)) == 2


def test_baseline_skip_paths_and_custom_baseline_location() -> None:
    tree = {
        "tests/fixtures/creds.env": File(f"KEY={DOCS_KEY}\n".encode()),
        "app/creds.env": File(f"KEY={DOCS_KEY}\n".encode()),
        "security/accepted.json": File(
            json.dumps(
                {"skip_paths": [{"glob": "tests/fixtures/**", "reason": "fake credentials"}]}
            ).encode()
        ),
    }
    assert len(scan(tree)) == 2
    assert [f.path for f in scan(tree, {"baseline": "security/accepted.json"})] == ["app/creds.env"]
    assert [f.path for f in scan(tree, {"skip_paths": ["app/**"]})] == ["tests/fixtures/creds.env"]


def test_pragma_on_the_line_suppresses_only_that_line() -> None:
    text = (
        f'ALLOWED = "{DOCS_KEY}"  # evobot: allow-secret\n'
        f'REPORTED = "{DOCS_KEY}"\n'
        f"// EVOBOT: allow-secret {DOCS_KEY}\n"
    )
    findings = scan({"a.ts": File(text.encode())})
    assert [(f.rule, f.line) for f in findings] == [("aws-access-key-id", 2)]


def test_the_baseline_changes_the_cache_key() -> None:
    checker = SecretsChecker()
    ctx = CheckContext(tree={}, paths=[])
    assert list(checker.dependencies("a.py", ctx)) == [".evobot/secrets-baseline.json"]
    ctx = CheckContext(tree={}, paths=[], options=SecretsOptions(baseline="sec/b.json"))
    assert list(checker.dependencies("a.py", ctx)) == ["sec/b.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"accepted": [{"fingerprint": "abc"}]}', "12 lowercase hex"),
        ('{"accepted": [{"fingerprint": "0123456789ab"}]}', "reason"),
        (
            '{"accepted": [{"fingerprint": "0123456789ab", "rule": "nope", "reason": "x"}]}',
            "no such",
        ),
        ('{"skip_paths": [{"glob": "a/**"}]}', "reason"),
        ('{"allow": []}', "allow: unknown key"),
        ('{"version": 2}', "unsupported baseline version 2"),
        ('{"accepted": {"fp": "x"}}', "accepted: Input should be a valid list"),
        ('{"accepted": [{"fingerprint": "0123456789ab", "reason": " "}]}', "accepted.0.reason"),
    ],
)
def test_an_invalid_baseline_is_an_error_naming_the_file(content: str, message: str) -> None:
    tree = {".evobot/secrets-baseline.json": File(content.encode()), "a.py": File(b"x = 1\n")}
    with pytest.raises(CheckError) as info:
        scan(tree)
    assert ".evobot/secrets-baseline.json" in info.value.message
    assert message in info.value.message


def test_binary_files_are_skipped_and_huge_files_reported_unscanned() -> None:
    binary = b"\x89PNG\r\n\x1a\n\0\0" + DOCS_KEY.encode() + b"\0" * 64
    huge = (f"KEY={DOCS_KEY}\n" + "x = 1\n" * 200_000).encode()
    assert len(huge) > 1024 * 1024
    findings = scan({"logo.png": File(binary), "dump.sql": File(huge)})
    assert [(f.path, f.rule, f.severity.value, f.line) for f in findings] == [
        ("dump.sql", "file-too-large", "info", None)
    ]
    small_limit = scan({"a.env": File(f"KEY={DOCS_KEY}\n".encode())}, {"max_file_bytes": 8})
    assert [f.rule for f in small_limit] == ["file-too-large"]


def test_checker_version_follows_the_rule_table(monkeypatch: pytest.MonkeyPatch) -> None:
    before = secrets._rules_digest()
    assert SecretsChecker.version.endswith(before)
    changed = (
        *secrets._RULES[:-1],
        secrets._RULES[-1].__class__(
            **{**secrets._RULES[-1].__dict__, "severity": secrets.Severity.LOW}
        ),
    )
    monkeypatch.setattr(secrets, "_RULES", changed)
    assert secrets._rules_digest() != before


def test_disabled_rules_are_not_reported() -> None:
    tree = {"a.env": File(f"KEY={DOCS_KEY}\n".encode())}
    assert scan(tree, {"disable": ["aws-access-key-id"]}) == []


def test_every_rule_is_documented() -> None:
    docs = (REPO_ROOT / "docs" / "scans.md").read_text()
    missing = [rule for rule in secrets.RULE_IDS if f"`{rule}`" not in docs]
    assert missing == []


def test_misspelt_settings_and_unknown_rules_are_errors() -> None:
    tree = {"a.env": File(b"X=1\n")}
    with pytest.raises(
        CheckError, match=r"checks\.checkers\.secrets\.options\.skip_path: unknown key"
    ):
        scan(tree, {"skip_path": ["a.env"]})
    with pytest.raises(CheckError, match="no such rule 'aws-key'"):
        scan(tree, {"disable": ["aws-key"]})
