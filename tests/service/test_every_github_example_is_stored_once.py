"""Every example payload GitHub publishes, signed and POSTed to the running service over HTTP:
no 5xx, each acknowledged 202 once and stored once, and a second POST of each is 200."""

from __future__ import annotations

import json
from pathlib import Path

from evobot_testing import FIXTURES
from service_support import running_service, settings_for, signed


def examples() -> list[tuple[str, bytes]]:
    entries = json.loads((FIXTURES / "webhooks" / "examples.json").read_text())
    return [
        (entry["name"], json.dumps(payload).encode())
        for entry in entries
        for payload in entry.get("examples") or []
    ]


def test_every_example_is_acknowledged_and_stored_once(tmp_path: Path, db_url: str) -> None:
    payloads = examples()
    assert len(payloads) > 300
    # No workers: storing is the point here (handlers would ask GitHub about these repos).
    with running_service(settings_for(db_url, tmp_path / "state"), workers=0) as svc:
        sent = [(f"example-{i}", event, body) for i, (event, body) in enumerate(payloads)]
        first = [
            svc.post(*signed(event, body, delivery_id=d)).status_code for d, event, body in sent
        ]
        again = [
            svc.post(*signed(event, body, delivery_id=d)).status_code for d, event, body in sent
        ]
        assert first == [202] * len(sent)
        assert again == [200] * len(sent)
        store = svc.service.store
        stored = store.deliveries(limit=10_000)
        assert sorted(d.delivery_id for d in stored) == sorted(d for d, _, _ in sent)
        assert len(store.jobs(limit=10_000)) == len(sent)
        by_id = {d.delivery_id: d for d in stored}
        for delivery_id, event, body in sent:
            assert by_id[delivery_id].event == event
            assert by_id[delivery_id].payload == body.decode()
