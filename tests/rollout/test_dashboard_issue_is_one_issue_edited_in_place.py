"""The per-repository dashboard issue, on the fake forge: a consumer that opts in
(`.evobot.yml` ``dashboard_issue: true``) gets one issue, "evobot: template evolutions", listing
its pending, blocked, skipped and reverted evolutions; each change edits that issue (found by
its hidden marker), an unchanged body sends nothing, and a consumer that did not opt in gets
no issue at all. The body itself is a pure function of the stored rollouts."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import yaml
from rollout_pipeline_support import make_fleet

from bot.consumer import CONFIG_NAME
from bot.pipeline.dashboard_issue import refresh_dashboard_issue
from bot.pipeline.rollout import advance, begin_rollout
from bot.rollout import Member, RolloutPolicy, new_rollout, plan_rollout
from bot.rollout.dashboard_issue import (
    DASHBOARD_MARKER,
    DASHBOARD_TITLE,
    dashboard_body,
    dashboard_entries,
    dashboards_changed,
)
from bot.rollout.events import Skip
from bot.tree import File

REPOS = ["acme/a", "acme/b", "acme/canary"]


def _opt_in(forge: object, repo: str) -> None:
    files = forge.files(repo, "main")  # type: ignore[attr-defined]
    config = yaml.safe_load(files[CONFIG_NAME].data)
    config["dashboard_issue"] = True
    files[CONFIG_NAME] = File(yaml.safe_dump(config).encode())
    forge.push(repo, "main", files)  # type: ignore[attr-defined]


def test_one_issue_lists_pending_then_skipped_and_is_edited_in_place(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, REPOS, canaries=["acme/canary"])
    _opt_in(fleet.forge, "acme/b")

    begin_rollout(fleet.ctx, fleet.plan(), cause="t")

    (issue,) = fleet.forge.repos["acme/b"].issues.values()
    assert issue.title == DASHBOARD_TITLE and DASHBOARD_MARKER in issue.body
    assert re.search(r"## Pending\n\n- `svc` v2: waits for the wave \d\n", issue.body)
    assert "## Skipped\n\nNone." in issue.body
    # Not opted in: no issue, and nothing asked of the issues API.
    assert fleet.forge.repos["acme/a"].issues == {}
    assert not [c for c in fleet.forge.calls if c.repo == "acme/a" and "issue" in c.method]

    advance(fleet.ctx, "svc@v2", Skip(repo="acme/b", at=fleet.clock.now()), cause="t")

    (edited,) = fleet.forge.repos["acme/b"].issues.values()
    assert edited.number == issue.number
    assert "## Pending\n\nNone." in edited.body
    assert "## Skipped\n\n- `svc` v2: skipped\n" in edited.body

    calls = len(fleet.forge.calls)
    outcome = refresh_dashboard_issue(fleet.forge, fleet.store, "acme/b")
    assert (outcome.action, outcome.number) == ("unchanged", issue.number)
    methods = [c.method for c in fleet.forge.calls[calls:]]
    assert "update_issue" not in methods and "create_issue" not in methods


def test_the_body_lists_each_kind_in_a_stable_order() -> None:
    plan = plan_rollout(
        "svc", "v3", [Member("acme/x", "canary"), Member("acme/y", None)], RolloutPolicy()
    )
    state = new_rollout(plan, bake_seconds=0, status="wave-open")
    state = state.with_consumer("acme/x", status="reverted", number=4, revert_number=9)
    blocked = new_rollout(
        plan_rollout("svc", "v2", [Member("acme/x", "canary")], RolloutPolicy()),
        bake_seconds=0,
        status="halted",
    ).with_consumer("acme/x", status="blocked", reason="the template\nfailed to render")
    finished_pending = new_rollout(
        plan_rollout("svc", "v1", [Member("acme/x", "canary")], RolloutPolicy()),
        bake_seconds=0,
        status="superseded",
    )
    entries = dashboard_entries("acme/x", [state, blocked, finished_pending])
    body = dashboard_body("acme/x", entries)
    assert body == dashboard_body("acme/x", list(reversed(entries)))
    assert "## Blocked\n\n- `svc` v2: the template failed to render\n" in body
    assert "## Reverted\n\n- `svc` v3: #4 reverted by #9\n" in body
    assert "## Pending\n\nNone." in body  # v1's rollout is over: it will never open
    assert body.endswith(DASHBOARD_MARKER + "\n")


def test_only_steps_that_change_a_listed_evolution_touch_that_dashboard() -> None:
    plan = plan_rollout(
        "svc", "v2", [Member("acme/x", "canary"), Member("acme/y", None)], RolloutPolicy()
    )
    opened = new_rollout(plan, bake_seconds=0, status="wave-open").with_consumer(
        "acme/x", status="open", number=3
    )
    merged = opened.with_consumer("acme/x", status="merged", merge_commit="m" * 40)
    assert dashboards_changed(opened, merged) == []  # a merge lists nothing new
    baking = replace(merged, status="wave-baking")
    assert dashboards_changed(merged, baking) == []  # nor does a wave baking
    assert dashboards_changed(baking, baking.with_consumer("acme/y", status="skipped")) == [
        "acme/y"
    ]
    assert dashboards_changed(baking, replace(baking, status="superseded")) == ["acme/y"]
    assert dashboards_changed(None, opened) == ["acme/x", "acme/y"]
