"""Self-healing of missed deliveries: GitHub never redelivers on its own, so the service lists
the App's recent deliveries, compares them with the store, and asks GitHub to redeliver each one
the store never received. A redelivery keeps its delivery id, so it is processed once.

:func:`plan_redeliveries` is the decision, a pure function of the log and the store's answer;
:func:`heal_once` does the listing and the asking; :class:`Healer` runs it on start and every
few minutes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import structlog

from bot.clock import Clock
from bot.errors import EvobotError
from bot.forge.auth import scrub
from bot.forge.port import AppPort, HookDelivery
from bot.service.metrics import ServiceMetrics
from bot.store import Store

__all__ = ["HealReport", "Healer", "heal_once", "plan_redeliveries"]

log = structlog.get_logger("bot.service.healing")

MAX_PAGES = 50


@dataclass(frozen=True)
class HealReport:
    """One pass: attempts listed, deliveries missing from the store, redeliveries asked for."""

    listed: int
    missing: int
    redelivered: tuple[str, ...]
    failed: tuple[str, ...] = ()


def _epoch(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def plan_redeliveries(
    attempts: Iterable[HookDelivery], stored: Callable[[str], bool]
) -> list[HookDelivery]:
    """The attempt to redeliver for each delivery (guid) the store does not hold.

    Nothing for a guid whose attempt is still pending (GitHub is sending it); otherwise its
    newest attempt, oldest delivery first so the store receives them in their original order.
    """
    newest: dict[str, HookDelivery] = {}
    pending: set[str] = set()
    first_seen: dict[str, int] = {}
    for attempt in attempts:
        if not attempt.guid:
            continue
        first_seen[attempt.guid] = min(first_seen.get(attempt.guid, attempt.id), attempt.id)
        if attempt.pending:
            pending.add(attempt.guid)
        if attempt.guid not in newest or attempt.id > newest[attempt.guid].id:
            newest[attempt.guid] = attempt
    chosen = [newest[guid] for guid in newest if guid not in pending and not stored(guid)]
    return sorted(chosen, key=lambda a: first_seen[a.guid])


def heal_once(
    app: AppPort, store: Store, *, now: float, window_seconds: float = 72 * 3600.0
) -> HealReport:
    """List the deliveries of the last ``window_seconds`` (GitHub keeps three days) and ask
    for each one missing from the store again."""
    attempts: list[HookDelivery] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = app.hook_deliveries(cursor=cursor)
        attempts.extend(page.deliveries)
        oldest = _epoch(page.deliveries[-1].delivered_at) if page.deliveries else None
        if page.next_cursor is None or (oldest is not None and oldest < now - window_seconds):
            break
        cursor = page.next_cursor
    recent = [a for a in attempts if (_epoch(a.delivered_at) or now) >= now - window_seconds]
    plan = plan_redeliveries(recent, lambda guid: store.delivery(guid) is not None)
    done: list[str] = []
    failed: list[str] = []
    for attempt in plan:
        try:
            app.redeliver(attempt.id)
        except EvobotError as exc:
            failed.append(attempt.guid)
            log.warning("heal.redeliver_failed", delivery_id=attempt.guid, error=exc.message)
            continue
        done.append(attempt.guid)
        log.info("heal.redelivered", delivery_id=attempt.guid, github_event=attempt.event)
    return HealReport(len(attempts), len(plan), tuple(done), tuple(failed))


class Healer:
    """Runs :func:`heal_once` now and every ``interval`` seconds until stopped."""

    def __init__(
        self,
        app: AppPort,
        store: Store,
        metrics: ServiceMetrics,
        clock: Clock,
        *,
        interval: float,
        window_seconds: float,
    ) -> None:
        self.app = app
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.interval = interval
        self.window_seconds = window_seconds
        self.stop_event = threading.Event()
        self.wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: HealReport | None = None

    def run_once(self) -> HealReport | None:
        try:
            report = heal_once(
                self.app, self.store, now=self.clock.now(), window_seconds=self.window_seconds
            )
        except EvobotError as exc:
            self.metrics.heal_runs.labels("error").inc()
            log.warning("heal.failed", error=exc.message)
            return None
        except Exception as exc:
            self.metrics.heal_runs.labels("error").inc()
            log.error("heal.crashed", error=f"{type(exc).__name__}: {scrub(str(exc))}")
            return None
        self.metrics.heal_runs.labels("ok").inc()
        self.metrics.redeliveries.inc(len(report.redelivered))
        if report.missing:
            log.info("heal.done", listed=report.listed, redelivered=len(report.redelivered))
        self.last = report
        return report

    def _loop(self) -> None:
        while not self.stop_event.is_set():
            self.run_once()
            self.wake.wait(self.interval)
            self.wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="evobot-healer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
