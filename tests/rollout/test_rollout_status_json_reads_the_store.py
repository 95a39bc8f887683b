"""`evobot rollout status --json` reads the rollouts from the store: status, waves, consumer
counts and the outcome metrics per template version."""

from __future__ import annotations

import json
from pathlib import Path

from evobot_cli_support import invoke_evobot
from rollout_pipeline_support import make_fleet

from bot.pipeline.rollout import advance, begin_rollout
from bot.rollout.events import PostMergeChecks, PrMerged


def test_status_json_shows_waves_and_metrics(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, ["acme/a", "acme/canary"], canaries=["acme/canary"])
    begin_rollout(fleet.ctx, fleet.plan(), cause="t")
    (pull,) = fleet.forge.repos["acme/canary"].pulls.values()
    fleet.clock.advance(600)
    sha = fleet.forge.merge("acme/canary", pull.number)
    advance(
        fleet.ctx,
        "svc@v2",
        PrMerged(repo="acme/canary", number=pull.number, merge_commit=sha, at=fleet.clock.now()),
        cause="d",
    )
    advance(
        fleet.ctx, "svc@v2", PostMergeChecks(repo="acme/canary", sha=sha, passed=False), cause="d"
    )
    url = f"sqlite:///{tmp_path / 'evobot.db'}"

    shown = invoke_evobot("rollout", "status", "--json", "--database-url", url)
    assert shown.exit_code == 0, shown.output
    (rollout,) = json.loads(shown.stdout)["rollouts"]
    assert rollout["rollout"] == "svc@v2" and rollout["status"] == "halted"
    assert [w["status"] for w in rollout["waves"]] == ["failed", "pending"]
    assert rollout["consumers"] == {"pending": 1, "reverted": 1}
    assert rollout["metrics"]["opened"] == 1 and rollout["metrics"]["reverted"] == 1
    assert rollout["metrics"]["median_seconds_to_merge"] == 600.0
    assert rollout["metrics"]["pass_rate_after_merge"] == 0.0

    text = invoke_evobot("rollout", "status", "--database-url", url)
    assert "svc@v2: halted (acme/canary: checks failed on the default branch" in text.stdout
