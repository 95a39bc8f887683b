"""The secret scan: well-known credential formats and entropy-gated keyword assignments.

Every finding names the rule, the path, the line and a short fingerprint (the first 12 hex
digits of ``sha256(rule + NUL + value)``), never the value itself. Accepted findings live in a
baseline file in the tree (``.evobot/secrets-baseline.json``); a line carrying the pragma
``evobot: allow-secret`` is never reported.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import itertools
import json
import math
import re
import string
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from bot.checks.base import CheckContext, Checker, Finding, Severity, options_error_text
from bot.checks.limits import TOO_LARGE, too_large
from bot.checks.options import (
    DEFAULT_MAX_FILE_BYTES,
    CheckerOptions,
    SizeLimitedOptions,
)
from bot.errors import CheckError
from bot.template.globs import path_matches, validate_glob
from bot.tree import File, is_binary

__all__ = [
    "BASELINE_PATH",
    "PRAGMA",
    "RULE_IDS",
    "Baseline",
    "SecretHit",
    "SecretsChecker",
    "SecretsOptions",
    "fingerprint",
    "load_baseline",
    "looks_placeholder",
    "scan_text",
    "shannon_entropy",
]

BASELINE_PATH = ".evobot/secrets-baseline.json"
PRAGMA = "evobot: allow-secret"
MAX_FILE_BYTES = DEFAULT_MAX_FILE_BYTES

# Bumped by hand when the scanning logic (not the rule table) changes in a way that can change
# findings; the rule table is digested automatically into the checker version.
_ENGINE_REVISION = "3"


# --------------------------------------------------------------------------------------------
# Value heuristics


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value`` (0 for an empty string)."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


_SAME_CHAR = re.compile(r"^(.)\1*$", re.DOTALL)
_FORMAT_PLACEHOLDER = re.compile(
    r"x{5,}|\*{3,}|0{8,}|\$\{|\{\{|<[^<>\s]*>|1234567890|0123456789|abcdefghij",
    re.IGNORECASE,
)
_PLACEHOLDER_MARKS = re.compile(
    r"\$\{|\$\(|\{\{|\}\}|%\(|(?-i:%[sdr])(?:\b|_)|<[^<>]*>|\[\[|x{3,}|\*{3,}|\.{3}|_{4,}|#{3,}|0{6,}|"
    r"1234|abcd|qwerty|\{[^{}\s]+\}",
    re.IGNORECASE,
)
_PLACEHOLDER_WORDS = (
    "changeme",
    "change_me",
    "change-me",
    "changethis",
    "placeholder",
    "example",
    "sample",
    "dummy",
    "redacted",
    "replace",
    "insert",
    "your_",
    "your-",
    "yourpass",
    "yourtoken",
    "yourkey",
    "yoursecret",
    "notreal",
    "not_real",
    "not-real",
    "secret",
    "password",
    "passwd",
    "token",
    "undefined",
    "sensitive",
    "default",
    "os.environ",
    "os.getenv",
    "getenv(",
    "process.env",
    "environ[",
    "env(",
    "env[",
    "vault:",
    "ssm:",
    "secretsmanager",
)
_PLACEHOLDER_TOKENS = frozenset(
    {
        "test",
        "testing",
        "fake",
        "mock",
        "foo",
        "bar",
        "baz",
        "todo",
        "fixme",
        "tbd",
        "none",
        "null",
        "nil",
        "true",
        "false",
        "admin",
        "letmein",
        "hunter2",
        "abc",
        "xyz",
    }
)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_DOTTED_REF = re.compile(r"^[A-Za-z_]\w*(?:[.:][A-Za-z_]\w*)+(?:\(\))?$")
_CAMEL_WORDS = re.compile(r"^(?:[a-z]{2,}|[A-Z][a-z]{2,})(?:[A-Z][a-z]{2,})+$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}|$)")
_PATH_START = re.compile(r"^(?:/|\./|\.\./|~/|[A-Za-z]:\\)")
_PATH_END = re.compile(r"\.(?:pem|key|crt|p12|pfx|jks|json|txt|ya?ml|env)$")
# A value that names something rather than being the secret: `$VAR`, `%VAR%`, YAML anchors,
# aliases and tags (`&pw`, `*pw`, `!vault`, `!Ref`), Azure Key Vault references.
_REFERENCE = re.compile(
    r"^(?:\$[A-Za-z_{(]|%[A-Za-z_]\w*%$|[&*][a-z_][a-z0-9_-]*$|![A-Za-z][A-Za-z_:]{1,20}$"
    r"|@Microsoft\.KeyVault\()"
)


def _looks_like_path(value: str) -> bool:
    """``/run/secrets/db``, ``./certs/tls.key``; not a base64 secret that starts with ``/``."""
    if _PATH_END.search(value):
        return True
    if not _PATH_START.match(value) or "+" in value or "=" in value:
        return False
    return sum(c.isupper() for c in value) <= len(value) * 0.15


def looks_placeholder(value: str) -> bool:
    """Whether ``value`` is evidently not a real secret: a template, an env lookup, filler."""
    v = value.strip()
    if not v or _SAME_CHAR.match(v):
        return True
    if _REFERENCE.match(v) or _PLACEHOLDER_MARKS.search(v):
        return True
    low = v.lower()
    unleet = low.translate(_UNLEET)  # "t0p-s3cret", "pa55w0rd"
    if any(word in low or word in unleet for word in _PLACEHOLDER_WORDS):
        return True
    # Filler words ("fake-token", "test_password", "foo:bar"); a three-letter one alone could
    # be a fragment of a random password between two punctuation marks, so it takes two.
    tokens = {*re.split(r"[^a-z0-9]+", low), *re.split(r"[^a-z0-9]+", unleet)}
    hits = tokens & _PLACEHOLDER_TOKENS
    return any(len(t) > 3 for t in hits) or len(hits) >= 2


_UNLEET = str.maketrans("0134578@$", "oieastbas")


def _format_placeholder(value: str) -> bool:
    """The lighter filter for format rules: fillers like ``ghp_xxxx...`` or ``${TOKEN}``."""
    return bool(_SAME_CHAR.match(value) or _FORMAT_PLACEHOLDER.search(value))


def fingerprint(rule: str, value: str) -> str:
    """The short, stable identity of one secret under one rule (never reversible to it)."""
    return hashlib.sha256(f"{rule}\0{value}".encode()).hexdigest()[:12]


# --------------------------------------------------------------------------------------------
# Rules


@dataclass(frozen=True)
class _Candidate:
    """What a refine step decided about one regex match: the value and its severity."""

    value: str
    severity: Severity
    note: str = ""


Refine = Callable[[re.Match[str], str, str], _Candidate | None]  # (match, value, text)


@dataclass(frozen=True)
class _Rule:
    id: str
    title: str
    severity: Severity
    pattern: str
    keywords: tuple[str, ...]  # lowercase literals; the regex runs only if one is in the text
    group: int | str = 1
    flags: int = 0
    refine: Refine | None = None


def _value_of(rule: _Rule, match: re.Match[str]) -> str:
    return match.group(rule.group) or ""


def _refine_format(rule_severity: Severity) -> Refine:
    def refine(match: re.Match[str], value: str, text: str) -> _Candidate | None:
        if _format_placeholder(value):
            return None
        return _Candidate(value, rule_severity)

    return refine


_KEY_BODY = re.compile(r"-----END[ A-Z0-9_-]*-----")
_B64_RUN = re.compile(r"[A-Za-z0-9+/=]{40,}")


def _key_body(text: str, start: int) -> str:
    """The base64 body of a PEM block starting at ``start`` (JSON ``\\n`` escapes allowed)."""
    end_match = _KEY_BODY.search(text, start, start + 20000)
    end = end_match.start() if end_match else min(len(text), start + 4000)
    chunk = text[start:end].replace("\\n", "\n").replace("\\r", "\n")
    lines = [ln.strip().strip("\"',+") for ln in chunk.splitlines()]
    return "".join(ln for ln in lines if ln and ":" not in ln)


def _refine_private_key(match: re.Match[str], value: str, text: str) -> _Candidate | None:
    body = _key_body(text, match.end())
    if not _B64_RUN.search(body) or _format_placeholder(body[:64]):
        return None
    header = match.group(0)
    window = text[match.end() : match.end() + 200]
    encrypted = "ENCRYPTED" in header or "Proc-Type: 4,ENCRYPTED" in window
    severity = Severity.HIGH if encrypted else Severity.CRITICAL
    return _Candidate(body, severity, "passphrase-protected" if encrypted else "")


_PUTTY_PRIVATE = re.compile(r"Private-Lines: (\d+)\r?\n")


def _refine_putty(match: re.Match[str], value: str, text: str) -> _Candidate | None:
    """A PuTTY key file: the value is its Private-Lines block; encrypted keys are high."""
    window = text[match.end() : match.end() + 8000]
    lines = _PUTTY_PRIVATE.search(window)
    if lines is None:
        return None
    body = "".join(window[lines.end() :].splitlines()[: int(lines.group(1))])
    if not _B64_RUN.search(body) or _format_placeholder(body[:64]):
        return None
    encrypted = "Encryption: none" not in window[: lines.start()]
    severity = Severity.HIGH if encrypted else Severity.CRITICAL
    return _Candidate(body, severity, "passphrase-protected" if encrypted else "")


def _decode_b64url_json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _refine_jwt(match: re.Match[str], value: str, text: str) -> _Candidate | None:
    token = match.group(0)
    header_seg, payload_seg, signature = token.split(".", 2)
    header = _decode_b64url_json(header_seg)
    if not isinstance(header, dict) or "alg" not in header:
        return None
    if not isinstance(_decode_b64url_json(payload_seg), dict):
        return None
    unsigned = str(header.get("alg", "")).lower() == "none" or not signature
    return _Candidate(token, Severity.LOW if unsigned else Severity.MEDIUM)


_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "0.0.0.0", "host.docker.internal")  # noqa: S104
_WEAK_URL_PASSWORDS = frozenset({"pass", "pwd", "pw", "password", "secret", "user", "root"})
# Demo credentials that documentation everywhere uses (Oracle's scott/tiger and friends).
_DEMO_PASSWORDS = ("tiger", "hunter2", "s3cr3t", "p4ssw0rd", "pa55word")


def _dummy_url_password(password: str) -> bool:
    """A placeholder in a URL: a template or reference at any length, but a filler word
    (``mypassword``, ``secret123``) only in a short password; a long one that happens to
    contain "password" was typed to be one."""
    if _REFERENCE.match(password) or _PLACEHOLDER_MARKS.search(password):
        return True
    return len(password) <= 16 and looks_placeholder(password)


def _refine_connection(match: re.Match[str], value: str, text: str) -> _Candidate | None:
    user, password, host = match.group("user"), match.group("password"), match.group("host")
    if _dummy_url_password(password) or password.lower() in _WEAK_URL_PASSWORDS:
        return None
    if any(demo in password.lower() for demo in _DEMO_PASSWORDS):
        return None
    if password == user or password.startswith(("{", "$", "%")) or len(password) < 3:
        return None
    if _format_placeholder(user) or user.startswith(("{", "$", "<")):
        return None
    local = host.lower().startswith(_LOCAL_HOSTS)
    return _Candidate(password, Severity.LOW if local else Severity.HIGH)


def _refine_high_entropy(threshold: float) -> Refine:
    def refine(match: re.Match[str], value: str, text: str) -> _Candidate | None:
        if _format_placeholder(value) or shannon_entropy(value) < threshold:
            return None
        return _Candidate(value, Severity.CRITICAL)

    return refine


def _refine_auth_header(match: re.Match[str], value: str, text: str) -> _Candidate | None:
    if looks_placeholder(value) or shannon_entropy(value) < 3.5:
        return None
    return _Candidate(value, Severity.MEDIUM)


def _refine_npmrc(match: re.Match[str], value: str, text: str) -> _Candidate | None:
    if looks_placeholder(value) or shannon_entropy(value) < 3.0:
        return None
    return _Candidate(value, Severity.HIGH)


_CURL_WINDOW = 6  # a `-u` on a continuation line still belongs to the `curl` above it
_WEAK_CURL_PASSWORDS = frozenset({"pass", "pwd", "pw", "test", "token", "changeit", "changeme"})


def _split_credentials(raw: str) -> tuple[str, str] | None:
    """``user:password`` from a shell argument with its quotes (``kevin:'pw'``, ``"u":"p"``)."""
    arg = raw.replace('"', "").replace("'", "")
    if ":" not in arg:
        return None  # no password on the command line: curl will prompt for it
    user, password = arg.split(":", 1)
    return user, password


def _refine_curl_user(match: re.Match[str], value: str, text: str) -> _Candidate | None:
    """``curl -u user:password`` (or ``--user``), the option possibly on a continuation line."""
    start = match.start()
    window = text[max(0, start - 2000) : start].split("\n")[-_CURL_WINDOW:]
    if not any(re.search(r"\bcurl\b", line) for line in window):
        return None
    creds = _split_credentials(value)
    if creds is None:
        return None
    user, password = creds
    secret = password or user  # `-u ":pw"` or `-u "token:"` (a token as the user name)
    if len(secret) < 3 or any(c in value for c in "$<[{"):
        return None  # `$VAR`, `${{ secrets.X }}`, `<user:password>`, `[PASSWORD]`, `{{ .Values }}`
    if secret.lower() in _WEAK_CURL_PASSWORDS or looks_placeholder(secret):
        return None
    if password and password == user:
        return None
    return _Candidate(secret, Severity.HIGH)


def _refine_docker_auth(match: re.Match[str], value: str, text: str) -> _Candidate | None:
    """A Docker ``config.json`` ``auths.<registry>.auth``: base64 of ``user:password``."""
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if ":" not in decoded:
        return None
    user, password = decoded.split(":", 1)
    if len(password) < 3 or looks_placeholder(password) or password == user:
        return None
    if password.lower() in _WEAK_URL_PASSWORDS:
        return None
    return _Candidate(value, Severity.HIGH)


def _refine_uuid_key(match: re.Match[str], value: str, text: str) -> _Candidate | None:
    if _format_placeholder(value) or shannon_entropy(value.replace("-", "")) < 3.0:
        return None
    return _Candidate(value, Severity.HIGH)


_C, _H, _M, _L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW

# Order matters: when two rules match overlapping text on one line, the earlier one wins, so the
# specific formats come before the generic ones.
_RULES: tuple[_Rule, ...] = (
    _Rule(
        "gcp-service-account-key",
        "GCP service-account private key",
        _C,
        r'"private_key"\s*:\s*"-----BEGIN[ A-Z]*PRIVATE KEY-----',
        ("private_key",),
        group=0,
        refine=_refine_private_key,
    ),
    _Rule(
        "private-key",
        "private key block",
        _C,
        r"-----BEGIN[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----",
        ("private key",),
        group=0,
        refine=_refine_private_key,
    ),
    _Rule(
        "aws-access-key-id",
        "AWS access key id",
        _H,
        r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b",
        ("akia", "asia", "abia", "acca"),
    ),
    _Rule(
        "aws-secret-access-key",
        "AWS secret access key",
        _C,
        r"(?i)(?:aws[a-z0-9_.-]{0,20}secret|secret_?access_?key)[a-z0-9_.-]*"
        r"""["']?\s*(?:=|:|=>)\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])""",
        ("secret",),
        refine=_refine_high_entropy(4.0),
    ),
    _Rule(
        "gcp-api-key",
        "Google API key",
        _H,
        r"\b(AIza[0-9A-Za-z_\-]{35})(?![0-9A-Za-z_\-])",
        ("aiza",),
    ),
    _Rule(
        "gcp-oauth-client-secret",
        "Google OAuth client secret",
        _H,
        r"\b(GOCSPX-[0-9A-Za-z_\-]{28})(?![0-9A-Za-z_\-])",
        ("gocspx-",),
    ),
    _Rule(
        "azure-storage-account-key",
        "Azure storage account key",
        _C,
        r"(?i)AccountKey\s*=\s*([A-Za-z0-9+/]{86}==)",
        ("accountkey",),
    ),
    _Rule(
        "azure-shared-access-key",
        "Azure shared access key (Service Bus / Event Hubs connection string)",
        _H,
        r"(?i)SharedAccessKey\s*=\s*([A-Za-z0-9+/]{43}=)",
        ("sharedaccesskey",),
    ),
    _Rule(
        "azure-sas-token",
        "Azure shared access signature",
        _M,
        r"[?&]sv=\d{4}-\d{2}-\d{2}[^\s\"'<>]{0,600}?[?&]sig=([A-Za-z0-9%+/]{30,}(?:%3D|=){0,2})",
        ("sig=",),
    ),
    _Rule(
        "github-token",
        "GitHub token",
        _H,
        r"\b(gh[pousr]_[A-Za-z0-9]{36,251})\b",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ),
    _Rule(
        "github-fine-grained-pat",
        "GitHub fine-grained personal access token",
        _H,
        r"\b(github_pat_[A-Za-z0-9_]{70,251})\b",
        ("github_pat_",),
    ),
    _Rule(
        "gitlab-token",
        "GitLab token",
        _H,
        r"\b(gl(?:pat|dt|rt|ptt|soat|cbt|ft)-[A-Za-z0-9_\-]{20,})",
        ("glpat-", "gldt-", "glrt-", "glptt-", "glsoat-", "glcbt-", "glft-"),
    ),
    _Rule(
        "slack-token",
        "Slack token",
        _H,
        r"\b(xox[abposr]-[0-9]{6,}-[A-Za-z0-9-]{8,})",
        ("xoxb-", "xoxp-", "xoxa-", "xoxo-", "xoxs-", "xoxr-"),
    ),
    _Rule(
        "slack-app-token",
        "Slack app-level token",
        _H,
        r"\b(xapp-\d-[A-Z0-9]{6,}-\d{6,}-[a-z0-9]{32,})",
        ("xapp-",),
    ),
    _Rule(
        "slack-webhook",
        "Slack incoming webhook URL",
        _M,
        r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,})",
        ("hooks.slack.com",),
    ),
    _Rule(
        "stripe-live-key",
        "Stripe live secret key",
        _C,
        r"\b((?:sk|rk)_live_[0-9A-Za-z]{20,247})\b",
        ("sk_live_", "rk_live_"),
    ),
    _Rule(
        "stripe-test-key",
        "Stripe test-mode secret key",
        _L,
        r"\b((?:sk|rk)_test_[0-9A-Za-z]{20,247})\b",
        ("sk_test_", "rk_test_"),
    ),
    _Rule(
        "stripe-webhook-secret",
        "Stripe webhook signing secret",
        _M,
        r"\b(whsec_[A-Za-z0-9]{32,})\b",
        ("whsec_",),
    ),
    _Rule(
        "npm-token",
        "npm access token",
        _H,
        r"\b(npm_[A-Za-z0-9]{36})\b",
        ("npm_",),
    ),
    _Rule(
        "npmrc-auth-token",
        "npm registry auth token",
        _H,
        r"""_authToken\s*=\s*["']?([^\s"']{16,})""",
        ("_authtoken",),
        refine=_refine_npmrc,
    ),
    _Rule(
        "pypi-token",
        "PyPI upload token",
        _H,
        r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})",
        ("pypi-age",),
    ),
    _Rule(
        "pypi-test-token",
        "TestPyPI upload token",
        _L,
        r"\b(pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_-]{50,})",
        ("pypi-age",),
    ),
    _Rule(
        "twilio-api-key",
        "Twilio API key",
        _M,
        r"\b(SK[0-9a-f]{32})\b",
        ("sk",),
    ),
    _Rule(
        "twilio-auth-token",
        "Twilio auth token",
        _H,
        r"(?i)twilio[a-z0-9_.-]*(?:token|secret)[a-z0-9_.-]*[\"']?\s*[:=]\s*[\"']?([0-9a-f]{32})\b",
        ("twilio",),
    ),
    _Rule(
        "sendgrid-api-key",
        "SendGrid API key",
        _H,
        r"\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])",
        ("sg.",),
    ),
    _Rule(
        "openai-api-key",
        "OpenAI API key",
        _H,
        r"\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,})",
        ("t3blbkfj",),
    ),
    _Rule(
        "anthropic-api-key",
        "Anthropic API key",
        _H,
        r"\b(sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{80,})",
        ("sk-ant-",),
    ),
    _Rule(
        "huggingface-token",
        "Hugging Face access token",
        _H,
        r"\b(hf_[A-Za-z]{34})\b",
        ("hf_",),
    ),
    _Rule(
        "mailchimp-api-key",
        "Mailchimp API key",
        _M,
        r"\b([0-9a-f]{32}-us[0-9]{1,2})\b",
        ("-us",),
    ),
    _Rule(
        "shopify-token",
        "Shopify access token",
        _H,
        r"\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b",
        ("shpat_", "shpca_", "shppa_", "shpss_"),
    ),
    _Rule(
        "digitalocean-token",
        "DigitalOcean token",
        _H,
        r"\b(do[por]_v1_[a-f0-9]{64})\b",
        ("dop_v1_", "doo_v1_", "dor_v1_"),
    ),
    _Rule(
        "telegram-bot-token",
        "Telegram bot token",
        _M,
        r"\b([0-9]{8,10}:AA[A-Za-z0-9_-]{33})(?![A-Za-z0-9_-])",
        (":aa",),
    ),
    _Rule(
        "putty-private-key",
        "PuTTY private key file",
        _C,
        r"PuTTY-User-Key-File-\d+: \S+",
        ("putty-user-key-file",),
        group=0,
        refine=_refine_putty,
    ),
    _Rule(
        "age-secret-key",
        "age secret key",
        _C,
        r"\b(AGE-SECRET-KEY-1[0-9A-Z]{58})\b",
        ("age-secret-key-1",),
    ),
    _Rule(
        "vault-token",
        "HashiCorp Vault token",
        _H,
        r"\b(hv[sb]\.[A-Za-z0-9_-]{24,})",
        ("hvs.", "hvb."),
    ),
    _Rule(
        "terraform-cloud-token",
        "Terraform Cloud / Enterprise API token",
        _H,
        r"\b([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_-]{60,})",
        (".atlasv1.",),
    ),
    _Rule(
        "databricks-token",
        "Databricks personal access token",
        _H,
        r"\b(dapi[a-f0-9]{32}(?:-\d)?)\b",
        ("dapi",),
    ),
    _Rule(
        "doppler-token",
        "Doppler token",
        _H,
        r"\b(dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_-]{1,40}\.)?[A-Za-z0-9]{40,44})\b",
        ("dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."),
    ),
    _Rule(
        "linear-api-key",
        "Linear API key",
        _H,
        r"\b(lin_api_[A-Za-z0-9]{40})\b",
        ("lin_api_",),
    ),
    _Rule(
        "postman-api-key",
        "Postman API key",
        _H,
        r"\b(PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b",
        ("pmak-",),
    ),
    _Rule(
        "grafana-token",
        "Grafana Cloud or service-account token",
        _H,
        r"\b(glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})",
        ("glc_", "glsa_"),
    ),
    _Rule(
        "new-relic-key",
        "New Relic user API key",
        _H,
        r"\b(NRAK-[A-Z0-9]{27})\b",
        ("nrak-",),
    ),
    _Rule(
        "discord-webhook",
        "Discord webhook URL",
        _M,
        r"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]+/[A-Za-z0-9_-]{60,})",
        ("discord",),
    ),
    _Rule(
        "jwt",
        "JSON Web Token",
        _M,
        r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
        ("eyj",),
        group=0,
        refine=_refine_jwt,
    ),
    _Rule(
        "authorization-header",
        "credential in an Authorization header",
        _M,
        r"(?i)\bauthorization[\"']?\s*[:=]\s*[\"']?(?:bearer|token|basic)\s+"
        r"([A-Za-z0-9._~+/=-]{16,})",
        ("authorization",),
        refine=_refine_auth_header,
    ),
    _Rule(
        "heroku-api-key",
        "Heroku API key",
        _H,
        r"(?i)heroku[\w.\-]{0,20}(?:key|token|secret|api|auth|pass)[\w.\-]{0,10}[\"']?[ \t]*"
        r"(?:=|:|=>|:=)[ \t]*[\"']?"
        r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?![0-9a-f-])",
        ("heroku",),
        refine=_refine_uuid_key,
    ),
    _Rule(
        "heroku-api-key",
        "Heroku API key",
        _H,
        r"\b(HRKU-AA[0-9A-Za-z_-]{58})(?![0-9A-Za-z_-])",
        ("hrku-aa",),
    ),
    _Rule(
        "docker-config-auth",
        "registry credentials in a Docker config.json (auths.*.auth)",
        _H,
        r'"auth"\s*:\s*"([A-Za-z0-9+/]{6,}={0,2})"',
        ('"auth"',),
        refine=_refine_docker_auth,
    ),
    _Rule(
        "curl-basic-auth",
        "password on a curl command line (-u/--user)",
        _H,
        r"(?<![\w-])(?:-u|--user)(?:=|[ \t]{1,5})((?:\"[^\"\n]*\"|'[^'\n]*'|[^\s\"'])+)",
        ("-u", "--user"),
        refine=_refine_curl_user,
    ),
    _Rule(
        "connection-string-password",
        "password in a connection URL",
        _H,
        r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,20}://(?P<user>[^\s:/?#@'\"<>]{0,64}):"
        r"(?P<password>[^\s/?#@'\"<>]{1,128})@(?P<host>[^\s/?#'\"<>:@]+)",
        ("://",),
        group="password",
        refine=_refine_connection,
    ),
)

