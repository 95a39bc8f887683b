"""The preflight's per-consumer report (churn, conflicts) is kept with the rollout, so the
dashboard's rollout page shows what each consumer's evolution changes: run for real through
`begin_rollout` on the recording fake forge."""

from __future__ import annotations

import json
from pathlib import Path

from rollout_pipeline_support import make_fleet

from bot.pipeline.rollout import begin_rollout, preflight_entity
from bot.service.dashboard.queries import rollout_page

REPOS = ["acme/a", "acme/b", "acme/canary"]


def test_the_preflight_report_is_stored_and_shown_per_consumer(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, REPOS, canaries=["acme/canary"])
    begin_rollout(fleet.ctx, fleet.plan(), cause="delivery:tag")
    key = "svc@v2"

    (entry,) = fleet.store.audit_log(entity=preflight_entity(key))
    report = json.loads(entry.change)
    assert entry.cause == "effect:RunPreflight"
    assert report["passed"] is True
    assert sorted(c["repo"] for c in report["consumers"]) == REPOS

    page = rollout_page(fleet.store, key)
    assert page is not None and page.preflight_known
    for row in page.consumers:
        churn = next(c["churn"] for c in report["consumers"] if c["repo"] == row.repo)
        assert row.files_changed == churn["files_changed"] > 0
        assert (row.lines_added, row.lines_removed) == (
            churn["lines_added"],
            churn["lines_removed"],
        )
        assert row.conflicts == ()
