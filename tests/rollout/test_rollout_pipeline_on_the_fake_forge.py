"""The rollout use cases on the recording fake forge and a SQLite store: a release goes out
wave by wave, a failure after merge opens one revert PR, comments once and halts; commands'
events resume and roll back; the flood caps defer PRs; a failed preflight writes no PR."""

from __future__ import annotations

from pathlib import Path

from rollout_pipeline_support import make_fleet

from bot.pipeline.markers import comment_marker
from bot.pipeline.rollout import (
    PREFLIGHT_CONTEXT,
    advance,
    begin_rollout,
    carry_out,
    commit_comment_once,
)
from bot.rollout import RolloutPolicy
from bot.rollout.events import OpenPr, PostMergeChecks, PrMerged, Resume, Rollback
from bot.rollout.policy import FloodPolicy, PreflightPolicy

REPOS = ["acme/a", "acme/b", "acme/c", "acme/canary"]


def _merge(fleet, key: str, repo: str) -> str:  # type: ignore[no-untyped-def]
    (pull,) = [p for p in fleet.forge.repos[repo].pulls.values() if p.state == "open"]
    sha = fleet.forge.merge(repo, pull.number)
    advance(
        fleet.ctx,
        key,
        PrMerged(repo=repo, number=pull.number, merge_commit=sha),
        cause="delivery:m",
    )
    return sha


def test_release_goes_out_wave_by_wave(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, REPOS, canaries=["acme/canary"])
    result = begin_rollout(
        fleet.ctx, fleet.plan(), template_repo="acme/tpl", tag_sha="t" * 40, cause="delivery:tag"
    )
    key = "svc@v2"
    assert result.state is not None and result.state.status == "wave-open"
    assert fleet.forge.repos["acme/tpl"].statuses["t" * 40][PREFLIGHT_CONTEXT][0] == "success"
    opened = [r for r, repo in fleet.forge.repos.items() if repo.pulls]
    assert opened == ["acme/canary"]

    for _ in range(len(REPOS)):  # merge whatever is open, green, until every wave passed
        stored = fleet.store.rollout(key)
        assert stored is not None
        if stored.state.status == "completed":
            break
        assert stored.state.status == "wave-open"
        for c in stored.state.consumers:
            if c.status == "open":
                sha = _merge(fleet, key, c.repo)
                advance(
                    fleet.ctx, key, PostMergeChecks(repo=c.repo, sha=sha, passed=True), cause="d"
                )
    final = fleet.store.rollout(key)
    assert final is not None and final.state.status == "completed"
    assert {c.status for c in final.state.consumers} == {"green"}
    causes = {t.cause for t in fleet.store.rollout_transitions(key)}
    assert "delivery:tag" in causes and "effect:OpenPr" in causes


def test_failure_after_merge_reverts_once_comments_and_halts(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, REPOS, canaries=["acme/canary"])
    key = "svc@v2"
    begin_rollout(fleet.ctx, fleet.plan(), cause="delivery:tag")
    sha = _merge(fleet, key, "acme/canary")
    failed = PostMergeChecks(repo="acme/canary", sha=sha, passed=False, failing=("tests",))
    first = advance(fleet.ctx, key, failed, cause="delivery:c1", event_key="delivery:c1")
    again = advance(fleet.ctx, key, failed, cause="delivery:c1", event_key="delivery:c1")
    other = advance(fleet.ctx, key, failed, cause="delivery:c2", event_key="delivery:c2")
    assert first.state is not None and first.state.status == "halted"
    assert not again.changes and not other.changes  # the state machine saw it already
    repo = fleet.forge.repos["acme/canary"]
    reverts = [p for p in repo.pulls.values() if p.head_ref.startswith("evobot/revert/")]
    assert len(reverts) == 1
    (evolution,) = [p for p in repo.pulls.values() if not p.head_ref.startswith("evobot/revert/")]
    bodies = [c.body for c in repo.comments.get(evolution.number, [])]
    assert len(bodies) == 1 and "`tests`" in bodies[0] and f"#{reverts[0].number}" in bodies[0]
    assert [r.number for r in fleet.store.revert_prs(repo="acme/canary")] == [reverts[0].number]
    assert not any(fleet.forge.repos[r].pulls for r in ["acme/a", "acme/b", "acme/c"])

    resumed = advance(fleet.ctx, key, Resume(), cause="command:/evobot resume --rollout")
    assert resumed.state is not None and resumed.state.status == "wave-open"
    assert any(fleet.forge.repos[r].pulls for r in ["acme/a", "acme/b", "acme/c"])


