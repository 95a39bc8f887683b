"""GET /metrics: Prometheus text in which every metric is named evobot_…, counting deliveries by
event and outcome, timing acknowledgements, and showing the queue (read from the store)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from service_support import settings_for, signed

from bot.service import Service


def test_metrics_cover_deliveries_latency_and_the_queue(tmp_path: Path, sqlite_url: str) -> None:
    service = Service.build(settings_for(sqlite_url, tmp_path / "state"))
    try:
        client = TestClient(service.web_app())
        headers, body = signed("ping", {"zen": "z"}, delivery_id="m-1")
        client.post("/webhook", content=body, headers=headers)
        client.post("/webhook", content=body, headers=headers)
        bad, _ = signed("ping", {"zen": "z"}, secret="another-secret")
        client.post("/webhook", content=body, headers=bad)
        text = client.get("/metrics").text
    finally:
        service.store.close()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families and all(name.startswith("evobot_") for name in families)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert samples[("evobot_deliveries_total", (("event", "ping"), ("outcome", "accepted")))] == 1
    assert samples[("evobot_deliveries_total", (("event", "ping"), ("outcome", "duplicate")))] == 1
    assert (
        samples[("evobot_deliveries_total", (("event", "unknown"), ("outcome", "rejected")))] == 1
    )
    assert samples[("evobot_webhook_ack_seconds_count", ())] == 2
    assert samples[("evobot_queue_jobs", (("state", "queued"),))] == 1
    for name in (
        "evobot_queue_oldest_job_age_seconds",
        "evobot_github_requests",
        "evobot_rate_limit_wait_seconds",
        "evobot_job_processing_seconds",
        "evobot_jobs_failed",
        "evobot_heal_redeliveries",
    ):
        assert name in families, name
