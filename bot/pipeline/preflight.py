"""`preflight`: the smoke test of a release — evolve every consumer in memory, reads only.

For each consumer: read its tree (one tarball), evolve it to the version, run the checks and
measure the churn; then judge the totals against the template's rollout policy. Nothing is
written to GitHub: no branch, no commit, no PR, no status (the pipeline reports the verdict
separately, as the `ReportPreflight` effect).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from bot.checks import CheckCache, load_policy, run_checks
from bot.consumer import CONFIG_NAME, parse_consumer_config
from bot.errors import EvobotError
from bot.forge.port import Forge
from bot.pipeline.evolve import CheckOptions
from bot.pipeline.fetch import TemplateFetcher
from bot.pipeline.template_access import (
    TemplateAccess,
    explain_unreadable,
    remote_template_headers,
)
from bot.report.churn import compute_churn
from bot.rollout.policy import PreflightPolicy
from bot.template.source_policy import check_remote_source

__all__ = ["ConsumerPreflight", "PreflightOptions", "PreflightReport", "judge", "preflight"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PreflightOptions:
    checks: CheckOptions = field(default_factory=CheckOptions)
    access: TemplateAccess = field(default_factory=TemplateAccess)


@dataclass(frozen=True)
class ConsumerPreflight:
    """One consumer's predicted evolution: conflicts, blocking check findings, churn; or the
    ``error`` that stopped it (an unreadable consumer counts against the release)."""

    repo: str
    changed: bool = False
    conflicts: tuple[str, ...] = ()
    blocking: tuple[str, ...] = ()
    files_changed: int = 0
    lines_added: int = 0
    lines_removed: int = 0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "changed": self.changed,
            "conflicts": list(self.conflicts),
            "blocking": list(self.blocking),
            "churn": {
                "files_changed": self.files_changed,
                "lines_added": self.lines_added,
                "lines_removed": self.lines_removed,
            },
            "error": self.error,
        }


@dataclass(frozen=True)
class PreflightReport:
    version: str
    consumers: tuple[ConsumerPreflight, ...]
    passed: bool
    reasons: tuple[str, ...]

    @property
    def conflicted(self) -> int:
        return sum(1 for c in self.consumers if c.conflicts)

    @property
    def blocked(self) -> int:
        return sum(1 for c in self.consumers if c.blocking)

    @property
    def errors(self) -> int:
        return sum(1 for c in self.consumers if c.error)

    def summary(self) -> str:
        """One line: the verdict and the totals, for a commit status and the rollout record."""
        n = len(self.consumers)
        verdict = "passed" if self.passed else "failed: " + "; ".join(self.reasons)
        return (
            f"preflight of {self.version} {verdict} ({n} consumers: {self.conflicted} with "
            f"conflicts, {self.blocked} with blocking findings, {self.errors} unreadable; "
            f"+{sum(c.lines_added for c in self.consumers)} "
            f"-{sum(c.lines_removed for c in self.consumers)} lines)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "passed": self.passed,
            "reasons": list(self.reasons),
            "totals": {
                "consumers": len(self.consumers),
                "changed": sum(1 for c in self.consumers if c.changed),
                "conflicted": self.conflicted,
                "blocked": self.blocked,
                "errors": self.errors,
                "files_changed": sum(c.files_changed for c in self.consumers),
                "lines_added": sum(c.lines_added for c in self.consumers),
                "lines_removed": sum(c.lines_removed for c in self.consumers),
            },
            "consumers": [c.to_json() for c in self.consumers],
        }


def _one(
    forge: Forge,
    repo: str,
    version: str,
    templates: TemplateFetcher,
    options: PreflightOptions,
) -> ConsumerPreflight:
    snapshot = forge.read_tree(repo)
    ours = snapshot.tree
    if CONFIG_NAME not in ours:
        return ConsumerPreflight(repo, error=f"no {CONFIG_NAME}; not an evobot consumer")
    config = parse_consumer_config(ours[CONFIG_NAME].data, source=f"{repo}:{CONFIG_NAME}")
    access = options.access
    url = check_remote_source(
        config.template,
        allowed_hosts=access.allowed_hosts(forge.git_host()),
        where=f"{repo}:{CONFIG_NAME}",
    )
    with explain_unreadable(repo, url, forge, access):
        evolution = templates.evolve(
            ours,
            config,
            vcs_ref=version,
            git_http_headers=remote_template_headers(forge, config.template, repo, access),
        )
    if not evolution.changed:
        return ConsumerPreflight(repo)
    blocking: tuple[str, ...] = ()
    if options.checks.enabled:
        target = evolution.tree
        changed = [p for p, f in target.items() if ours.get(p) != f]
        changed += [p for p in ours if p not in target]
        policy = load_policy(evolution.config.checks, options.checks.org_policy)
        cache = CheckCache(options.checks.cache_path) if options.checks.cache_path else None
        run = run_checks(target, changed=changed, policy=policy, cache=cache, base=ours)
        if not run.verdict.passed:
            blocking = tuple(run.verdict.reasons) or ("the check policy blocks it",)
    churn = compute_churn(ours, evolution.tree).totals
    return ConsumerPreflight(
        repo,
        changed=True,
        conflicts=tuple(evolution.conflicts),
        blocking=blocking,
        files_changed=churn.files_changed,
        lines_added=churn.lines_added,
        lines_removed=churn.lines_removed,
    )


def judge(
    consumers: Sequence[ConsumerPreflight], policy: PreflightPolicy
) -> tuple[bool, tuple[str, ...]]:
    """The policy's verdict over every consumer's preflight."""
    reasons: list[str] = []
    total = len(consumers)
    blocked = [c.repo for c in consumers if c.blocking]
    if blocked and not policy.allow_blocking:
        reasons.append(f"blocking check findings in {len(blocked)} consumer(s): {_few(blocked)}")
    conflicted = [c.repo for c in consumers if c.conflicts]
    if total and 100 * len(conflicted) / total > policy.max_conflict_percent:
        reasons.append(
            f"conflicts in {len(conflicted)} of {total} consumers, more than "
            f"{policy.max_conflict_percent:g}%: {_few(conflicted)}"
        )
    broken = [c.repo for c in consumers if c.error]
    if broken:
        reasons.append(f"{len(broken)} consumer(s) could not be evolved: {_few(broken)}")
    return not reasons, tuple(reasons)


def _few(names: Sequence[str], n: int = 5) -> str:
    shown = ", ".join(names[:n])
    return shown + (f" and {len(names) - n} more" if len(names) > n else "")


def preflight(
    forge: Forge,
    repos: Sequence[str],
    *,
    version: str,
    templates: TemplateFetcher,
    policy: PreflightPolicy,
    options: PreflightOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> PreflightReport:
    """Evolve each of ``repos`` to ``version`` in memory and judge the result by ``policy``.

    Reads only: one tarball per consumer (plus the template's clone through ``templates``).
    A consumer that cannot be read or evolved is reported with its error, not raised.
    """
    options = options or PreflightOptions()
    results: list[ConsumerPreflight] = []
    for repo in repos:
        if progress is not None:
            progress(repo)
        try:
            results.append(_one(forge, repo, version, templates, options))
        except EvobotError as exc:
            log.warning("rollout.preflight_error", repo=repo, error=exc.message)
            results.append(ConsumerPreflight(repo, error=exc.message))
    passed, reasons = judge(results, policy)
    return PreflightReport(version, tuple(results), passed, reasons)
