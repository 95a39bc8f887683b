"""The license scan: SPDX headers, LICENSE/COPYING texts and dependency licenses against a policy.

Offline and fast: expressions are parsed with ``license-expression``'s SPDX licensing, license
files are matched against a few bundled canonical texts and distinctive phrases, and dependency
licenses come only from metadata already in the tree. Whatever cannot be established is
reported as unknown, never guessed.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.parser import HeaderParser
from enum import IntEnum
from importlib import metadata, resources
from pathlib import Path
from typing import Any, ClassVar

import yaml
from license_expression import (
    ExpressionError,
    LicenseSymbol,
    LicenseWithExceptionSymbol,
    Licensing,
    get_spdx_licensing,
)
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from rapidfuzz import fuzz

from bot.checks.base import CheckContext, Checker, Finding, Severity
from bot.checks.options import CheckerOptions, PositiveInt
from bot.errors import CheckError
from bot.tree import File, is_binary

__all__ = [
    "DEFAULT_LICENSE_FILES",
    "Identified",
    "LicenseChecker",
    "LicenseOptions",
    "LicensePolicy",
    "ParsedExpression",
    "Status",
    "identify_license_text",
    "is_license_file",
    "parse_spdx",
]

HEADER_BYTES = 8192
DEFAULT_LICENSE_FILES = (
    ".evobot/licenses.yml",
    ".evobot/licenses.yaml",
    ".evobot/licenses.json",
    "licenses.yml",
    "licenses.yaml",
    "licenses.json",
    "pip-licenses.json",
)
# Bumped by hand when the logic changes; the bundled data is digested into the version too.
_ENGINE_REVISION = "2"


@functools.cache
def _data() -> dict[str, Any]:
    raw = resources.files("bot.checks").joinpath("data/licenses.json").read_bytes()
    data: dict[str, Any] = json.loads(raw)
    return data


@functools.cache
def _licensing() -> Licensing:
    return get_spdx_licensing()


def _version() -> str:
    """A digest of the bundled data, this module's source and the SPDX license list in use:
    changing any of them invalidates the cached verdicts."""
    h = hashlib.sha256(_ENGINE_REVISION.encode())
    h.update(resources.files("bot.checks").joinpath("data/licenses.json").read_bytes())
    h.update(Path(__file__).read_bytes())
    # Which ids are valid SPDX comes from license-expression's bundled license list.
    h.update(metadata.version("license-expression").encode())
    return "1." + h.hexdigest()[:12]


# --------------------------------------------------------------------------------------------
# SPDX expressions and the policy


_LICENSE_REF = re.compile(r"^(?:DocumentRef-[A-Za-z0-9.\-]+:)?LicenseRef-[A-Za-z0-9.\-]+$")


@dataclass(frozen=True)
class ParsedExpression:
    """A valid SPDX expression, normalized (``gpl-2.0+`` becomes ``GPL-2.0-or-later``)."""

    normalized: str
    tree: Any  # license_expression's LicenseExpression (untyped library)


def parse_spdx(expression: str) -> ParsedExpression | str:
    """Parse ``expression``; return it normalized, or a sentence saying why it is invalid."""
    text = expression.strip()
    if not text:
        return "empty license expression"
    licensing = _licensing()
    try:
        parsed = licensing.parse(text, strict=True)
    except ExpressionError as exc:
        return f"invalid SPDX expression {text!r}: {exc}"
    if parsed is None:
        return "empty license expression"
    unknown = [k for k in licensing.unknown_license_keys(parsed) if not _LICENSE_REF.match(k)]
    if unknown:
        return f"unknown SPDX license id(s) {', '.join(sorted(unknown))} in {text!r}"
    return ParsedExpression(str(parsed), parsed)


class Status(IntEnum):
    """A license's standing under the policy, best first (OR takes the best, AND the worst)."""

    ALLOWED = 0
    REVIEW = 1
    UNLISTED = 2
    UNKNOWN = 3
    DENIED = 4


