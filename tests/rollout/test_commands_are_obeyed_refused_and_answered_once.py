"""`/evobot` comments end to end on the fake forge: each gets one reply, refusals say why,
rollout-wide verbs need the template repository, redeliveries and bots change nothing, and every
command is in the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from rollout_pipeline_support import Fleet, make_fleet

from bot.pipeline.commands import CommandComment, CommandResult, handle_command
from bot.pipeline.rollout import begin_rollout
from bot.rollout.commands import PermissionCache

REPOS = ["acme/a", "acme/canary"]


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    fleet = make_fleet(tmp_path, REPOS, canaries=["acme/canary"])
    begin_rollout(fleet.ctx, fleet.plan(), template_repo="acme/tpl", cause="t")
    fleet.forge.repos["acme/canary"].permissions.update({"ann": "write", "bob": "read"})
    fleet.forge.repos["acme/tpl"].permissions.update({"ann": "maintain"})
    return fleet


def _say(
    fleet: Fleet, body: str, author: str = "ann", comment_id: int = 900, **kw: str
) -> CommandResult:
    (pull,) = fleet.forge.repos["acme/canary"].pulls.values()
    comment = CommandComment("acme/canary", pull.number, comment_id, author, body, **kw)
    return handle_command(fleet.ctx, comment, permissions=PermissionCache(fleet.clock))


def _replies(fleet: Fleet) -> list[str]:
    (pull,) = fleet.forge.repos["acme/canary"].pulls.values()
    return [c.body for c in fleet.forge.repos["acme/canary"].comments.get(pull.number, [])]


def test_people_without_write_permission_are_refused_saying_why(fleet: Fleet) -> None:
    result = _say(fleet, "/evobot rollback", author="bob")
    assert not result.allowed
    (reply,) = _replies(fleet)
    assert "@bob has read permission on acme/canary" in reply
    (pull,) = fleet.forge.repos["acme/canary"].pulls.values()
    audit = fleet.store.audit_log(entity=f"command:acme/canary#{pull.number}")
    assert audit[0].change == "@bob `/evobot rollback`: refused"


def test_rollout_wide_verbs_need_the_template_repository(fleet: Fleet) -> None:
    fleet.forge.repos["acme/tpl"].permissions["ann"] = "read"
    result = _say(fleet, "/evobot pause --rollout")
    assert not result.allowed and "acme/tpl" in (result.reply or "")
    assert fleet.store.rollout("svc@v2").state.status == "wave-open"  # type: ignore[union-attr]


def test_rollback_by_command_and_a_redelivery_replies_once(fleet: Fleet) -> None:
    first = _say(fleet, "/evobot rollback")
    again = _say(fleet, "/evobot rollback")
    assert first.allowed and "rolled-back" in (first.reply or "")
    assert again.rollout is not None and not again.rollout.changes
    assert len([r for r in _replies(fleet) if r.startswith("evobot: done")]) == 1
    assert fleet.store.rollout("svc@v2").state.status == "rolled-back"  # type: ignore[union-attr]


def test_unknown_verbs_get_help_bots_and_edits_get_nothing(fleet: Fleet) -> None:
    assert _say(fleet, "/evobot frobnicate").verb == "help"
    assert "evobot does not know `frobnicate`" in _replies(fleet)[-1]
    assert "/evobot promote" in _replies(fleet)[-1]
    before = len(_replies(fleet))
    assert not _say(fleet, "/evobot rollback", author="evobot[bot]", comment_id=901).handled
    assert not _say(fleet, "/evobot rollback", comment_id=902, action="edited").handled
    assert not _say(fleet, "LGTM", comment_id=903).handled
    assert len(_replies(fleet)) == before


def test_status_skip_and_pause_answer(fleet: Fleet) -> None:
    status = _say(fleet, "/evobot status", comment_id=910)
    assert "Rollout of svc v2: **wave-open**" in (status.reply or "")
    assert "acme/canary: wave 0, open, PR #" in (status.reply or "")
    paused = _say(fleet, "/evobot pause", comment_id=911)
    assert "acme/canary: paused" in (paused.reply or "")
    assert fleet.store.consumer("acme/canary").paused  # type: ignore[union-attr]
    skipped = _say(fleet, "/evobot skip", comment_id=912)
    assert "acme/canary: skipped" in (skipped.reply or "")
    (pull,) = fleet.forge.repos["acme/canary"].pulls.values()
    assert pull.state == "closed"


def test_rebase_re_evolves_the_pr(fleet: Fleet) -> None:
    result = _say(fleet, "/evobot rebase", comment_id=920)
    assert result.allowed and (result.reply or "").startswith("evobot: `/evobot rebase`:")
