"""The composition root: settings in, a running service out. The only module that builds the
store, the forge, the routers (webhook and job), the rollouts' runtime, the web edge, the
workers and the healer, and wires them.

`evobot serve` runs the web edge, the healer and ``workers`` worker threads in one process;
`evobot worker` runs worker threads only, against the same database (PostgreSQL for several
processes or machines).
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import structlog
import uvicorn
from fastapi import FastAPI

from bot.clock import Clock, SystemClock
from bot.errors import EvobotError
from bot.forge.auth import AppCredentials, app_jwt
from bot.forge.github import ForgeSettings, GitHubForge
from bot.forge.github_app import GitHubApp
from bot.forge.port import AppPort, Forge
from bot.pipeline.evolve import CheckOptions, EvolvePrOptions
from bot.pipeline.fetch import GitTemplateFetcher
from bot.pipeline.preflight import PreflightOptions
from bot.pipeline.template_access import TemplateAccess
from bot.service.budget import store_write_budgets
from bot.service.handlers import JOBS, ROUTERS
from bot.service.healing import Healer
from bot.service.jobs import JobRouter
from bot.service.metrics import ForgeStats, ServiceMetrics
from bot.service.rollouts import RolloutOptions, RolloutRuntime
from bot.service.router import Router
from bot.service.settings import ServiceSettings
from bot.service.web import WebDeps, create_app
from bot.service.worker import Worker, WorkerPool
from bot.store import Store, database_url

__all__ = ["Service", "build_job_router", "build_router", "default_rollout_options"]

log = structlog.get_logger("bot.service")
HOUR = 3600.0


def build_router() -> Router:
    """Every concern's handlers in one router."""
    return Router(*ROUTERS)


def build_job_router() -> JobRouter:
    """Every concern's job handlers (rollout steps, timers, commands) in one router."""
    return JobRouter(*JOBS)


def default_rollout_options(settings: ServiceSettings) -> RolloutOptions:
    """Rollouts as `evobot serve` runs them: templates cloned under the state directory, checks
    on (their cache there too, the organisation's policy from ``EVOBOT_ORG_POLICY``), template
    hosts and shared template repositories from ``EVOBOT_TEMPLATE_HOSTS`` /
    ``EVOBOT_TEMPLATE_REPOS``; reconciled every heal interval."""
    checks = CheckOptions(
        cache_path=settings.state_dir / "check-cache", org_policy=settings.org_policy
    )
    access = TemplateAccess.from_env(os.environ)
    return RolloutOptions(
        templates=GitTemplateFetcher(settings.state_dir / "template-cache"),
        evolve=EvolvePrOptions(checks=checks, access=access),
        preflight=PreflightOptions(checks=checks, access=access),
        reconcile_interval=settings.heal_interval,
        max_attempts=settings.max_attempts,
    )