_SEVERITY = {
    Status.REVIEW: Severity.LOW,
    Status.UNLISTED: Severity.MEDIUM,
    Status.UNKNOWN: Severity.INFO,
    Status.DENIED: Severity.HIGH,
}
_RULE = {
    Status.REVIEW: "license-review",
    Status.UNLISTED: "license-not-allowlisted",
    Status.UNKNOWN: "license-unknown",
    Status.DENIED: "license-denied",
}
_WHY = {
    Status.REVIEW: "is allowed but has obligations to review (weak copyleft)",
    Status.UNLISTED: "is neither allowed nor denied by the license policy",
    Status.UNKNOWN: "is not a license the policy knows (a custom LicenseRef)",
    Status.DENIED: "is denied by the license policy",
}


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


@dataclass(frozen=True)
class LicensePolicy:
    """SPDX ids (globs allowed) that are allowed, denied, or allowed but flagged for review.

    Precedence: an exact deny, an exact allow, a deny glob, a review entry, an allow glob.
    Matching ignores case, as SPDX ids do.
    """

    allow: tuple[str, ...]
    deny: tuple[str, ...]
    review: tuple[str, ...]

    @classmethod
    def from_options(cls, options: LicenseOptions) -> LicensePolicy:
        defaults = _data()["policy"]
        lists: dict[str, tuple[str, ...]] = {}
        for key in ("allow", "deny", "review"):
            # `allow` replaces the default list; `allow_extra` adds to it (same for the others).
            given: tuple[str, ...] | None = getattr(options, key)
            extra: tuple[str, ...] = getattr(options, f"{key}_extra")
            value = [*(defaults[key] if given is None else given), *extra]
            lists[key] = tuple(v.strip().lower() for v in value if v.strip())
        return cls(lists["allow"], lists["deny"], lists["review"])

    def classify_id(self, spdx_id: str) -> Status:
        ident = spdx_id.lower()
        exact = [p for p in (*self.allow, *self.deny, *self.review) if not _is_glob(p)]
        if ident in exact:
            if ident in self.deny:
                return Status.DENIED
            if ident in self.allow:
                return Status.ALLOWED
            return Status.REVIEW
        if any(fnmatch.fnmatchcase(ident, p) for p in self.deny if _is_glob(p)):
            return Status.DENIED
        if any(fnmatch.fnmatchcase(ident, p) for p in self.review if _is_glob(p)):
            return Status.REVIEW
        if any(fnmatch.fnmatchcase(ident, p) for p in self.allow if _is_glob(p)):
            return Status.ALLOWED
        if _LICENSE_REF.match(spdx_id):
            return Status.UNKNOWN
        return Status.UNLISTED

    def classify(self, parsed: ParsedExpression) -> tuple[Status, list[str]]:
        """The expression's standing and the ids that decided it."""
        return self._walk(parsed.tree)

    def _walk(self, node: Any) -> tuple[Status, list[str]]:
        licensing = _licensing()
        if isinstance(node, LicenseWithExceptionSymbol):
            whole = f"{node.license_symbol.key} WITH {node.exception_symbol.key}"
            status = self.classify_id(whole)
            if status in (Status.UNLISTED, Status.UNKNOWN):
                status = self.classify_id(node.license_symbol.key)
            return status, [whole]
        if isinstance(node, LicenseSymbol):
            return self.classify_id(node.key), [node.key]
        parts = [self._walk(arg) for arg in node.args]
        if isinstance(node, licensing.OR):
            best = min(status for status, _ in parts)
            return best, [i for status, ids in parts if status == best for i in ids]
        worst = max(status for status, _ in parts)
        return worst, [i for status, ids in parts if status == worst for i in ids]

    def classify_candidates(self, candidates: Iterable[str]) -> Status | None:
        """One standing shared by every candidate, or None when they disagree (or are none)."""
        statuses = {self.classify_id(c) for c in candidates}
        return statuses.pop() if len(statuses) == 1 else None


