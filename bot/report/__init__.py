"""The report of an evolution: churn, provenance, the PR body, and verification of a consumer."""
