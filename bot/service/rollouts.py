"""The service's side of rollouts: the options the rollout use cases run with, each rollout's
policy (its template's ``rollout.yml`` at the released tag, read once per process), and the
jobs that carry a rollout forward — every one keyed ``rollout:<key>`` so one rollout's jobs run
one at a time, and de-duplicated so a redelivery or a retried job never schedules twice.

Job kinds (handled in ``bot/service/handlers/``): ``rollout.begin`` (a release tag),
``rollout.observe`` (a PR or its checks changed), ``rollout.tick`` (a bake timer),
``rollout.open-pr`` (a PR the flood caps deferred), ``rollout.reconcile`` (start-up, then every
heal interval while the rollout runs), ``rollout.command`` (an ``/evobot`` comment) and
``rollout.onboard`` (a consumer discovered after releases: one PR or none, by policy).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.forge.port import Forge
from bot.pipeline.evolve import EvolvePrOptions
from bot.pipeline.fetch import TemplateFetcher
from bot.pipeline.preflight import PreflightOptions
from bot.pipeline.revert import RevertPrOptions
from bot.pipeline.rollout import AdvanceResult, RolloutContext
from bot.pipeline.rollout_plan import read_policy
from bot.rollout import RolloutPolicy
from bot.rollout.commands import PermissionCache
from bot.rollout.state import TERMINAL
from bot.store import Store

__all__ = [
    "BEGIN",
    "COMMAND",
    "OBSERVE",
    "ONBOARD",
    "OPEN_PR",
    "RECONCILE",
    "TICK",
    "RolloutOptions",
    "RolloutRuntime",
    "job_key",
    "split_template",
]

BEGIN = "rollout.begin"
OBSERVE = "rollout.observe"
TICK = "rollout.tick"
OPEN_PR = "rollout.open-pr"
RECONCILE = "rollout.reconcile"
COMMAND = "rollout.command"
ONBOARD = "rollout.onboard"
ROLLOUT_KINDS = (BEGIN, OBSERVE, TICK, OPEN_PR, RECONCILE, COMMAND, ONBOARD)


def job_key(rollout: str) -> str:
    """The queue key serialising every job of one rollout."""
    return f"rollout:{rollout}"


def split_template(name: str) -> tuple[str, str | None]:
    """A stored template name (``owner/repo`` or ``owner/repo//subdir``) → (repo, subdir)."""
    repo, _, subdir = name.partition("//")
    return repo, subdir or None


@dataclass(frozen=True)
class RolloutOptions:
    """How the service's rollouts evolve, check and revert: the template fetcher and the options
    of `evolve_pr`, `revert_pr` and `preflight`; how long a permission answer is kept; how often
    a running rollout is reconciled."""

    templates: TemplateFetcher
    evolve: EvolvePrOptions = field(default_factory=EvolvePrOptions)
    revert: RevertPrOptions = field(default_factory=RevertPrOptions)
    preflight: PreflightOptions = field(default_factory=PreflightOptions)
    permission_ttl: float = 60.0
    reconcile_interval: float = 300.0
    max_attempts: int = 5


class RolloutRuntime:
    """Per process: builds each rollout's `RolloutContext` and schedules its follow-up jobs."""

    def __init__(self, options: RolloutOptions, clock: Clock) -> None:
        self.options = options
        self.clock = clock
        self.permissions = PermissionCache(clock, ttl=options.permission_ttl)
        self._policies: dict[str, RolloutPolicy] = {}
        self._lock = threading.Lock()

    # -- contexts ------------------------------------------------------------------------

    def policy(self, forge: Forge, template: str, version: str) -> RolloutPolicy:
        """``template``'s ``rollout.yml`` at ``version`` (a `RolloutPolicyError` if invalid)."""
        key = f"{template}@{version}"
        with self._lock:
            known = self._policies.get(key)
        if known is not None:
            return known
        repo, subdir = split_template(template)
        policy = read_policy(forge, repo, version, subdir)
        with self._lock:
            self._policies[key] = policy
        return policy

    def context(
        self, forge: Forge, store: Store, *, policy: RolloutPolicy | None = None
    ) -> RolloutContext:
        return RolloutContext(
            forge=forge,
            store=store,
            clock=self.clock,
            templates=self.options.templates,
            policy=policy or RolloutPolicy(),
            evolve=self.options.evolve,
            revert=self.options.revert,
            preflight=self.options.preflight,
        )

    def context_for(self, forge: Forge, store: Store, key: str) -> RolloutContext:
        """The context of stored rollout ``key``, with its own policy."""
        stored = store.rollout(key)
        if stored is None:
            return self.context(forge, store)
        state = stored.state
        return self.context(forge, store, policy=self.policy(forge, state.template, state.version))

    # -- scheduling ----------------------------------------------------------------------

    def enqueue(
        self,
        store: Store,
        kind: str,
        rollout: str,
        payload: dict[str, Any],
        *,
        dedupe: str | None,
        run_after: float | None = None,
        key: str | None = None,
    ) -> int:
        """Enqueue a job of ``rollout`` (keyed ``rollout:<key>``, or ``key``), once per
        ``dedupe`` when given."""
        return store.enqueue(
            kind,
            {"rollout": rollout, **payload},
            key=key or job_key(rollout),
            dedupe_key=f"{kind}:{rollout}:{dedupe}" if dedupe is not None else None,
            run_after=run_after,
            max_attempts=self.options.max_attempts,
        )

    def schedule(self, store: Store, result: AdvanceResult | None) -> list[str]:
        """A job for each wake time (a `Tick`) and each deferred PR (an `OpenPr`), once each;
        a reconcile timer for a rollout that started (or is still running). What was scheduled."""
        if result is None:
            return []
        scheduled: list[str] = []
        for at in sorted(set(result.wakes)):
            self.enqueue(store, TICK, result.key, {"at": at}, dedupe=f"{at:.3f}", run_after=at)
            scheduled.append(f"tick at {at:.0f}")
        for deferred in result.deferred:
            self.enqueue(
                store,
                OPEN_PR,
                result.key,
                {"repo": deferred.repo},
                dedupe=f"{deferred.repo}@{deferred.retry_at:.3f}",
                run_after=deferred.retry_at,
            )
            scheduled.append(f"open {deferred.repo} at {deferred.retry_at:.0f}")
        for key in [result.key, *result.started]:
            self.schedule_reconcile(store, key)
        return scheduled

    def schedule_reconcile(self, store: Store, key: str, *, now: bool = False) -> None:
        """The rollout's next reconcile: at the next interval boundary (``now``: at once,
        e.g. at start-up), while the rollout is not finished. One per interval."""
        stored = store.rollout(key)
        if stored is None or stored.state.status in TERMINAL:
            return
        interval = self.options.reconcile_interval
        at = self.clock.now() if now else (self.clock.now() // interval + 1) * interval
        slot = "start" if now else f"{at:.0f}"
        self.enqueue(store, RECONCILE, key, {}, dedupe=None if now else slot, run_after=at)

    def reconcile_all(self, store: Store) -> list[str]:
        """A reconcile job now for every rollout not finished (start-up). Their keys."""
        keys = [r.key for r in store.rollouts() if r.state.status not in TERMINAL]
        for key in keys:
            self.schedule_reconcile(store, key, now=True)
        return keys
