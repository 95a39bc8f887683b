"""`evobot report`: churn of a consumer checkout since its last evolution, and its provenance.

Reads git through :mod:`bot.report.gitio`; the churn and the Markdown are the same pure pieces
the PR body uses.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from bot.redact import redact_url
from bot.report.churn import ChurnReport, compute_churn
from bot.report.gitio import (
    GitReadError,
    evolution_commits,
    is_git_checkout,
    parent_of,
    resolve,
    tree_at,
    work_tree,
)
from bot.report.pr_body import markdown_environment
from bot.report.provenance import PROVENANCE_PATH, ProvenanceError, parse_statement
from bot.tree import File

__all__ = [
    "ConsumerReport",
    "ProvenanceSummary",
    "build_consumer_report",
    "render_report_markdown",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProvenanceSummary(_Model):
    sha256: str
    template: str | None = None
    ref: str | None = None
    commit: str | None = None
    subjects: int = 0
    finished_on: str | None = None
    builder: str | None = None
    error: str | None = None


class ConsumerReport(_Model):
    root: str
    since: str | None  # the commit compared with; None is the empty tree
    since_label: str
    churn: ChurnReport
    provenance: ProvenanceSummary | None


def _without_provenance(tree: dict[str, File]) -> dict[str, File]:
    # The provenance file changes on every evolution; it is reported on its own.
    return {p: f for p, f in tree.items() if p != PROVENANCE_PATH}


def _provenance(root: Path) -> ProvenanceSummary | None:
    path = root / PROVENANCE_PATH
    if not path.is_file():
        return None
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        statement = parse_statement(data, source=str(path))
    except ProvenanceError as exc:
        return ProvenanceSummary(sha256=digest, error=exc.message)
    ext = statement.external
    run = statement.predicate.run_details
    return ProvenanceSummary(
        sha256=digest,
        template=redact_url(ext.template),
        ref=ext.ref,
        commit=ext.commit,
        subjects=len(statement.subject),
        finished_on=run.metadata.finished_on,
        builder=run.builder.id,
    )


def _evolution_churn(root: Path, commit: str) -> ChurnReport:
    """What the evolution commit ``commit`` itself changed."""
    return compute_churn(
        _without_provenance(tree_at(root, parent_of(root, commit))),
        _without_provenance(tree_at(root, commit)),
    )


def build_consumer_report(root: Path, *, since: str | None = None) -> ConsumerReport:
    """Churn from ``since`` (default: before the last evolution) to the work tree of ``root``.

    The churn is also compared with the previous evolution's own commit: by default the one
    before the last, with ``since`` the last one at or before it. So ``since`` set to the
    default's base gives the default's report.
    """
    if not is_git_checkout(root):
        raise GitReadError(
            f"{root}: not a git checkout; `evobot report` compares commits",
            hint="run it in a consumer repository, or use `evobot verify` for a plain directory",
        )
    previous: ChurnReport | None = None
    if since is not None:
        base: str | None = resolve(root, since)
        label = since
        before = evolution_commits(root, 1, until=base)
        if before:
            previous = _evolution_churn(root, before[0])
    else:
        evolutions = evolution_commits(root, 2)
        if not evolutions:
            label = "HEAD (no evolution recorded yet)"
            try:
                base = resolve(root, "HEAD")
            except GitReadError:
                base = None  # a repository without commits: everything is new
        else:
            base, label = parent_of(root, evolutions[0]), "before the last evolution"
        if len(evolutions) == 2:
            previous = _evolution_churn(root, evolutions[1])
    churn = compute_churn(
        _without_provenance(tree_at(root, base)),
        _without_provenance(work_tree(root)),
        previous=previous,
    )
    return ConsumerReport(
        root=str(root),
        since=base,
        since_label=label,
        churn=churn,
        provenance=_provenance(root),
    )


def render_report_markdown(report: ConsumerReport) -> str:
    return (
        markdown_environment()
        .get_template("report.md.jinja")
        .render(
            root=report.root,
            since=report.since,
            since_label=report.since_label,
            churn=report.churn,
            provenance=report.provenance,
            provenance_path=PROVENANCE_PATH,
        )
    )
