"""Verify a consumer against its provenance: re-render from the recorded inputs and compare.

Three sources are compared for every path: what the template produces now from the inputs in
`.evobot.yml` (the render), what `.evobot/provenance.json` says it produced (the subjects), and
what is in the consumer (the work tree). A recorded digest the template does not reproduce, or
inputs that disagree with `.evobot.yml`, mean the provenance file was tampered with. A work-tree
file that differs from a render the provenance vouches for is an ordinary consumer edit.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.consumer import CONFIG_NAME, ConsumerConfig, load_consumer_config
from bot.globs import matches_any
from bot.redact import redact_url
from bot.report.gitio import work_tree
from bot.report.provenance import (
    PROVENANCE_PATH,
    ProvenanceError,
    Statement,
    answers_digest,
    parse_statement,
    public_source,
)
from bot.tree import File

__all__ = [
    "IssueKind",
    "VerifyIssue",
    "VerifyReport",
    "compare_with_render",
    "verify_checkout",
]

# Files evobot itself writes into a consumer; never "added by the consumer".
_BOT_FILES = frozenset({CONFIG_NAME, PROVENANCE_PATH})


class IssueKind(enum.StrEnum):
    # tampering: the provenance file does not describe what the template produced
    PROVENANCE_INVALID = "provenance-invalid"
    PARAMETER_MISMATCH = "parameter-mismatch"
    SUBJECT_MISMATCH = "subject-mismatch"
    SUBJECT_MISSING = "subject-missing"
    SUBJECT_EXTRA = "subject-extra"
    # ordinary life of a consumer
    CONSUMER_EDIT = "consumer-edit"
    CONSUMER_ADDED = "consumer-added"
    CONSUMER_REMOVED = "consumer-removed"
    # differences the bot was told to leave alone
    SKIP_IF_EXISTS = "skip-if-exists"
    PROTECTED = "protected"

    @property
    def tampering(self) -> bool:
        return self in _TAMPERING


_TAMPERING = frozenset(
    {
        IssueKind.PROVENANCE_INVALID,
        IssueKind.PARAMETER_MISMATCH,
        IssueKind.SUBJECT_MISMATCH,
        IssueKind.SUBJECT_MISSING,
        IssueKind.SUBJECT_EXTRA,
    }
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VerifyIssue(_Model):
    """One difference, with the three digests that classify it (None = absent)."""

    kind: IssueKind
    path: str | None = None
    detail: str
    rendered: str | None = Field(default=None, description="sha256 the template produces")
    recorded: str | None = Field(default=None, description="sha256 the provenance records")
    actual: str | None = Field(default=None, description="sha256 in the consumer")
    tampering: bool = False


class VerifyReport(_Model):
    template: str
    commit: str
    files_rendered: int
    issues: list[VerifyIssue]

    @property
    def tampered(self) -> bool:
        return any(i.tampering for i in self.issues)

    def of(self, kind: IssueKind) -> list[VerifyIssue]:
        return [i for i in self.issues if i.kind is kind]


def _issue(kind: IssueKind, path: str | None, detail: str, **digests: str | None) -> VerifyIssue:
    return VerifyIssue(kind=kind, path=path, detail=detail, tampering=kind.tampering, **digests)


def _parameter_issues(config: ConsumerConfig, statement: Statement) -> list[VerifyIssue]:
    ext = statement.external
    expected: dict[str, Any] = {
        "template": public_source(config.template),
        "templateSubdir": config.template_subdir,
        "commit": config.version.commit,
        "answersDigest": answers_digest(config.answers),
    }
    recorded: dict[str, Any] = {
        "template": public_source(ext.template),
        "templateSubdir": ext.template_subdir,
        "commit": ext.commit,
        "answersDigest": ext.answers_digest,
    }
    return [
        _issue(
            IssueKind.PARAMETER_MISMATCH,
            PROVENANCE_PATH,
            f"externalParameters.{key} is {recorded[key]!r} but {CONFIG_NAME} says "
            f"{expected[key]!r}",
        )
        for key in expected
        if expected[key] != recorded[key]
    ]


def compare_with_render(
    work: Mapping[str, File],
    config: ConsumerConfig,
    statement: Statement,
    rendered: Mapping[str, File],
    *,
    skip_if_exists: Sequence[str] = (),
) -> list[VerifyIssue]:
    """Classify every path where the work tree, the provenance subjects and the render disagree.

    Pure: the caller reads the files and renders the template.
    """
    issues = _parameter_issues(config, statement)
    recorded = statement.subject_digests()
    render = {p: f.sha256 for p, f in rendered.items() if p not in _BOT_FILES}
    actual = {p: f.sha256 for p, f in work.items() if p not in _BOT_FILES}

    for path in sorted(render.keys() | recorded.keys() | actual.keys()):
        r, s, a = render.get(path), recorded.get(path), actual.get(path)
        digests = {"rendered": r, "recorded": s, "actual": a}
        if r is not None and s is None:
            issues.append(
                _issue(
                    IssueKind.SUBJECT_MISSING,
                    path,
                    "the template produces this file but the provenance does not list it",
                    **digests,
                )
            )
        elif r is None and s is not None:
            issues.append(
                _issue(
                    IssueKind.SUBJECT_EXTRA,
                    path,
                    "the provenance lists this file but the template does not produce it",
                    **digests,
                )
            )
        elif r is not None and s != r:
            issues.append(
                _issue(
                    IssueKind.SUBJECT_MISMATCH,
                    path,
                    "the provenance records a digest the template does not produce"
                    + (" (it matches the file in the repository)" if s == a else ""),
                    **digests,
                )
            )
        if a == r:
            continue
        if r is None:
            issues.append(
                _issue(IssueKind.CONSUMER_ADDED, path, "added by the consumer", **digests)
            )
        elif matches_any(config.protect, path):
            issues.append(
                _issue(IssueKind.PROTECTED, path, "protected by .evobot.yml; differs", **digests)
            )
        elif matches_any(skip_if_exists, path):
            issues.append(
                _issue(
                    IssueKind.SKIP_IF_EXISTS,
                    path,
                    "skip_if_exists: owned by the consumer after the first render",
                    **digests,
                )
            )
        elif a is None:
            issues.append(
                _issue(IssueKind.CONSUMER_REMOVED, path, "removed by the consumer", **digests)
            )
        else:
            issues.append(
                _issue(IssueKind.CONSUMER_EDIT, path, "edited after it was generated", **digests)
            )
    return issues


def _local_source(source: str, root: Path) -> str:
    """A relative template path in `.evobot.yml` is relative to the consumer, not the cwd."""
    if "://" in source or ":" in source.split("/", 1)[0]:
        return source
    path = Path(source).expanduser()
    if not path.is_absolute() and (root / path).exists():
        return str((root / path).resolve())
    return source


def verify_checkout(
    root: Path,
    *,
    git_http_headers: Sequence[str] = (),
    cache_dir: Path | None = None,
    render: Callable[[ConsumerConfig, Path, bool], tuple[Mapping[str, File], Sequence[str], str]]
    | None = None,
) -> VerifyReport:
    """Verify the consumer checked out at ``root`` (its `.evobot.yml` and provenance file).

    ``render(config, root, is_git)`` returns ``(tree, skip_if_exists, commit)``; by default the
    template is opened at the recorded commit and rendered with the recorded answers.
    """
    config = load_consumer_config(root)
    prov_path = root / PROVENANCE_PATH
    if not prov_path.is_file():
        raise ProvenanceError(
            f"{prov_path}: not found; nothing to verify",
            hint="evobot writes it on every render and evolution; run `evobot update` to create it",
        )
    work = work_tree(root)
    try:
        statement = parse_statement(prov_path.read_bytes(), source=str(prov_path))
    except ProvenanceError as exc:
        return VerifyReport(
            template=redact_url(config.template),
            commit=config.version.commit,
            files_rendered=0,
            issues=[_issue(IssueKind.PROVENANCE_INVALID, PROVENANCE_PATH, exc.message)],
        )
    do_render = render or (
        lambda cfg, where, is_git: _render_recorded(
            cfg, where, is_git=is_git, git_http_headers=git_http_headers, cache_dir=cache_dir
        )
    )
    # A plain-directory template has no commit to check out; its provenance says so by
    # recording a content digest instead of a gitCommit.
    is_git = not any(
        d.name == "template" and d.digest is not None and "gitCommit" not in d.digest
        for d in statement.predicate.build_definition.resolved_dependencies
    )
    rendered, skip_if_exists, commit = do_render(config, root, is_git)
    issues = compare_with_render(
        work, config, statement, rendered, skip_if_exists=list(skip_if_exists)
    )
    if commit != config.version.commit:
        issues.insert(
            0,
            _issue(
                IssueKind.PARAMETER_MISMATCH,
                CONFIG_NAME,
                f"version.commit {config.version.commit} resolved to {commit} in the template",
            ),
        )
    return VerifyReport(
        template=redact_url(config.template),
        commit=config.version.commit,
        files_rendered=len(rendered),
        issues=issues,
    )


def _render_recorded(
    config: ConsumerConfig,
    root: Path,
    *,
    is_git: bool,
    git_http_headers: Sequence[str],
    cache_dir: Path | None,
) -> tuple[Mapping[str, File], Sequence[str], str]:
    from bot.template import open_template, render_template, resolve_answers

    with open_template(
        _local_source(config.template, root),
        subdir=config.template_subdir,
        vcs_ref=config.version.commit if is_git else None,
        git_http_headers=git_http_headers,
        cache_dir=cache_dir,
    ) as template:
        answers = resolve_answers(template.manifest, config.answers).values
        tree = render_template(template, answers)
        return tree, list(template.manifest.skip_if_exists), template.commit
