"""Prometheus metrics of the service, every one named ``evobot_…``, in a registry of its own.

Counters and histograms are kept by the process that does the work (the web edge counts and
times acknowledgements, workers time jobs); queue depth, oldest job age, GitHub requests and the
shared rate budget are read when ``/metrics`` is scraped, from the store and the forge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.store import QueueStats

__all__ = ["ForgeStats", "ServiceMetrics"]

_ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_JOB_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)


@dataclass(frozen=True)
class ForgeStats:
    """What the forge reports at a scrape: requests by endpoint class, seconds waited for rate
    limits, and writes left in the hour per installation."""

    requests: dict[str, int]
    rate_limit_wait_seconds: float
    remaining_writes: dict[int, int]


class _ScrapeCollector(Collector):
    def __init__(
        self,
        queue: Callable[[], QueueStats] | None,
        forge: Callable[[], ForgeStats] | None,
    ) -> None:
        self._queue = queue
        self._forge = forge

    def collect(self) -> Iterable[Metric]:
        return list(self._metrics())

    def _metrics(self) -> Iterator[Metric]:
        if self._queue is not None:
            stats = self._queue()
            depth = GaugeMetricFamily(
                "evobot_queue_jobs", "Jobs in the store's queue, by state", labels=["state"]
            )
            for state in ("queued", "running", "done", "failed"):
                depth.add_metric([state], getattr(stats, state))
            yield depth
            yield GaugeMetricFamily(
                "evobot_queue_oldest_job_age_seconds",
                "How long the oldest due job has waited",
                value=stats.oldest_queued_age,
            )
            yield GaugeMetricFamily(
                "evobot_queue_expired_leases",
                "Running jobs whose worker's lease has expired (a worker died)",
                value=stats.expired_leases,
            )
        if self._forge is not None:
            forge = self._forge()
            requests = CounterMetricFamily(
                "evobot_github_requests",
                "GitHub requests made by this process, by endpoint class",
                labels=["endpoint_class"],
            )
            for name, count in sorted(forge.requests.items()):
                requests.add_metric([name], count)
            yield requests
            yield CounterMetricFamily(
                "evobot_rate_limit_wait_seconds",
                "Seconds this process waited for GitHub's rate limits and the shared budget",
                value=forge.rate_limit_wait_seconds,
            )
            remaining = GaugeMetricFamily(
                "evobot_rate_budget_remaining_writes",
                "Content-creating requests left in the sliding hour, per installation",
                labels=["installation"],
            )
            for installation, left in sorted(forge.remaining_writes.items()):
                remaining.add_metric([str(installation)], left)
            yield remaining


class ServiceMetrics:
    """The service's metrics; one instance per process (its own registry, so tests can hold
    several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.deliveries = Counter(
            "evobot_deliveries",
            "Webhook deliveries by event and outcome (accepted, duplicate, rejected, "
            "processed, retried, failed)",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "evobot_webhook_ack_seconds",
            "From request to acknowledgement of POST /webhook",
            buckets=_ACK_BUCKETS,
            registry=self.registry,
        )
        self.processing_seconds = Histogram(
            "evobot_job_processing_seconds",
            "Time to process one job, by kind",
            ["kind"],
            buckets=_JOB_BUCKETS,
            registry=self.registry,
        )
        self.jobs_failed = Counter(
            "evobot_jobs_failed",
            "Jobs that ended failed after their last attempt",
            ["kind"],
            registry=self.registry,
        )
        self.redeliveries = Counter(
            "evobot_heal_redeliveries",
            "Redeliveries requested from GitHub for deliveries the store never received",
            registry=self.registry,
        )
        self.heal_runs = Counter(
            "evobot_heal_runs",
            "Runs of the missed-delivery healer, by outcome",
            ["outcome"],
            registry=self.registry,
        )

    def watch(
        self,
        *,
        queue: Callable[[], QueueStats] | None = None,
        forge: Callable[[], ForgeStats] | None = None,
    ) -> None:
        """Read the queue and the forge at every scrape."""
        self.registry.register(_ScrapeCollector(queue, forge))

    def render(self) -> bytes:
        return generate_latest(self.registry)