# The generic rule: a secret-sounding name assigned a literal in code, YAML, .env, JSON, TOML.
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.\-])(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,80})(?P<kq>[\"']?)"
    r"[ \t]*(?P<op>:[ \t]*[A-Za-z_][\w\[\]., |]{0,40}?[ \t]*=(?!=)"
    r"|(?<![=!<>:])=(?![=~>])|:=|=>|:(?![:/]))"
    # A YAML `!!binary` or `!!str` tag is not the value: the value follows it.
    r"[ \t]*(?:!!(?:binary|str)[ \t]+)?(?:(?P<q>[\"'`])(?P<qv>[^\"'`\n\\]{1,400})(?P=q)"
    # Unquoted: up to whitespace; a `#` starts a comment only after whitespace (.env, YAML).
    r"|(?P<uv>(?:(?<==)#|[^\s\"'`,;#}{\])(<>])[^\s\"'`,;}{\])(<>]{0,399}))"
)
# XML configuration: <password>…</password> (Maven settings.xml) and .NET's
# <add key="ApiKey" value="…"/>. Element text counts as quoted: it is always a literal.
_XML_ASSIGNMENTS = (
    re.compile(r"<(?P<key>[A-Za-z_][\w.:\-]{0,80})(?:\s[^<>]*)?>(?P<qv>[^<>\s]{1,400})</(?P=key)>"),
    re.compile(
        r"\bkey\s*=\s*\"(?P<key>[A-Za-z_][\w.:\-]{0,80})\"\s+value\s*=\s*\"(?P<qv>[^\"\n]{1,400})\""
    ),
)
_ASSIGNMENT_KEYWORDS = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "pass",
    "secret",
    "token",
    "key",
    "credential",
    "auth",
)
_KEY_SUBSTRINGS = ("password", "passwd", "passphrase", "secret")
_KEY_SEGMENTS = frozenset({"pwd", "pass", "pw", "token", "apikey", "credential", "credentials"})
_KEY_PAIRS = frozenset(
    {
        ("api", "key"),
        ("access", "key"),
        ("private", "key"),
        ("auth", "key"),
        ("auth", "token"),
        ("signing", "key"),
        ("encryption", "key"),
        ("master", "key"),
        ("account", "key"),
        ("app", "key"),
    }
)
_KEY_LAST_EXCLUDED = frozenset(
    [
        "url",
        "uri",
        "endpoint",
        "path",
        "file",
        "filename",
        "dir",
        "name",
        "id",
        "ids",
        "type",
        "length",
        "len",
        "size",
        "count",
        "env",
        "var",
        "field",
        "header",
        "param",
        "prefix",
        "suffix",
        "format",
        "hash",
        "hashed",
        "digest",
        "sha",
        "checksum",
        "regex",
        "pattern",
        "policy",
        "expiry",
        "expires",
        "expiration",
        "ttl",
        "timeout",
        "lifetime",
        "source",
        "kind",
        "version",
        "label",
        "ref",
        "arn",
        "location",
        "algorithm",
        "alg",
        "scope",
        "scopes",
        "min",
        "max",
        "limit",
        "template",
        "mode",
        "method",
        "store",
        "provider",
        "rotation",
        "required",
        "enabled",
        "question",
        "prompt",
        "description",
        "help",
        "hint",
        "placeholder",
        "validator",
        "strength",
        "class",
        "cls",
        "model",
        "schema",
        "widget",
        "input",
        "form",
        "error",
        "errors",
        "message",
        "msg",
        "rule",
        "rules",
        "reset",
        "manager",
        "backend",
        "handler",
        "factory",
        "generator",
        "loader",
        "getter",
        "setter",
        "fn",
        "func",
        "callback",
        "usage",
        "exchange",
        "last",
        "last4",
        "last8",
        "eight",
        "four",
        "at",
        "on",
        "date",
        "time",
        "timestamp",
        "created",
        "updated",
        "expired",
        "issued",
    ]
)
_KEY_FIRST_EXCLUDED = frozenset(
    [
        "max",
        "min",
        "num",
        "is",
        "has",
        "use",
        "enable",
        "enabled",
        "require",
        "required",
        "allow",
        "show",
        "validate",
        "check",
        "get",
        "set",
        "no",
        "skip",
        "hide",
    ]
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_CODE_SUFFIXES = (
    ".py",
    ".pyi",
    ".js",
    ".mjs",
    ".cjs",
    ".ts",
    ".tsx",
    ".jsx",
    ".go",
    ".java",
    ".kt",
    ".kts",
    ".scala",
    ".rb",
    ".php",
    ".cs",
    ".rs",
    ".swift",
    ".c",
    ".h",
    ".cc",
    ".cpp",
    ".hpp",
    ".m",
    ".groovy",
    ".dart",
    ".lua",
    ".jinja",
    ".j2",
    ".html",
)
# Prose, where `name: value` is a sentence, not an assignment.
_QUOTED_ONLY_SUFFIXES = (*_CODE_SUFFIXES, ".md", ".rst", ".adoc", ".txt")
_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|specs?|__tests__|testdata|test_data|fixtures?|mocks?)/"
    r"|(?:^|/)(?:test_[^/]*|[^/]*_test\.[a-z]+|[^/]*\.(?:spec|test)\.[a-z]+|conftest\.py)$"
)