# --------------------------------------------------------------------------------------------
# License texts


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


# A copyright statement, not a wrapped license line that happens to start with "copyright
# notice" or "copyright holders".
_COPYRIGHT_LINE = re.compile(
    r"^\W*(?:copyright\b(?!\s+(?:notice|holder|owner|law|and\b|interest|license|permission|"
    r"claim|statement|protection))|\(c\)|©|all rights reserved)",
    re.IGNORECASE,
)
_TITLE_WORDS = frozenset(
    [
        "the",
        "mit",
        "license",
        "licence",
        "bsd",
        "2",
        "3",
        "clause",
        "isc",
        "new",
        "simplified",
        "revised",
        "modified",
        "x11",
        "expat",
        "zero",
        "unlicense",
        "0bsd",
        "zlib",
        "open",
        "source",
        "initiative",
        "osi",
        "approved",
        "spdx",
        "identifier",
    ]
)


def _body_words(text: str) -> str:
    """The license body: copyright lines and title lines (``MIT License``) dropped."""
    kept = []
    for line in text.splitlines():
        if _COPYRIGHT_LINE.match(line.strip()):
            continue
        words = _words(line).split()
        if words and set(words) <= _TITLE_WORDS:
            continue
        kept.append(line)
    return _words("\n".join(kept))


@dataclass(frozen=True)
class Identified:
    """A license text recognised in a file: its family and the SPDX ids it can stand for."""

    family: str
    candidates: tuple[str, ...]
    how: str  # "text", "contained", "phrases" or "notice"


@functools.cache
def _text_index() -> tuple[tuple[str, tuple[str, ...], str], ...]:
    return tuple(
        (entry["family"], tuple(entry["candidates"]), _words(entry["text"]))
        for entry in _data()["texts"]
    )


def _contained(body: str, canonical: str) -> float:
    """How well ``canonical`` matches the best window of ``body`` that starts like it."""
    anchor = " ".join(canonical.split()[:4])
    best = 0.0
    pos = body.find(anchor)
    while pos >= 0:
        best = max(best, fuzz.ratio(body[pos : pos + len(canonical)], canonical))
        pos = body.find(anchor, pos + 1)
    return best


def identify_license_text(text: str) -> list[Identified]:
    """The licenses whose text (or notice) ``text`` holds; an empty list means unknown.

    Short permissive texts are compared with bundled canonical texts: the whole body (once
    copyright and title lines are dropped) near-identical to one of them identifies it
    (``how="text"``); a body that merely *contains* one, next to other text, is reported as
    ``how="contained"``, which says nothing about the rest. Long licenses are recognised by
    their distinctive title and version lines, and notices only when no full text of the same
    family is present (a GPL text quotes its own "or any later version" notice).
    """
    words = _words(text)
    found: list[Identified] = []
    families: set[str] = set()
    for entry in _data()["phrases"]:
        if all(_words(p) in words for p in entry["phrases"]):
            found.append(Identified(entry["family"], tuple(entry["candidates"]), "phrases"))
            families.add(entry["family"])
    body = _body_words(text)
    if body:
        scored = [
            (fuzz.ratio(body, canonical), family, candidates)
            for family, candidates, canonical in _text_index()
        ]
        score, family, candidates = max(scored)
        if score >= 95:
            found.append(Identified(family, candidates, "text"))
            families.add(family)
        else:
            for family, candidates, canonical in _text_index():
                if family not in families and _contained(body, canonical) >= 95:
                    found.append(Identified(family, candidates, "contained"))
                    families.add(family)
    for entry in _data()["notices"]:
        if entry["family"] in families:
            continue  # a full GPL text carries the "or any later version" notice as an example
        if all(_words(p) in words for p in entry["phrases"]):
            found.append(Identified(entry["family"], tuple(entry["candidates"]), "notice"))
            families.add(entry["family"])
    return found


