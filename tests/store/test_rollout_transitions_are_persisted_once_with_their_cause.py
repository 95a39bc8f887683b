"""Rollouts in the store: state, waves and each transition with its cause; an event key counts
once; a stale revision is refused so two workers never both apply an event."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.rollout import Plan, WavePlan, new_rollout, transition
from bot.rollout.events import Start
from bot.store import RolloutConflictError, Store
from bot.store.models import RolloutWaveRow


def _planned():
    plan = Plan("svc", "1.1.0", (WavePlan(0, ("acme/a",), 0), WavePlan(1, ("acme/b",), 0)))
    return new_rollout(plan, bake_seconds=0)


def test_a_rollout_round_trips_and_its_transitions_carry_their_cause(store: Store) -> None:
    created = store.create_rollout(_planned(), cause="cli:rollout start")
    assert created.revision == 0 and created.state == _planned()
    assert store.create_rollout(_planned(), cause="again").revision == 0

    step = transition(created.state, Start(at=1.0))
    assert store.record_transition(
        "svc@1.1.0",
        revision=0,
        state=step.state,
        event="Start",
        detail={"at": 1.0},
        change=step.change or "",
        cause="delivery:abc",
        event_key="delivery:abc",
    )
    stored = store.rollout("svc@1.1.0")
    assert stored is not None and stored.revision == 1 and stored.state.status == "preflight"
    assert [r.state.status for r in store.rollouts(status="preflight")] == ["preflight"]
    (record,) = store.rollout_transitions("svc@1.1.0")
    assert (record.event, record.change, record.cause) == (
        "Start",
        "planned -> preflight",
        "delivery:abc",
    )
    audit = store.audit_log(entity="rollout:svc@1.1.0")
    assert audit[0].change == "Start: planned -> preflight" and audit[0].cause == "delivery:abc"
    with store._db.reading() as session:
        waves = session.scalars(select(RolloutWaveRow).order_by(RolloutWaveRow.position)).all()
        assert [(w.number, w.status, w.consumers) for w in waves] == [
            (0, "pending", 1),
            (1, "pending", 1),
        ]


def test_the_same_event_key_is_recorded_once(store: Store) -> None:
    state = store.create_rollout(_planned(), cause="test").state
    step = transition(state, Start())
    values = {"state": step.state, "event": "Start", "detail": {}, "change": "x", "cause": "c"}
    assert store.record_transition("svc@1.1.0", revision=0, event_key="k", **values)
    assert not store.record_transition("svc@1.1.0", revision=1, event_key="k", **values)
    assert len(store.rollout_transitions("svc@1.1.0")) == 1


def test_a_stale_revision_is_refused(store: Store) -> None:
    state = store.create_rollout(_planned(), cause="test").state
    step = transition(state, Start())
    values = {"state": step.state, "event": "Start", "detail": {}, "change": "x", "cause": "c"}
    store.record_transition("svc@1.1.0", revision=0, **values)
    with pytest.raises(RolloutConflictError, match="at revision 1, not 0"):
        store.record_transition("svc@1.1.0", revision=0, **values)
