"""Self-healing: GitHub never redelivers by itself, so the service lists the App's delivery log,
and asks again for every delivery the store never received; a redelivery keeps its id, so it is
processed once. The decision is a pure function (a table here); the whole loop runs against the
emulator with the service stopped while events are sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from evobot_testing import build_file_tree, git_commit_all, git_init
from service_support import (
    CONSUMER,
    TEMPLATE_FILES,
    emulator_settings,
    fleet_seed,
    private_key_pem,
    running_service,
)

from bot.emulator.testing import running_emulator
from bot.forge.port import HookDelivery
from bot.service.healing import plan_redeliveries


def attempt(id: int, guid: str, status_code: int, status: str = "") -> HookDelivery:
    return HookDelivery(
        id=id,
        guid=guid,
        event="push",
        action=None,
        status_code=status_code,
        status=status or ("OK" if status_code else "failed to connect to host"),
        delivered_at="2026-01-01T00:00:00Z",
    )


@pytest.mark.parametrize(
    ("log", "stored", "expected"),
    [
        pytest.param([attempt(1, "a", 202)], {"a"}, [], id="received"),
        pytest.param([attempt(1, "a", 0)], set(), [1], id="never-connected"),
        pytest.param([attempt(1, "a", 503)], set(), [1], id="answered-5xx"),
        pytest.param([attempt(1, "a", 0), attempt(2, "a", 0)], set(), [2], id="newest-attempt"),
        pytest.param([attempt(1, "a", 0), attempt(2, "a", 202)], {"a"}, [], id="healed-already"),
        pytest.param([attempt(1, "a", 0, "Pending")], set(), [], id="still-being-sent"),
        pytest.param([attempt(3, "b", 0), attempt(1, "a", 0)], set(), [1, 3], id="oldest-first"),
    ],
)
def test_what_is_redelivered(
    log: list[HookDelivery], stored: set[str], expected: list[int]
) -> None:
    assert [a.id for a in plan_redeliveries(log, stored.__contains__)] == expected


@pytest.fixture
def template_src(tmp_path: Path) -> Path:
    root = git_init(tmp_path / "template-src")
    build_file_tree(root, TEMPLATE_FILES)
    git_commit_all(root, "v1", tag="v1.0.0")
    return root


def test_events_sent_while_the_service_is_down_are_healed_and_processed_once(
    tmp_path: Path, db_url: str, template_src: Path
) -> None:
    with running_emulator(fleet_seed(template_src, private_key_pem()), tmp_path / "gh") as gh:
        settings = emulator_settings(gh, db_url, tmp_path / "state")
        with running_service(settings, workers=1) as svc:
            gh.set_webhook(svc.webhook_url, secret=settings.secret())
            gh.install("acme")
            svc.drain(settle=gh.settle)
            received = {d.guid for d in gh.deliveries}
        # The service is stopped: these deliveries fail to connect.
        gh.push_commit(CONSUMER, "evobot/acme-greeter-template/v2", {"a.txt": "1\n"})
        number = gh.open_pull(CONSUMER, "evobot/acme-greeter-template/v2", title="evolve")
        gh.settle()
        missed = [d for d in gh.deliveries if d.guid not in received]
        assert missed and all(d.status_code == 0 for d in missed)

        with running_service(settings, workers=2) as svc:
            gh.set_webhook(svc.webhook_url)  # the service is back, at its (new) address
            svc.healer.start()  # as `evobot serve` does on start
            report = svc.wait_for_heal()
            svc.drain(settle=gh.settle)
            assert sorted(report.redelivered) == sorted({d.guid for d in missed})
            store = svc.service.store
            for guid in {d.guid for d in gh.deliveries}:
                delivery = store.delivery(guid)
                assert delivery is not None and delivery.processed_at is not None, guid
            jobs = store.jobs(limit=1000)
            assert sorted(j.delivery_id for j in jobs) == sorted({d.guid for d in gh.deliveries})
            assert {j.state for j in jobs} == {"done"}
            assert [(p.number, p.state) for p in store.evolution_prs(repo=CONSUMER)] == [
                (number, "open")
            ]
            # A second pass finds nothing missing: nothing is asked for twice.
            again = svc.healer.run_once()
            assert again is not None and again.redelivered == ()