# LICENSE, LICENCE.md, COPYING, COPYING.LESSER, LICENSE-APACHE, LICENSE.PSF, UNLICENSE...
_LICENSE_FILE = re.compile(
    r"^(?:un)?(?:licen[cs]e|copying)(?:[-_.][A-Za-z0-9]+)?(?:\.(?:txt|md|rst))?$",
    re.IGNORECASE,
)


def is_license_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if name.lower().endswith((".py", ".json", ".yml", ".yaml", ".toml", ".html", ".jinja")):
        return False
    return bool(_LICENSE_FILE.match(name))


# --------------------------------------------------------------------------------------------
# Dependencies


_SPDX_HEADER = re.compile(
    r"^[ \t]*(?:#|//|/\*|\*|--|;|%|<!--|\{#|\.\.|rem\b|'|\"|REM\b)*[ \t]*"
    r"SPDX-License-Identifier:[ \t]*(?P<expr>[^\n]*)$",
    re.MULTILINE,
)
_TRAILERS = re.compile(r"(?:\*/|-->|#\}|\*\)|\"\"\"|'''|[\"',;])+\s*$")


def _requirement_name(line: str) -> str | None:
    try:
        return canonicalize_name(Requirement(line).name)
    except InvalidRequirement:
        return None


def _is_requirements_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if not name.endswith((".txt", ".in")):
        return False
    return name.startswith("requirements") or "/requirements/" in f"/{path}"


@dataclass(frozen=True)
class _Declared:
    name: str  # canonical
    line: int | None


def _line_of(text: str, needle: str) -> int | None:
    idx = text.find(needle)
    return text.count("\n", 0, idx) + 1 if idx >= 0 else None


