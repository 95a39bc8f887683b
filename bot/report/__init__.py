"""The report of an evolution: churn, provenance, the PR body, and verification of a consumer."""

from __future__ import annotations

from bot.report.churn import ChurnReport, FileChurn, NoiseKind, compute_churn
from bot.report.pr_body import GITHUB_BODY_LIMIT, parse_marker, render_pr_body
from bot.report.provenance import (
    PROVENANCE_PATH,
    ProvenanceError,
    Statement,
    build_provenance,
    dump_statement,
    parse_statement,
    provenance_file,
    provenance_for_evolution,
    statement_digest,
)
from bot.report.verify import IssueKind, VerifyReport, verify_checkout

__all__ = [
    "GITHUB_BODY_LIMIT",
    "PROVENANCE_PATH",
    "ChurnReport",
    "FileChurn",
    "IssueKind",
    "NoiseKind",
    "ProvenanceError",
    "Statement",
    "VerifyReport",
    "build_provenance",
    "compute_churn",
    "dump_statement",
    "parse_marker",
    "parse_statement",
    "provenance_file",
    "provenance_for_evolution",
    "render_pr_body",
    "statement_digest",
    "verify_checkout",
]
