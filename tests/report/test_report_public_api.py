"""`bot.report` exports exactly the names other parts are meant to use, and they import."""

from __future__ import annotations

import bot.report

EXPECTED = {
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
}


def test_public_names_are_the_intended_ones() -> None:
    assert set(bot.report.__all__) == EXPECTED
    assert len(bot.report.__all__) == len(EXPECTED)
    for name in EXPECTED:
        assert hasattr(bot.report, name), name
    assert bot.report.PROVENANCE_PATH == ".evobot/provenance.json"
    assert bot.report.GITHUB_BODY_LIMIT == 65_536
