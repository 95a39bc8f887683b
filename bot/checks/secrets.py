"""The secret scan: well-known credential formats and entropy-gated keyword assignments.

The rule table and the word lists live in ``data/secret_rules.yml``, read and validated once
when this module loads; this module holds the scanning logic, the baseline and the checker.

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
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.checks.base import CheckContext, Checker, Finding, Severity, options_error_text
from bot.checks.limits import TOO_LARGE, too_large
from bot.checks.options import (
    DEFAULT_MAX_FILE_BYTES,
    CheckerOptions,
    SizeLimitedOptions,
)
from bot.errors import CheckError
from bot.globs import path_matches, validate_glob
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
_ENGINE_REVISION = "4"


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


# --------------------------------------------------------------------------------------------
# The rule table and word lists, from data/secret_rules.yml


class _DataModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The refine steps a rule of the data file may name; `high-entropy` takes its `min_entropy`.
_REFINES: dict[str, Refine] = {
    "private-key": _refine_private_key,
    "putty": _refine_putty,
    "jwt": _refine_jwt,
    "connection": _refine_connection,
    "auth-header": _refine_auth_header,
    "npmrc": _refine_npmrc,
    "curl-user": _refine_curl_user,
    "docker-auth": _refine_docker_auth,
    "uuid-key": _refine_uuid_key,
}


class _RuleData(_DataModel):
    """One rule as the data file states it."""

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    title: str = Field(min_length=1)
    severity: Severity
    pattern: str
    keywords: tuple[str, ...] = Field(min_length=1)
    group: int | str = 1
    refine: str | None = None
    min_entropy: float | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regex: {exc}") from None
        return value

    @field_validator("keywords")
    @classmethod
    def _lowercase(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not k or k != k.lower() for k in value):
            raise ValueError("keywords are non-empty lowercase literals")
        return value

    @model_validator(mode="after")
    def _known_refine(self) -> _RuleData:
        if self.refine == "high-entropy":
            if self.min_entropy is None:
                raise ValueError("refine 'high-entropy' needs a min_entropy")
        elif self.min_entropy is not None:
            raise ValueError("min_entropy goes with refine 'high-entropy' only")
        elif self.refine is not None and self.refine not in _REFINES:
            raise ValueError(f"no such refine step {self.refine!r}")
        return self

    def rule(self) -> _Rule:
        refine: Refine | None = None
        if self.refine == "high-entropy" and self.min_entropy is not None:
            refine = _refine_high_entropy(self.min_entropy)
        elif self.refine is not None:
            refine = _REFINES[self.refine]
        return _Rule(
            self.id, self.title, self.severity, self.pattern, self.keywords, self.group, 0, refine
        )


class _WordLists(_DataModel):
    """The word lists the value and key heuristics read."""

    placeholder_words: tuple[str, ...]  # looks_placeholder: a substring marks filler
    placeholder_tokens: frozenset[str]  # looks_placeholder: whole filler words
    local_hosts: tuple[str, ...]  # _refine_connection: a local database is medium
    weak_url_passwords: frozenset[str]  # _refine_connection, _refine_uuid_key
    demo_passwords: tuple[str, ...]  # _refine_connection: scott/tiger and friends
    weak_curl_passwords: frozenset[str]  # _refine_curl_user
    assignment_keywords: tuple[str, ...]  # the generic rule runs on lines holding one
    key_substrings: tuple[str, ...]  # _secret_key: a name segment containing one
    key_segments: frozenset[str]  # _secret_key: a whole name segment
    key_pairs: frozenset[tuple[str, str]]  # _secret_key: two adjacent segments
    key_last_excluded: frozenset[str]  # _secret_key: `db_password_url` names no secret
    key_first_excluded: frozenset[str]  # _secret_key: `max_password_length` neither
    code_suffixes: tuple[str, ...]  # where only a quoted value is an assignment
    prose_suffixes: tuple[str, ...]  # prose, where `name: value` is a sentence
    doc_example_digests: frozenset[str]  # _documentation_example (sha256 prefixes)
    contextual_rules: frozenset[str]  # reported as low in test code


class _SecretData(_DataModel):
    rules: tuple[_RuleData, ...] = Field(min_length=1)
    words: _WordLists

    @model_validator(mode="after")
    def _known_contextual_rules(self) -> _SecretData:
        # One id may have several rules (two spellings of one credential); it is one finding.
        unknown = sorted(self.words.contextual_rules - {r.id for r in self.rules})
        if unknown:
            raise ValueError(f"contextual_rules names no such rule {unknown[0]!r}")
        return self


_DATA_FILE = resources.files("bot.checks").joinpath("data/secret_rules.yml")
_DATA_BYTES = _DATA_FILE.read_bytes()
# Read and validated once, when the module loads; a broken file is a packaging bug.
_DATA = _SecretData.model_validate(yaml.safe_load(_DATA_BYTES))

_RULES: tuple[_Rule, ...] = tuple(r.rule() for r in _DATA.rules)
_PLACEHOLDER_WORDS = _DATA.words.placeholder_words
_PLACEHOLDER_TOKENS = _DATA.words.placeholder_tokens
_LOCAL_HOSTS = _DATA.words.local_hosts
_WEAK_URL_PASSWORDS = _DATA.words.weak_url_passwords
_DEMO_PASSWORDS = _DATA.words.demo_passwords
_WEAK_CURL_PASSWORDS = _DATA.words.weak_curl_passwords
_ASSIGNMENT_KEYWORDS = _DATA.words.assignment_keywords
_KEY_SUBSTRINGS = _DATA.words.key_substrings
_KEY_SEGMENTS = _DATA.words.key_segments
_KEY_PAIRS = _DATA.words.key_pairs
_KEY_LAST_EXCLUDED = _DATA.words.key_last_excluded
_KEY_FIRST_EXCLUDED = _DATA.words.key_first_excluded
_CODE_SUFFIXES = _DATA.words.code_suffixes
_QUOTED_ONLY_SUFFIXES = (*_CODE_SUFFIXES, *_DATA.words.prose_suffixes)
_DOC_EXAMPLE_DIGESTS = _DATA.words.doc_example_digests
_CONTEXTUAL_RULES = _DATA.words.contextual_rules


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
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
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


def _rules_digest() -> str:
    """A digest of the data file, the rule table, the word lists and thresholds, and this
    module's source (so a changed rule or heuristic invalidates cached verdicts even if nobody
    bumps the engine revision)."""
    h = hashlib.sha256(_ENGINE_REVISION.encode())
    h.update(Path(__file__).read_bytes())
    h.update(_DATA_BYTES)
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
    h.update(json.dumps([sorted(_TEST_FIXTURE_RULES), _INTERPOLATION_OPEN]).encode())
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
            if in_tests and rule.id in _TEST_FIXTURE_RULES:
                # Test certificates' keys: real keys, but test fixtures by default.
                severity, note = Severity.LOW, _TEST_FIXTURE_NOTE
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
        if _inside_interpolation(text, match.start("key")):
            continue  # `${SECRET_KEY:?unset}`: a reference to the environment, not a value
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


_TEST_FIXTURE_RULES = frozenset({"private-key", "putty-private-key"})
_TEST_FIXTURE_NOTE = (
    "in test code, so low by default: a test certificate's key? accept its fingerprint in the "
    "baseline"
)
_INTERPOLATION_OPEN = ("${", "$(", "{{", "%(")


def _inside_interpolation(text: str, pos: int) -> bool:
    """Whether ``pos`` is the name right after ``${``, ``{{ env.`` and the like: the
    assignment found there is a shell or template reference (``${VAR:-default}``)."""
    before = text[max(0, pos - 12) : pos].rstrip(" \t")
    before = re.sub(r"(?:env|vars|secrets|inputs|os\.environ)\.$", "", before).rstrip(" \t")
    return before.endswith(_INTERPOLATION_OPEN)


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