def _secret_key(key: str) -> bool:
    """Whether an assignment's name says it holds a secret (``db_password``, ``apiKey``...)."""
    segments = [s for s in re.split(r"[_.\-]+", _CAMEL.sub("_", key).lower()) if s]
    if not segments:
        return False
    if segments[-1] in _KEY_LAST_EXCLUDED or segments[0] in _KEY_FIRST_EXCLUDED:
        return False
    if any(sub in seg for seg in segments for sub in _KEY_SUBSTRINGS):
        return True
    if any(seg in _KEY_SEGMENTS for seg in segments):
        return True
    return any(pair in _KEY_PAIRS for pair in itertools.pairwise(segments))


def _character_classes(value: str) -> int:
    return sum(
        1
        for present in (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
        if present
    )


def _assignment_value_ok(value: str) -> bool:
    v = value.strip()
    if len(v) < 8 or len(v) > 400 or v.isdigit() or looks_placeholder(v):
        return False
    if _UUID.match(v) or _ENV_NAME.match(v) or _DOTTED_REF.match(v) or _looks_like_path(v):
        return False
    if _CAMEL_WORDS.match(v) or _TIMESTAMP.match(v):
        return False  # an identifier such as "privateKeyUsagePeriod"
    if "://" in v or " " in v.strip() or v.endswith(":"):
        return False
    if len(v) < 20 and _character_classes(v) < 2:
        return False  # a word ("downgrades", "autolink"), not a generated secret
    decoded = _base64_text(v)
    # Only a short decoded text can be a placeholder; a long one is a secret whatever its words.
    if decoded is not None and (
        len(decoded) < 6 or (len(decoded) <= 24 and looks_placeholder(decoded))
    ):
        return False  # a Kubernetes Secret's `password: Y2hhbmdlbWU=` is "changeme"
    return shannon_entropy(v) >= min(3.0, math.log2(len(v)) - 0.5)


_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")


def _base64_text(value: str) -> str | None:
    """``value`` decoded, when it is base64 of printable ASCII text; otherwise None."""
    if not _BASE64.match(value):
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw or not all(32 <= b < 127 for b in raw):
        return None
    return raw.decode("ascii")


def _shown_key(key: str) -> str:
    """The assignment's name for the message: cut short, so a long random name (which might be
    a credential itself) is never reproduced."""
    return key if len(key) <= 32 else key[:16] + "…"


_GENERIC_ID = "generic-secret-assignment"
_GENERIC_TITLE = "secret-looking value assigned to"

_COMPILED: tuple[tuple[_Rule, re.Pattern[str], Refine], ...] = tuple(
    (rule, re.compile(rule.pattern, rule.flags), rule.refine or _refine_format(rule.severity))
    for rule in _RULES
)
# Credentials published in providers' documentation, which docs and tutorials everywhere quote:
# reported at info, never as secrets. Held as sha256 prefixes so that no scanner of this
# repository meets the values themselves. They are AWS's example key ids and secret keys
# (AKIAIOSFODNN7EXAMPLE, AKIAI44QH8DHBEXAMPLE and their wJalrXUtnFEMI…/je7MtGbClwBF… secrets),
# Stripe's two documentation test keys, and jwt.io's example token.
_DOC_EXAMPLE_DIGESTS = frozenset(
    {
        "1a5d44a2dca19669d72edf4c4f1c27c4",
        "78314b11be2e581549ac1c4f616563fa",
        "c6ea27c534f993d31f0aef882e3d200e",
        "e21b597ba6b9cafa59d9ebc4d65c0385",
        "2cafc0970149a84f3b9e62eaf169f36f",
        "f2d6ca16515033e5dce14eba840b979d",
        "7f75367e7881255134e1375e723d1dea",
    }
)
_DOC_EXAMPLE_NOTE = "a published documentation example, not a secret"
# jwt.io's example claims, whatever the signature (its key is the page's default secret).
_JWT_IO_CLAIMS = {"sub": "1234567890", "name": "John Doe"}


def _documentation_example(rule: str, value: str) -> bool:
    """Whether ``value`` is a credential that providers publish in their documentation."""
    if hashlib.sha256(value.encode()).hexdigest()[:32] in _DOC_EXAMPLE_DIGESTS:
        return True
    if rule.startswith("aws-") and value.endswith(("EXAMPLE", "EXAMPLEKEY")):
        return True  # AWS's documentation marks every example key this way
    if rule == "jwt" and value.count(".") == 2:
        claims = _decode_b64url_json(value.split(".")[1])
        return isinstance(claims, dict) and all(
            claims.get(k) == v for k, v in _JWT_IO_CLAIMS.items()
        )
    return False


# Rules whose hits in test code are usually fixtures: reported there, but only as low.
_CONTEXTUAL_RULES = frozenset({"connection-string-password", "authorization-header", "jwt"})


def _rules_digest() -> str:
    """A digest of the rule table, the word lists and thresholds, and this module's source (so a
    changed heuristic invalidates cached verdicts even if nobody bumps the engine revision)."""
    h = hashlib.sha256(_ENGINE_REVISION.encode())
    h.update(Path(__file__).read_bytes())
    for rule in _RULES:
        refine = "-"
        if rule.refine is not None:
            cells = [repr(c.cell_contents) for c in rule.refine.__closure__ or ()]
            refine = f"{rule.refine.__qualname__}{cells}"
        h.update(
            json.dumps(
                [rule.id, rule.severity.value, rule.pattern, rule.keywords, str(rule.group), refine]
            ).encode()
        )
    h.update(_ASSIGNMENT.pattern.encode())
    for regex in _XML_ASSIGNMENTS:
        h.update(regex.pattern.encode())
    for words in (
        _PLACEHOLDER_WORDS,
        sorted(_PLACEHOLDER_TOKENS),
        _KEY_SUBSTRINGS,
        sorted(_KEY_SEGMENTS),
        sorted(_KEY_PAIRS),
        sorted(_KEY_LAST_EXCLUDED),
        sorted(_KEY_FIRST_EXCLUDED),
        _QUOTED_ONLY_SUFFIXES,
    ):
        h.update(json.dumps(words).encode())
    h.update(_PLACEHOLDER_MARKS.pattern.encode() + _FORMAT_PLACEHOLDER.pattern.encode())
    h.update(json.dumps([sorted(_WEAK_URL_PASSWORDS), _DEMO_PASSWORDS, "0134578@$"]).encode())
    for pattern in (
        _UUID,
        _ENV_NAME,
        _DOTTED_REF,
        _CAMEL_WORDS,
        _TIMESTAMP,
        _PATH_START,
        _PATH_END,
        _REFERENCE,
        _BASE64,
    ):
        h.update(pattern.pattern.encode())
    h.update(json.dumps([sorted(_CONTEXTUAL_RULES), _TEST_PATH.pattern]).encode())
    return h.hexdigest()[:12]


RULE_IDS: tuple[str, ...] = tuple(dict.fromkeys((*(r.id for r in _RULES), _GENERIC_ID)))


# --------------------------------------------------------------------------------------------
# Scanning


@dataclass(frozen=True)
class SecretHit:
    """One secret found in a text: which rule, where, how bad, and its fingerprint."""

    rule: str
    title: str
    severity: Severity
    line: int
    fingerprint: str
    note: str = ""


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _matches(
    regex: re.Pattern[str],
    text: str,
    lower: str,
    keywords: Sequence[str],
    line_starts: Sequence[int],
) -> Iterator[re.Match[str]]:
    """Matches of ``regex`` on just the lines holding one of ``keywords`` (the pre-filter that
    keeps the scan fast: most lines of most files hold none)."""
    lines: set[int] = set()
    for keyword in keywords:
        pos = lower.find(keyword)
        while pos >= 0:
            line = bisect.bisect_right(line_starts, pos) - 1
            lines.add(line)
            # Skip to the next line: one hit is enough to scan this one.
            nxt = line_starts[line + 1] if line + 1 < len(line_starts) else len(text)
            pos = lower.find(keyword, nxt)
    if not lines:
        return
    # Runs of consecutive lines become one segment each.
    ordered = sorted(lines)
    runs: list[tuple[int, int]] = []
    for line in ordered:
        if runs and runs[-1][1] == line - 1:
            runs[-1] = (runs[-1][0], line)
        else:
            runs.append((line, line))
    for first, last in runs:
        end = line_starts[last + 1] if last + 1 < len(line_starts) else len(text)
        yield from regex.finditer(text, line_starts[first], end)


class _Spans:
    """Character spans already reported, indexed by line so a check costs O(hits per line)."""

    def __init__(self, line_of: Callable[[int], int]) -> None:
        self._line_of = line_of
        self._by_line: dict[int, list[tuple[int, int]]] = {}

    def overlaps(self, start: int, end: int) -> bool:
        for line in range(self._line_of(start), self._line_of(max(start, end - 1)) + 1):
            if any(start < e and s < end for s, e in self._by_line.get(line, ())):
                return True
        return False

    def add(self, start: int, end: int) -> None:
        for line in range(self._line_of(start), self._line_of(max(start, end - 1)) + 1):
            self._by_line.setdefault(line, []).append((start, end))


_JSON_SUFFIXES = (".json", ".ipynb", ".har")


def _path_role(path: str) -> tuple[bool, bool]:
    """What the path says about its content: (test code or fixture, code or prose in which
    only quoted values are literals)."""
    return bool(_TEST_PATH.search(path)), path.lower().endswith(_QUOTED_ONLY_SUFFIXES)


def scan_text(text: str, path: str = "") -> list[SecretHit]:
    """Every secret in ``text`` (ignoring pragmas and baselines), in order of position."""
    if path.lower().endswith(_JSON_SUFFIXES):
        # Code and URLs inside JSON strings (notebook cells, HAR files) arrive with escaped
        # quotes and slashes; unescape them (no newline moves, so line numbers hold).
        text = text.replace('\\"', '"').replace("\\/", "/")
    lower = text.translate(_ASCII_LOWER)  # same length as text, so positions agree
    line_starts = [0]
    line_starts.extend(m.end() for m in re.finditer("\n", text))

    def line_of(pos: int) -> int:
        return bisect.bisect_right(line_starts, pos)

    taken = _Spans(line_of)  # spans already reported, so overlapping matches count once
    hits: list[tuple[int, SecretHit]] = []
    overlaps = taken.overlaps

    in_tests, in_code = _path_role(path)
    for rule, regex, refine in _COMPILED:
        for match in _matches(regex, text, lower, rule.keywords, line_starts):
            start, end = match.span()
            if overlaps(start, end):
                continue
            candidate = refine(match, _value_of(rule, match), text)
            if candidate is None:
                continue
            taken.add(start, end)
            severity, note = candidate.severity, candidate.note
            if in_tests and rule.id in _CONTEXTUAL_RULES:
                severity = min(severity, Severity.LOW, key=lambda s: s.rank)
            if _documentation_example(rule.id, candidate.value):
                severity, note = Severity.INFO, _DOC_EXAMPLE_NOTE
            hit = SecretHit(
                rule=rule.id,
                title=rule.title,
                severity=severity,
                line=line_of(start),
                fingerprint=fingerprint(rule.id, candidate.value),
                note=note,
            )
            hits.append((start, hit))

    hits.extend(_aws_secret_near_key_ids(text, hits, taken, line_starts, line_of))

    assignments = (
        match
        for regex in (_ASSIGNMENT, *_XML_ASSIGNMENTS)
        for match in _matches(regex, text, lower, _ASSIGNMENT_KEYWORDS, line_starts)
    )
    for match in assignments:
        key = match.group("key")
        quoted = match.group("qv") is not None
        value = match.group("qv") if quoted else match.groupdict().get("uv")
        if value is None or (in_code and not quoted):
            continue
        if not _secret_key(key) or not _assignment_value_ok(value):
            continue
        vstart = match.start("qv") if quoted else match.start("uv")
        if overlaps(vstart, vstart + len(value)):
            continue
        taken.add(vstart, vstart + len(value))
        example = _documentation_example(_GENERIC_ID, value.strip())
        hits.append(
            (
                match.start(),
                SecretHit(
                    rule=_GENERIC_ID,
                    title=f"{_GENERIC_TITLE} {_shown_key(key)!r}",
                    severity=Severity.INFO
                    if example
                    else (Severity.LOW if in_tests else Severity.MEDIUM),
                    line=line_of(match.start()),
                    fingerprint=fingerprint(_GENERIC_ID, value.strip()),
                    note=_DOC_EXAMPLE_NOTE if example else "",
                ),
            )
        )
    hits.sort(key=lambda item: (item[0], item[1].rule))
    return [hit for _, hit in hits]


_B64_40 = re.compile(r"(?<![A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")


def _aws_secret_near_key_ids(
    text: str,
    hits: Sequence[tuple[int, SecretHit]],
    taken: _Spans,
    line_starts: Sequence[int],
    line_of: Callable[[int], int],
) -> list[tuple[int, SecretHit]]:
    """A 40-character base64 string within three lines of an AWS key id is its secret key."""
    found: list[tuple[int, SecretHit]] = []
    for _, hit in list(hits):
        if hit.rule != "aws-access-key-id":
            continue
        first = max(0, hit.line - 4)
        last = min(len(line_starts), hit.line + 3)
        start = line_starts[first]
        end = line_starts[last] if last < len(line_starts) else len(text)
        for match in _B64_40.finditer(text, start, end):
            value = match.group(1)
            if taken.overlaps(match.start(), match.end()):
                continue
            if not (
                re.search(r"[a-z]", value)
                and re.search(r"[A-Z]", value)
                and re.search(r"\d", value)
            ):
                continue
            if shannon_entropy(value) < 4.2 or _format_placeholder(value):
                continue
            taken.add(match.start(), match.end())
            example = _documentation_example("aws-secret-access-key", value)
            found.append(
                (
                    match.start(),
                    SecretHit(
                        rule="aws-secret-access-key",
                        title="AWS secret access key",
                        severity=Severity.INFO if example else Severity.CRITICAL,
                        note=_DOC_EXAMPLE_NOTE if example else "",
                        line=line_of(match.start()),
                        fingerprint=fingerprint("aws-secret-access-key", value),
                    ),
                )
            )
    return found


# --------------------------------------------------------------------------------------------
# Baseline


class _BaselineModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _reason(value: str) -> str:
    if not value.strip():
        raise ValueError("needs a reason people can read")
    return value.strip()


Reason = Annotated[str, AfterValidator(_reason)]
Glob = Annotated[str, AfterValidator(validate_glob)]


class AcceptedSecret(_BaselineModel):
    """One accepted finding: its fingerprint, optionally narrowed to a rule and a path glob."""

    fingerprint: str
    rule: str | None = None
    path: Glob | None = None
    reason: Reason

    @field_validator("fingerprint")
    @classmethod
    def _twelve_hex_digits(cls, value: str) -> str:
        if not _FP.match(value):
            raise ValueError("must be 12 lowercase hex digits")
        return value

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, value: str | None) -> str | None:
        if value is not None and value not in RULE_IDS:
            raise ValueError(f"no such secrets rule {value!r}")
        return value