def _declared_in_pyproject(text: str, path: str) -> tuple[list[_Declared], list[str]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _Unreadable(
            f"{path} is not valid TOML ({exc}); its dependencies were not checked"
        ) from None
    specs: list[str] = []
    project = data.get("project") or {}
    specs.extend(s for s in project.get("dependencies") or [] if isinstance(s, str))
    for group in (project.get("optional-dependencies") or {}).values():
        specs.extend(s for s in group or [] if isinstance(s, str))
    for group in (data.get("dependency-groups") or {}).values():
        specs.extend(s for s in group or [] if isinstance(s, str))
    poetry = (data.get("tool") or {}).get("poetry") or {}
    poetry_names = [n for n in (poetry.get("dependencies") or {}) if n.lower() != "python"]
    for group in (poetry.get("group") or {}).values():
        poetry_names.extend((group or {}).get("dependencies") or {})
    declared: list[_Declared] = []
    bad: list[str] = []
    seen: set[str] = set()
    for spec in specs:
        name = _requirement_name(spec)
        if name is None:
            bad.append(spec)
            continue
        if name not in seen:
            seen.add(name)
            declared.append(_Declared(name, _line_of(text, f'"{spec}"') or _line_of(text, spec)))
    for raw_name in poetry_names:
        name = canonicalize_name(raw_name)
        if name not in seen:
            seen.add(name)
            where = re.search(rf"^[ \t]*[\"']?{re.escape(raw_name)}[\"']?[ \t]*=", text, re.M)
            line = text.count("\n", 0, where.start()) + 1 if where else None
            declared.append(_Declared(name, line))
    return declared, bad


def _declared_in_requirements(text: str) -> tuple[list[_Declared], list[str]]:
    declared: list[_Declared] = []
    bad: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip().rstrip("\\").strip()
        if not line or line.startswith(("-", ".", "/", "http://", "https://", "git+", "file:")):
            continue  # options (-r, -e, --hash), paths and bare URLs name no package
        line = re.sub(r"\s--hash=\S+", "", line).strip()
        name = _requirement_name(line)
        if name is None:
            bad.append(f"line {number}")
        else:
            declared.append(_Declared(name, number))
    return declared, bad


def _sibling_license_files(path: str, tree: Mapping[str, File]) -> list[str]:
    folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
    return sorted(
        p
        for p in tree
        if p != path and p.startswith(folder) and "/" not in p[len(folder) :] and is_license_file(p)
    )


def _lesser_alongside(
    found: Sequence[Identified], path: str, tree: Mapping[str, File]
) -> Identified | None:
    """The LGPL-3.0 text next to a GPL-3.0 text at ``path``, if there is one."""
    if not any(ident.family == "GPL-3.0" and ident.how == "phrases" for ident in found):
        return None
    for sibling in _sibling_license_files(path, tree):
        data = tree[sibling].data
        if is_binary(data):
            continue
        for ident in identify_license_text(data.decode("utf-8", errors="replace")):
            if ident.family == "LGPL-3.0":
                return ident
    return None


def _role(path: str) -> str:
    """How the checker reads ``path`` beyond its header."""
    if is_license_file(path):
        return "license"
    if path.rsplit("/", 1)[-1] == "pyproject.toml":
        return "pyproject"
    return "requirements" if _is_requirements_file(path) else "other"


class _Unreadable(Exception):
    """A declaration or metadata file that cannot be read; becomes an info finding."""


@dataclass(frozen=True)
class _Recorded:
    value: str  # what the metadata says, verbatim (an SPDX expression or a name)
    source: str  # the tree path it came from


def _recorded_licenses(tree: Mapping[str, File], paths: Sequence[str]) -> dict[str, _Recorded]:
    """Package name -> recorded license, from the mapping files first, then dist-info METADATA."""
    recorded: dict[str, _Recorded] = {}
    for path in paths:
        file = tree.get(path)
        if file is None or path.endswith("/METADATA"):
            continue
        for name, value in _read_mapping(path, file.data).items():
            recorded.setdefault(canonicalize_name(name), _Recorded(value, path))
    for path in paths:
        if path.endswith("/METADATA") and path in tree:
            item = _read_metadata(tree[path].data)
            if item is not None:
                recorded.setdefault(canonicalize_name(item[0]), _Recorded(item[1], path))
    return recorded


def _read_mapping(path: str, data: bytes) -> dict[str, str]:
    try:
        text = data.decode("utf-8")
        raw = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise CheckError(f"{path}: cannot read the recorded dependency licenses: {exc}") from None
    out: dict[str, str] = {}
    if raw is None:  # an empty file records nothing
        return out
    if isinstance(raw, list):  # pip-licenses --format=json
        for item in raw:
            if isinstance(item, dict) and isinstance(item.get("Name"), str):
                value = item.get("License-Expression") or item.get("License")
                if isinstance(value, str):
                    out[item["Name"]] = value
        return out
    if isinstance(raw, dict):
        packages = raw.get("packages", raw) if isinstance(raw.get("packages"), dict) else raw
        for name, value in packages.items():
            if isinstance(value, dict):
                value = value.get("license")
            if isinstance(name, str) and isinstance(value, str):
                out[name] = value
        return out
    raise CheckError(
        f"{path}: recorded dependency licenses must be a mapping of package to SPDX expression "
        "or pip-licenses JSON output"
    )


def _read_metadata(data: bytes) -> tuple[str, str] | None:
    headers = HeaderParser().parsestr(data.decode("utf-8", errors="replace"))
    name = headers.get("Name")
    if not name:
        return None
    expression = headers.get("License-Expression")
    if expression:
        return name, expression.strip()
    license_field = (headers.get("License") or "").strip()
    usable = "\n" not in license_field and len(license_field) <= 80
    if license_field and usable and license_field.upper() != "UNKNOWN":
        return name, license_field
    classifiers = [
        c.split("::")[-1].strip()
        for c in headers.get_all("Classifier") or []
        if c.startswith("License ::") and c.count("::") >= 2
    ]
    return name, "; ".join(classifiers)


# --------------------------------------------------------------------------------------------
# Checker


@dataclass(frozen=True)
class _Judgement:
    status: Status
    normalized: str
    deciding: list[str]


class LicenseOptions(CheckerOptions):
    """The licenses checker's options.

    ``allow``, ``deny`` and ``review`` (SPDX ids or globs) replace the bundled defaults; the
    ``*_extra`` lists add to them. ``license_files`` are the tree paths of recorded dependency
    licenses; ``header_bytes`` is how much of each file is searched for an SPDX header.
    """

    allow: tuple[str, ...] | None = None
    deny: tuple[str, ...] | None = None
    review: tuple[str, ...] | None = None
    allow_extra: tuple[str, ...] = ()
    deny_extra: tuple[str, ...] = ()
    review_extra: tuple[str, ...] = ()
    license_files: tuple[str, ...] = DEFAULT_LICENSE_FILES
    header_bytes: PositiveInt = HEADER_BYTES


class LicenseChecker(Checker):
    """Reports licenses that the policy denies or flags, and licenses it cannot establish.

    Its options are :class:`LicenseOptions`.
    """

    name: ClassVar[str] = "licenses"
    version: ClassVar[str] = _version()
    options_model: ClassVar[type[CheckerOptions]] = LicenseOptions

    def _license_files(self, ctx: CheckContext) -> list[str]:
        return list(ctx.options_as(LicenseOptions).license_files)

    def _sources(self, ctx: CheckContext) -> list[str]:
        files = [p for p in self._license_files(ctx) if p in ctx.tree]
        metadata = sorted(p for p in ctx.tree if re.search(r"\.dist-info/METADATA$", p))
        return files + metadata

    def dependencies(self, path: str, ctx: CheckContext) -> Sequence[str]:
        role = _role(path)
        if role in ("pyproject", "requirements"):
            return self._sources(ctx)
        if role == "license":
            return _sibling_license_files(path, ctx.tree)
        return ()

    def dependency_fingerprint(self, path: str, ctx: CheckContext) -> str:
        # Narrower than the default (which includes the path): what the path decides is how
        # the file is read (a LICENSE text, a pyproject.toml, a requirements file, or only its
        # header), plus the recorded-license files a dependency list is judged against.
        h = hashlib.sha256(_role(path).encode())
        for dep in sorted(set(self.dependencies(path, ctx))):
            f = ctx.tree.get(dep)
            h.update(f"\n{dep}\0{f.sha256 if f is not None else '-'}".encode())
        return h.hexdigest()

    def check_file(self, path: str, file: File, ctx: CheckContext) -> list[Finding]:
        if is_binary(file.data):
            return []
        options = ctx.options_as(LicenseOptions)
        policy = LicensePolicy.from_options(options)
        limit = options.header_bytes
        findings: list[Finding] = []
        raw_head = file.data[:limit]
        head = raw_head.decode("utf-8", errors="replace") if b"SPDX-License" in raw_head else ""
        headers = 0
        for match in _SPDX_HEADER.finditer(head):
            expr = _TRAILERS.sub("", match.group("expr")).strip()
            if "{{" in expr or "{%" in expr:
                continue  # a template's header, filled in when it is rendered
            line = head.count("\n", 0, match.start("expr")) + 1
            findings.extend(self._judge(policy, expr, path, line, "SPDX header"))
            headers += 1
        role = _role(path)
        if role == "other":
            return findings
        text = file.data.decode("utf-8", errors="replace")
        if role == "license":
            text_findings = self._license_text(policy, text, path, ctx)
            if headers:  # the file says what it is; an unrecognised text adds nothing
                text_findings = [f for f in text_findings if f.rule != "license-text-unknown"]
            findings.extend(text_findings)
        elif role == "pyproject":
            findings.extend(self._project_license(policy, text, path))
            findings.extend(self._dependencies(policy, text, path, ctx, pyproject=True))
        else:
            findings.extend(self._dependencies(policy, text, path, ctx, pyproject=False))
        return findings

    def _finding(
        self, rule: str, severity: Severity, path: str, line: int | None, message: str
    ) -> Finding:
        return Finding(
            checker=self.name, rule=rule, severity=severity, path=path, line=line, message=message
        )

    def _judge(
        self, policy: LicensePolicy, expr: str, path: str, line: int | None, what: str
    ) -> list[Finding]:
        parsed = parse_spdx(expr)
        if isinstance(parsed, str):
            return [self._finding("spdx-invalid", Severity.LOW, path, line, f"{what}: {parsed}")]
        status, deciding = policy.classify(parsed)
        if status is Status.ALLOWED:
            return []
        return [
            self._finding(
                _RULE[status],
                _SEVERITY[status],
                path,
                line,
                (
                    f"{what} says {parsed.normalized}, which {_WHY[status]}"
                    if deciding == [parsed.normalized]
                    else f"{what} says {parsed.normalized}: {', '.join(deciding)} {_WHY[status]}"
                ),
            )
        ]

    def _license_text(
        self, policy: LicensePolicy, text: str, path: str, ctx: CheckContext
    ) -> list[Finding]:
        found = identify_license_text(text)
        lesser = _lesser_alongside(found, path, ctx.tree)
        if lesser is not None:
            # The LGPL is a set of permissions on top of the GPL, so LGPL projects ship the GPL
            # text next to it (COPYING + COPYING.LESSER): judge the pair as the LGPL.
            found = [
                Identified(lesser.family, lesser.candidates, ident.how)
                if ident.family == "GPL-3.0"
                else ident
                for ident in found
            ]
        if not found:
            return [
                self._finding(
                    "license-text-unknown",
                    Severity.INFO,
                    path,
                    None,
                    "license text not recognised; its license is unknown (not guessed) — add an "
                    "SPDX-License-Identifier line or use a standard text",
                )
            ]
        findings = []
        if all(ident.how == "contained" for ident in found):
            names = " and ".join(ident.family for ident in found)
            findings.append(
                self._finding(
                    "license-text-unknown",
                    Severity.INFO,
                    path,
                    None,
                    f"contains the text of {names} next to other text that was not recognised; "
                    "the license of the whole is unknown (not guessed)",
                )
            )
        for ident in found:
            status = policy.classify_candidates(ident.candidates)
            what = (
                ident.candidates[0]
                if len(ident.candidates) == 1
                else f"{ident.family} ({' or '.join(ident.candidates)}: the text does not say)"
            )
            if status is None:
                findings.append(
                    self._finding(
                        "license-unknown",
                        Severity.INFO,
                        path,
                        None,
                        f"license text of {what}; the policy treats the variants differently, "
                        "so its standing is unknown — add an SPDX-License-Identifier",
                    )
                )
            elif status is not Status.ALLOWED:
                findings.append(
                    self._finding(
                        _RULE[status],
                        _SEVERITY[status],
                        path,
                        None,
                        f"license text of {what} {_WHY[status]}",
                    )
                )
        return findings

    def _project_license(self, policy: LicensePolicy, text: str, path: str) -> list[Finding]:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return []  # reported once, by the dependency scan below
        value = (data.get("project") or {}).get("license")
        where = re.search(r"^[ \t]*license[ \t]*=", text, re.M)
        line = text.count("\n", 0, where.start()) + 1 if where else None
        what = "project license (pyproject.toml)"
        if isinstance(value, str):  # PEP 639: an SPDX expression
            return self._judge(policy, value, path, line, what)
        if isinstance(value, dict) and isinstance(value.get("text"), str):
            # The older table form holds free text: judged like recorded dependency metadata.
            judgement = self._judge_recorded(policy, value["text"])
            if judgement.status is Status.ALLOWED:
                return []
            if judgement.status is Status.UNKNOWN and not judgement.deciding:
                message = (
                    f"{what} is {value['text'][:80]!r}, not an SPDX expression; its license is "
                    'unknown — write `license = "<SPDX expression>"`'
                )
            else:
                message = (
                    f"{what} is {judgement.normalized}: {', '.join(judgement.deciding)} "
                    f"{_WHY[judgement.status]}"
                )
            return [
                self._finding(
                    _RULE[judgement.status], _SEVERITY[judgement.status], path, line, message
                )
            ]
        return []

    def _dependencies(
        self, policy: LicensePolicy, text: str, path: str, ctx: CheckContext, *, pyproject: bool
    ) -> list[Finding]:
        try:
            declared, bad = (
                _declared_in_pyproject(text, path) if pyproject else _declared_in_requirements(text)
            )
        except _Unreadable as exc:
            return [self._finding("dependencies-unreadable", Severity.INFO, path, None, str(exc))]
        findings = [
            self._finding(
                "dependencies-unreadable",
                Severity.INFO,
                path,
                None,
                f"cannot read requirement {item}; its license was not checked",
            )
            for item in bad
        ]
        if not declared:
            return findings
        sources = self._sources(ctx)
        if not sources:
            return [
                *findings,
                self._finding(
                    "dependency-license-unknown",
                    Severity.INFO,
                    path,
                    None,
                    f"licenses unknown for the {len(declared)} dependencies declared here: the "
                    "tree records none (add .evobot/licenses.yml, pip-licenses JSON output as "
                    "licenses.json, or *.dist-info/METADATA)",
                ),
            ]
        recorded = _recorded_licenses(ctx.tree, sources)
        for dep in declared:
            rec = recorded.get(dep.name)
            if rec is None or not rec.value.strip():
                findings.append(
                    self._finding(
                        "dependency-license-unknown",
                        Severity.INFO,
                        path,
                        dep.line,
                        f"license unknown for dependency {dep.name}: none recorded in "
                        f"{', '.join(sources)}",
                    )
                )
                continue
            judgement = self._judge_recorded(policy, rec.value)
            if judgement.status is Status.ALLOWED:
                continue
            if judgement.status is Status.UNKNOWN and not judgement.deciding:
                message = (
                    f"license unknown for dependency {dep.name}: {rec.source} records "
                    f"{rec.value!r}, which is not an SPDX expression and does not settle the "
                    "policy; record an SPDX expression in .evobot/licenses.yml"
                )
            else:
                message = (
                    f"dependency {dep.name} is licensed {judgement.normalized} "
                    f"(recorded in {rec.source}): {', '.join(judgement.deciding)} "
                    f"{_WHY[judgement.status]}"
                )
            findings.append(
                self._finding(
                    "dependency-" + _RULE[judgement.status],
                    _SEVERITY[judgement.status],
                    path,
                    dep.line,
                    message,
                )
            )
        return findings

    def _judge_recorded(self, policy: LicensePolicy, value: str) -> _Judgement:
        parsed = parse_spdx(value)
        if not isinstance(parsed, str):
            status, deciding = policy.classify(parsed)
            return _Judgement(status, parsed.normalized, deciding)
        # Not SPDX: a trove classifier or a common name, possibly several joined by "; ".
        aliases: Mapping[str, list[str]] = _data()["aliases"]
        candidates: list[str] = []
        for part in (p.strip() for p in value.split(";")):
            if not part:
                continue
            spdx = parse_spdx(part)
            if not isinstance(spdx, str):
                candidates.extend(i for i in _ids(spdx))
                continue
            options = aliases.get(part.lower().strip(" .").replace("licence", "license"))
            if not options:
                return _Judgement(Status.UNKNOWN, value, [])
            candidates.extend(options)
        shared = policy.classify_candidates(candidates)
        if shared is None:
            return _Judgement(Status.UNKNOWN, value, [])
        return _Judgement(shared, f"{value!r} (read as {' / '.join(candidates)})", candidates)


def _ids(parsed: ParsedExpression) -> list[str]:
    return [str(k) for k in _licensing().license_keys(parsed.tree)]