@dataclass
class Service:
    """Everything one process of the service holds."""

    settings: ServiceSettings
    store: Store
    credentials: AppCredentials = field(repr=False)
    forge: Forge
    app_port: AppPort
    router: Router
    metrics: ServiceMetrics
    clock: Clock
    rollouts: RolloutRuntime | None
    jobs: JobRouter
    github: GitHubForge | None = None

    @classmethod
    def build(
        cls,
        settings: ServiceSettings,
        *,
        clock: Clock | None = None,
        forge: Forge | None = None,
        app_port: AppPort | None = None,
        rollouts: RolloutOptions | None = None,
    ) -> Service:
        """Open (and upgrade) the store and build the forge; nothing asks GitHub anything yet.
        ``clock`` drives the store, the forge's pacing and the rollouts' timers alike.

        A key that is not a PEM key, a database that cannot be opened: an ``EvobotError``.
        """
        clock = clock or SystemClock()
        credentials = settings.credentials()
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        url = database_url(settings.database_url, state_dir=settings.state_dir)
        store = Store.open(url, clock=clock)
        github: GitHubForge | None = None
        if forge is None or app_port is None:
            github = GitHubForge(
                credentials,
                settings=ForgeSettings(base_url=settings.github_url),
                clock=clock,
                write_budget=store_write_budgets(store.rate_budget),
            )
        metrics = ServiceMetrics()
        service = cls(
            settings=settings,
            store=store,
            credentials=credentials,
            forge=forge or _required(github),
            app_port=app_port or GitHubApp(_required(github)),
            router=build_router(),
            metrics=metrics,
            clock=clock,
            rollouts=(
                RolloutRuntime(rollouts or default_rollout_options(settings), clock)
                if settings.rollouts
                else None
            ),
            jobs=build_job_router(),
            github=github,
        )
        metrics.watch(queue=store.queue_stats, forge=service.forge_stats if github else None)
        return service

    # -- the parts ---------------------------------------------------------------------

    def readiness(self) -> list[str]:
        """What keeps the service from being ready: the database, its schema, the App key.
        GitHub being reachable is not among them."""
        problems: list[str] = []
        try:
            status = self.store.schema()
        except EvobotError as exc:
            problems.append(f"database: {exc.message}")
        except Exception as exc:
            problems.append(f"database: {type(exc).__name__}")
        else:
            if not status.up_to_date:
                problems.append(f"database: {status.describe()}")
        try:
            app_jwt(self.credentials, now=self.clock.now())
        except EvobotError as exc:
            problems.append(f"App key: {exc.message}")
        return problems

    def forge_stats(self) -> ForgeStats:
        github = self.github
        assert github is not None
        installations = sorted(
            {c.installation_id for c in self.store.consumers() if c.installation_id}
        )
        now = self.clock.now()
        per_hour = self.store.rate_budget.ceilings.per_hour
        return ForgeStats(
            requests={"repository": github.requests, "app": github.auth_requests},
            rate_limit_wait_seconds=sum(github.pacer(k).waited for k in [0, *installations]),
            remaining_writes={
                i: max(per_hour - self.store.rate_budget.writes_between(i, now - HOUR, now), 0)
                for i in installations
            },
        )

    def web_app(self) -> FastAPI:
        return create_app(
            WebDeps(
                store=self.store,
                secret=self.settings.secret(),
                metrics=self.metrics,
                readiness=self.readiness,
                max_attempts=self.settings.max_attempts,
            )
        )

    def worker_pool(self, count: int, **worker_options: Any) -> WorkerPool:
        prefix = f"{socket.gethostname()}:{os.getpid()}"

        def make(index: int, stop: threading.Event) -> Worker:
            return Worker(
                store=self.store,
                router=self.router,
                forge=self.forge,
                app=self.app_port,
                metrics=self.metrics,
                worker_id=f"{prefix}:{index}",
                stop=stop,
                lease_seconds=self.settings.lease_seconds,
                jobs=self.jobs,
                rollouts=self.rollouts,
                **worker_options,
            )

        return WorkerPool(make, count)

    def reconcile_rollouts(self) -> list[str]:
        """Queue a reconcile of every rollout not finished (at start): a crash's undone work
        is finished, PRs whose deliveries never came are read back. The rollouts' keys."""
        if self.rollouts is None:
            return []
        keys = self.rollouts.reconcile_all(self.store)
        if keys:
            log.info("rollouts.reconcile_queued", rollouts=keys)
        return keys

    def healer(self) -> Healer:
        return Healer(
            self.app_port,
            self.store,
            self.metrics,
            self.clock,
            interval=self.settings.heal_interval,
            window_seconds=self.settings.heal_window_hours * HOUR,
        )

    # -- the processes -----------------------------------------------------------------

    def serve(self, host: str, port: int, *, workers: int | None = None, heal: bool = True) -> None:
        """Run until SIGTERM/SIGINT: the web edge, the healer and the worker threads; then stop
        taking requests, stop claiming jobs, finish or release the jobs in hand, exit."""
        count = self.settings.workers if workers is None else workers
        pool = self.worker_pool(count)
        healer = self.healer() if heal else None
        config = uvicorn.Config(
            self.web_app(),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        server = uvicorn.Server(config)
        if count:
            self.reconcile_rollouts()
        pool.start()
        if healer is not None:
            healer.start()
        log.info("service.started", host=host, port=port, workers=count, heal=heal)
        try:
            server.run()
        finally:
            log.info("service.stopping", grace=self.settings.shutdown_grace)
            if healer is not None:
                healer.stop()
            pool.stop(self.settings.shutdown_grace)
            self.store.close()
            log.info("service.stopped")

    def run_workers(self, count: int) -> None:
        """Run worker threads only, until SIGTERM/SIGINT."""
        pool = self.worker_pool(max(count, 1))
        _on_signals(lambda: pool.stop_event.set())
        self.reconcile_rollouts()
        pool.start()
        log.info("worker.process_started", workers=len(pool.workers))
        pool.stop_event.wait()
        log.info("worker.process_stopping", grace=self.settings.shutdown_grace)
        pool.stop(self.settings.shutdown_grace)
        self.store.close()
        log.info("worker.process_stopped")


def _required(github: GitHubForge | None) -> GitHubForge:
    assert github is not None
    return github


def _on_signals(stop: Callable[[], None]) -> None:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