def test_rollback_reverts_every_merged_consumer(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, REPOS, canaries=["acme/canary", "acme/a"])
    key = "svc@v2"
    begin_rollout(fleet.ctx, fleet.plan(), cause="t")
    _merge(fleet, key, "acme/canary")
    result = advance(fleet.ctx, key, Rollback(), cause="command:/evobot rollback")
    assert result.state is not None and result.state.status == "rolled-back"
    canary = fleet.forge.repos["acme/canary"].pulls.values()
    assert any(p.head_ref.startswith("evobot/revert/") for p in canary)
    (a_pull,) = fleet.forge.repos["acme/a"].pulls.values()
    assert a_pull.state == "closed"  # still open at rollback: closed, not reverted


def test_a_failed_preflight_opens_nothing_and_says_so_on_the_tag(tmp_path: Path) -> None:
    policy = RolloutPolicy(bake_seconds=0, preflight=PreflightPolicy(max_conflict_percent=0))
    fleet = make_fleet(tmp_path, REPOS, canaries=["acme/canary"], policy=policy)
    # Local edits to the line v2 changes: a conflict in every consumer.
    for repo in REPOS:
        files = fleet.forge.files(repo, "main")
        files["app.py"] = type(files["app.py"])(b"print('local')\n")
        fleet.forge.push(repo, "main", files)
    calls = len(fleet.forge.calls)
    result = begin_rollout(
        fleet.ctx,
        fleet.plan(),
        template_repo="acme/tpl",
        tag_sha="t" * 40,
        cause="t",
        release_issue=None,
    )
    assert result.state is not None and result.state.status == "preflight-failed"
    assert result.preflight is not None and result.preflight.conflicted == 4
    writes = [
        c.method for c in fleet.forge.calls[calls:] if c.method.startswith(("create", "update"))
    ]
    # No issue or PR made this release: the report is one comment on the tag's commit.
    assert writes == ["create_commit_comment"]
    state, description = fleet.forge.repos["acme/tpl"].statuses["t" * 40][PREFLIGHT_CONTEXT]
    assert state == "failure" and "conflicts in 4 of 4 consumers" in description
    (comment,) = fleet.forge.repos["acme/tpl"].commit_comments["t" * 40]
    assert "| acme/canary | 1 |" in comment.body and "tag a new release" in comment.body
    marker = comment_marker("preflight", "v2")
    assert marker in comment.body
    assert not commit_comment_once(fleet.forge, "acme/tpl", "t" * 40, marker, "again")


def test_flood_caps_defer_prs_until_their_time(tmp_path: Path) -> None:
    policy = RolloutPolicy(
        bake_seconds=0, canary_percent=100, flood=FloodPolicy(max_new_prs_per_hour=2)
    )
    fleet = make_fleet(tmp_path, REPOS, policy=policy)
    key = "svc@v2"
    result = begin_rollout(fleet.ctx, fleet.plan(), cause="t")
    assert sum(1 for r in REPOS if fleet.forge.repos[r].pulls) == 2
    assert len(result.deferred) == 2
    deferred = result.deferred[0]
    assert deferred.retry_at == fleet.clock.now() + 3600
    fleet.clock.advance(3600)
    later = carry_out(fleet.ctx, key, OpenPr(deferred.repo), cause="timer")
    assert fleet.forge.repos[deferred.repo].pulls and not later.deferred