class SkippedPath(_BaselineModel):
    """A path glob never scanned, with the reason someone gave."""

    glob: Glob
    reason: Reason


class Baseline(_BaselineModel):
    """A secrets baseline file: accepted findings and path globs never scanned."""

    version: int = 1
    accepted: list[AcceptedSecret] = Field(default_factory=list)
    skip_paths: list[SkippedPath] = Field(default_factory=list)

    @field_validator("version")
    @classmethod
    def _supported(cls, value: int) -> int:
        if value != 1:
            raise ValueError(f"unsupported baseline version {value!r} (expected 1)")
        return value

    def skips(self, path: str) -> bool:
        return any(path_matches(entry.glob, path) for entry in self.skip_paths)

    def accepts(self, path: str, hit: SecretHit) -> bool:
        for entry in self.accepted:
            if entry.fingerprint != hit.fingerprint:
                continue
            if entry.rule is not None and entry.rule != hit.rule:
                continue
            if entry.path is not None and not path_matches(entry.path, path):
                continue
            return True
        return False


_FP = re.compile(r"^[0-9a-f]{12}$")


def load_baseline(data: bytes, source: str) -> Baseline:
    """Parse a baseline file; errors name ``source`` and the key path that is wrong."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckError(f"{source}: not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise CheckError(f"{source}: a secrets baseline must be a JSON object")
    try:
        return Baseline.model_validate(raw)
    except ValidationError as exc:
        raise CheckError(
            options_error_text(exc, source, sep=": "),
            hint="a secrets baseline has 'version', 'accepted' and 'skip_paths'; see docs/scans.md",
        ) from None


# --------------------------------------------------------------------------------------------
# Checker


class SecretsOptions(SizeLimitedOptions):
    """The secrets checker's options: ``baseline`` (the tree path of the baseline file),
    ``skip_paths`` (globs never scanned), ``disable`` (rule ids to turn off)."""

    baseline: str = Field(default=BASELINE_PATH, min_length=1)
    skip_paths: tuple[Glob, ...] = ()
    disable: tuple[str, ...] = ()

    @field_validator("disable")
    @classmethod
    def _known_rules(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - {*RULE_IDS, TOO_LARGE})
        if unknown:
            raise ValueError(f"no such rule {unknown[0]!r} (the rules are listed in docs/scans.md)")
        return value


class SecretsChecker(Checker):
    """Reports credentials committed to the tree, by type, path, line and fingerprint.

    Its options are :class:`SecretsOptions`.
    """

    name: ClassVar[str] = "secrets"
    version: ClassVar[str] = f"1.{_rules_digest()}"
    options_model: ClassVar[type[CheckerOptions]] = SecretsOptions

    def __init__(self) -> None:
        self._baselines: dict[tuple[str, str], Baseline] = {}

    def _baseline_path(self, ctx: CheckContext) -> str:
        return ctx.options_as(SecretsOptions).baseline

    def dependencies(self, path: str, ctx: CheckContext) -> Sequence[str]:
        return (self._baseline_path(ctx),)

    def dependency_fingerprint(self, path: str, ctx: CheckContext) -> str:
        # Narrower than the default (which includes the path), so one content at several
        # paths shares an entry; but everything the path decides is in the key: the
        # baseline's content, which of its globs match, and the path's role.
        baseline = self._baseline(ctx)
        facts = {
            "baseline": _digest_of(ctx, self.dependencies(path, ctx)),
            "role": _path_role(path),
            "skipped": self._skipped(path, ctx, baseline),
            "accepted": [
                i
                for i, entry in enumerate(baseline.accepted)
                if entry.path is None or path_matches(entry.path, path)
            ],
        }
        return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()

    def _skipped(self, path: str, ctx: CheckContext, baseline: Baseline) -> bool:
        if path == self._baseline_path(ctx) or baseline.skips(path):
            return True
        skip_globs = ctx.options_as(SecretsOptions).skip_paths
        return any(path_matches(glob, path) for glob in skip_globs)

    def _baseline(self, ctx: CheckContext) -> Baseline:
        path = self._baseline_path(ctx)
        file = ctx.tree.get(path)
        if file is None:
            return Baseline()
        key = (path, file.sha256)
        if key not in self._baselines:
            self._baselines[key] = load_baseline(file.data, path)
        return self._baselines[key]

    def check_file(self, path: str, file: File, ctx: CheckContext) -> list[Finding]:
        options = ctx.options_as(SecretsOptions)
        baseline = self._baseline(ctx)
        if self._skipped(path, ctx, baseline) or is_binary(file.data):
            return []
        limit = options.max_file_bytes
        if len(file.data) > limit:
            return [too_large(self.name, path, len(file.data), limit)]
        disabled = set(options.disable)
        text = file.data.decode("utf-8", errors="replace")
        lines = text.split("\n")
        findings: list[Finding] = []
        for hit in scan_text(text, path):
            if hit.rule in disabled:
                continue
            if PRAGMA in lines[hit.line - 1].lower() or baseline.accepts(path, hit):
                continue
            note = f", {hit.note}" if hit.note else ""
            findings.append(
                Finding(
                    checker=self.name,
                    rule=hit.rule,
                    severity=hit.severity,
                    path=path,
                    line=hit.line,
                    message=(
                        f"{hit.title} (fingerprint {hit.fingerprint}{note}): remove and rotate "
                        f"it, or accept the fingerprint in {self._baseline_path(ctx)}"
                    ),
                )
            )
        return findings


def _digest_of(ctx: CheckContext, paths: Sequence[str]) -> str:
    h = hashlib.sha256()
    for dep in sorted(set(paths)):
        f = ctx.tree.get(dep)
        h.update(f"{dep}\0{f.sha256 if f is not None else '-'}\n".encode())
    return h.hexdigest()
