"""The body of an evolution PR, rendered from a Jinja2 Markdown template under GitHub's size limit.

Every user-controlled string (paths, finding messages, versions) passes through one escaping
step, so a file named ``<img src=x onerror=...>`` shows as text. When the body would exceed
GitHub's 65,536-character limit it is rendered again with less detail — the churn table cut to
the largest files, then to totals; fewer findings; a shorter conflict list — and a note says
what was left out. Whole tables and ``<details>`` blocks are dropped, never cut in half.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from bot.checks.base import Finding, Severity
from bot.report.churn import ChurnReport, FileChurn
from bot.report.provenance import PROVENANCE_PATH, public_source

__all__ = [
    "COMMANDS",
    "GITHUB_BODY_LIMIT",
    "MARKER_PREFIX",
    "CheckRunLike",
    "EvolutionLike",
    "md_escape",
    "parse_marker",
    "render_pr_body",
]

GITHUB_BODY_LIMIT = 65_536
MARKER_PREFIX = "<!-- evobot:evolution "
_MARKER_RE = re.compile(r"<!-- evobot:evolution template=(\S+) version=(\S+) -->")

COMMANDS: tuple[tuple[str, str], ...] = (
    ("rebase", "re-apply this evolution on top of the current default branch"),
    ("recreate", "throw away changes made to this PR's branch and evolve again from scratch"),
    ("retry", "run the evolution and its checks again after a failure"),
    ("skip", "skip this template version for this repository and close the PR"),
    ("pause", "stop evobot from updating this repository until `/evobot resume`"),
    ("resume", "let evobot update this repository again"),
    ("promote", "promote the rollout to the next wave (`--full`: to every consumer)"),
    ("rollback", "halt the rollout of this version and revert it where it was merged"),
    ("status", "show where this repository and the rollout stand"),
    ("help", "list these commands"),
)

# Longest user string shown in one place; longer ones are shortened with an ellipsis.
_MAX_TEXT = 300
_COLLAPSE_ROWS = 20


# What the PR body reads from bot.evolution and bot.checks.runner, as structural types, so
# this module keeps working while those modules change their internals.
class _VersionLike(Protocol):
    @property
    def ref(self) -> str | None: ...
    @property
    def commit(self) -> str: ...


class _ManifestLike(Protocol):
    @property
    def name(self) -> str: ...


class _TemplateLike(Protocol):
    @property
    def source(self) -> str: ...
    @property
    def manifest(self) -> _ManifestLike: ...


class EvolutionLike(Protocol):
    @property
    def from_version(self) -> _VersionLike: ...
    @property
    def to_version(self) -> _VersionLike: ...
    @property
    def template(self) -> _TemplateLike: ...
    @property
    def conflicts(self) -> Sequence[str]: ...


class _VerdictLike(Protocol):
    @property
    def passed(self) -> bool: ...
    @property
    def reasons(self) -> Sequence[str]: ...


class CheckRunLike(Protocol):
    @property
    def findings(self) -> Sequence[Finding]: ...
    @property
    def verdict(self) -> _VerdictLike: ...
    @property
    def per_checker(self) -> Mapping[str, Any]: ...


if TYPE_CHECKING:
    from bot.checks.runner import CheckRun
    from bot.evolution import Evolution

    def _conforms(evolution: Evolution, checks: CheckRun) -> tuple[EvolutionLike, CheckRunLike]:
        """Checked by mypy only: the real types satisfy the structural ones above."""
        return evolution, checks


def md_escape(value: object, limit: int = _MAX_TEXT) -> Markup:
    """``value`` as inert Markdown text: HTML special characters become entities, Markdown
    punctuation is backslash-escaped, line breaks become spaces (tables stay intact) and
    ``@mentions`` are defused."""
    if isinstance(value, Markup):
        return value
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"([\\`*_\[\]|~#!])", r"\\\1", text)
    # A zero-width space after `@` keeps `@team` in a path or message from notifying anyone.
    text = text.replace("@", "@&#8203;")
    return Markup(text)  # noqa: S704 - escaped above for Markdown, which is what we emit


def _marker_value(value: object) -> Markup:
    """A token safe inside an HTML comment: no spaces, no ``--``, nothing outside a small set."""
    text = re.sub(r"[^A-Za-z0-9._/:@+=-]", "_", str(value))
    text = re.sub(r"-{2,}", "-", text)
    return Markup(text[:100] or "_")  # noqa: S704 - only safe characters remain


def parse_marker(body: str) -> tuple[str, str] | None:
    """``(template, version)`` from the hidden marker of an evobot PR body, if it has one."""
    match = _MARKER_RE.search(body)
    return (match.group(1), match.group(2)) if match else None


def _finalize(value: object) -> object:
    # Markdown has no autoescape mode: every expression is escaped unless marked safe.
    if value is None or isinstance(value, Markup | int | float):
        return value
    return md_escape(value)


def markdown_environment() -> Environment:
    """The Jinja2 environment of evobot's Markdown: every expression escaped unless Markup."""
    env = Environment(
        loader=PackageLoader("bot.report", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
        autoescape=False,  # noqa: S701 - Markdown, not HTML: _finalize escapes every expression
    )
    env.filters["md"] = md_escape
    env.filters["marker"] = _marker_value
    env.filters["num"] = lambda n: f"{n:,}"
    env.filters["short"] = lambda sha: Markup(re.sub(r"[^0-9a-fA-F]", "", str(sha))[:12])  # noqa: S704
    return env


_ENV = markdown_environment()


@dataclass(frozen=True)
class _Level:
    """How much detail one rendering attempt keeps (None = everything)."""

    churn_rows: int | None
    findings: int
    conflicts: int | None
    reasons: int
    minimal: bool = False


def _levels() -> list[_Level]:
    """Less and less detail, one cut at a time: the churn table goes first (the report has it),
    then findings beyond the worst, then the conflict checklist, which people act on."""
    full = _Level(churn_rows=None, findings=10, conflicts=None, reasons=10)
    steps: list[dict[str, Any]] = [
        {"churn_rows": 200},
        {"churn_rows": 50},
        {"churn_rows": 20},
        {"churn_rows": 0},
        {"findings": 5, "reasons": 5},
        {"conflicts": 1000},
        {"conflicts": 500},
        {"conflicts": 200},
        {"findings": 3, "reasons": 3, "conflicts": 100},
        {"findings": 0, "reasons": 1, "conflicts": 20},
        {"reasons": 0, "conflicts": 0},
        {"minimal": True},
    ]
    levels = [full]
    for step in steps:
        levels.append(dataclasses.replace(levels[-1], **step))
    return levels


_LEVELS = tuple(_levels())


@dataclass(frozen=True)
class _Links:
    base: str | None

    # `base` comes from _GITHUB_RE (letters, digits, `._-` only) and the rest is quoted, so
    # the URLs are safe to emit unescaped.
    def tree(self, commit: str) -> Markup | None:
        if not self.base:
            return None
        return Markup(f"{self.base}/tree/{quote(commit, safe='')}")  # noqa: S704

    def compare(self, old: str, new: str) -> Markup | None:
        if not self.base:
            return None
        return Markup(f"{self.base}/compare/{quote(old, safe='')}...{quote(new, safe='')}")  # noqa: S704


_GITHUB_RE = re.compile(
    r"^(?:https://|http://|ssh://git@|git@)github\.com[/:]"
    r"(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/(?P<repo>[A-Za-z0-9._-]+?)(?:\.git)?/?$"
)


def _github_base(url: str | None) -> str | None:
    if not url:
        return None
    match = _GITHUB_RE.match(url.strip())
    if not match:
        return None
    return f"https://github.com/{match['owner']}/{match['repo']}"


@dataclass
class _CheckerRow:
    name: str
    status: str
    counts: dict[str, int] = field(default_factory=dict)


def _status_text(value: Any) -> str:
    for key in ("status", "verdict", "state"):
        got = value.get(key) if isinstance(value, Mapping) else getattr(value, key, None)
        if isinstance(got, str):
            return got
    return ""


def _checker_rows(checks: CheckRunLike) -> list[_CheckerRow]:
    counts: dict[str, Counter[str]] = {}
    for finding in checks.findings:
        counts.setdefault(finding.checker, Counter())[str(finding.severity)] += 1
    names = sorted(set(checks.per_checker) | set(counts))
    rows = []
    for name in names:
        status = _status_text(checks.per_checker.get(name))
        if not status:
            status = "findings" if counts.get(name) else "passed"
        rows.append(_CheckerRow(name=name, status=status, counts=dict(counts.get(name, {}))))
    return rows


def _top_findings(findings: Sequence[Finding], n: int) -> list[Finding]:
    ranked = sorted(
        findings, key=lambda f: (-f.severity.rank, f.checker, f.path, f.line or 0, f.rule)
    )
    return ranked[:n]


def _churn_rows(churn: ChurnReport, limit: int | None) -> list[FileChurn]:
    if limit is None:
        return list(churn.files)
    return sorted(churn.largest(limit), key=lambda f: f.path)


def _notes(
    level: _Level, churn: ChurnReport, checks: CheckRunLike | None, conflicts: Sequence[str]
) -> list[str]:
    notes = []
    total_files = len(churn.files)
    if level.churn_rows == 0 and total_files:
        notes.append(f"the churn table ({total_files:,} files) was replaced by its totals")
    elif level.churn_rows is not None and total_files > level.churn_rows:
        notes.append(
            f"the churn table lists the {level.churn_rows:,} files with the most changed lines "
            f"out of {total_files:,}"
        )
    if checks is not None:
        total_findings = len(checks.findings)
        if total_findings > level.findings:
            notes.append(f"{level.findings:,} of {total_findings:,} findings are shown")
        if len(checks.verdict.reasons) > level.reasons:
            notes.append(
                f"{level.reasons:,} of {len(checks.verdict.reasons):,} check reasons are shown"
            )
    if level.conflicts is not None and len(conflicts) > level.conflicts:
        notes.append(f"{level.conflicts:,} of {len(conflicts):,} conflicted files are listed")
    if level.minimal:
        notes = ["only the summary fits; checks, conflicts, churn and commands were left out"]
    return notes


def _render(
    level: _Level,
    *,
    evolution: EvolutionLike,
    checks: CheckRunLike | None,
    churn: ChurnReport,
    provenance_digest: str,
    repo: str | None,
    links: _Links,
    limit: int,
    not_run: Sequence[str] = (),
) -> str:
    conflicts = sorted(evolution.conflicts)
    old, new = evolution.from_version, evolution.to_version
    return _ENV.get_template("pr_body.md.jinja").render(
        name=evolution.template.manifest.name,
        source=public_source(evolution.template.source),
        old=old,
        new=new,
        old_label=old.ref or old.commit[:12],
        new_label=new.ref or new.commit[:12],
        old_link=links.tree(old.commit),
        new_link=links.tree(new.commit),
        compare_link=links.compare(old.commit, new.commit),
        checks=checks,
        checker_rows=_checker_rows(checks) if checks is not None else [],
        findings=_top_findings(checks.findings, level.findings) if checks is not None else [],
        reasons=list(checks.verdict.reasons)[: level.reasons] if checks is not None else [],
        churn=churn,
        churn_rows=_churn_rows(churn, level.churn_rows),
        collapse=len(churn.files) > _COLLAPSE_ROWS,
        conflicts=conflicts if level.conflicts is None else conflicts[: level.conflicts],
        conflict_count=len(conflicts),
        provenance_digest=provenance_digest,
        provenance_path=PROVENANCE_PATH,
        repo=repo,
        commands=COMMANDS,
        notes=_notes(level, churn, checks, conflicts),
        limit=limit,
        minimal=level.minimal,
        severities=list(reversed(Severity)),
        not_run=list(not_run),
    )


def _size(body: str) -> int:
    # UTF-8 bytes are never fewer than characters or UTF-16 units, so the body fits however
    # GitHub counts its limit.
    return len(body.encode("utf-8"))


def render_pr_body(
    evolution: EvolutionLike,
    *,
    checks: CheckRunLike | None,
    churn: ChurnReport,
    provenance_digest: str,
    repo: str | None = None,
    template_url: str | None = None,
    not_run: Sequence[str] = (),
    limit: int = GITHUB_BODY_LIMIT,
) -> str:
    """The Markdown body of the evolution PR, always shorter than ``limit`` (UTF-8 bytes).

    ``not_run`` lists what the template asks to run (copier tasks and migrations, cookiecutter
    hooks), which evobot never runs: the body says so, so a person can run what they trust.

    ``template_url`` (the template's GitHub repository, if it is one) turns versions into links
    and adds a compare link. ``provenance_digest`` is the sha256 of `.evobot/provenance.json`.
    """
    links = _Links(_github_base(public_source(template_url or evolution.template.source)))
    body = ""
    for level in _LEVELS:
        body = _render(
            level,
            evolution=evolution,
            checks=checks,
            churn=churn,
            provenance_digest=provenance_digest,
            repo=repo,
            links=links,
            limit=limit,
            not_run=not_run,
        )
        if _size(body) < limit:
            return body
    # Only reachable with a tiny `limit`: keep the marker, which makes the PR findable.
    marker = body.split("\n", 1)[0]
    return marker[: max(limit - 1, 0)]
