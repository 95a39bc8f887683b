"""Run every enabled checker over a tree through the content-addressed cache, then the policy.

Only cache misses reach a checker, in one batch per checker, so ruff and bandit run once over
just the files nobody has checked before. A checker that cannot run is reported as an error
that blocks, never as a silent pass.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.checks.base import CheckContext, Checker, Finding, Severity
from bot.checks.cache import CheckCache, cache_key
from bot.checks.policy import Policy, Verdict
from bot.errors import CheckError
from bot.tree import File

__all__ = ["CheckRun", "CheckerResult", "run_checks", "sort_findings"]

Status = Literal["passed", "failed", "error", "disabled"]


@dataclass(frozen=True)
class CheckerResult:
    """What one checker did: its verdict, how many files it judged and how many came cached."""

    name: str
    version: str
    status: Status
    files: int = 0
    cached: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    blocking: int = 0
    duration_s: float = 0.0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "files": self.files,
            "cached": self.cached,
            "counts": dict(self.counts),
            "blocking": self.blocking,
            "duration_s": round(self.duration_s, 4),
            "error": self.error,
        }


@dataclass(frozen=True)
class CheckRun:
    """The outcome of checking one tree: sorted findings, per-checker results, the verdict."""

    findings: list[Finding]
    verdict: Verdict
    per_checker: dict[str, CheckerResult]
    paths: list[str]

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.verdict.passed,
            "reasons": list(self.verdict.reasons),
            "paths": list(self.paths),
            "checkers": {name: r.to_json() for name, r in self.per_checker.items()},
            "findings": [f.model_dump(mode="json") for f in self.findings],
            "blocking": [f.model_dump(mode="json") for f in self.verdict.blocking],
            "ignored": [
                {**f.model_dump(mode="json"), "reason": reason}
                for f, reason in self.verdict.ignored
            ],
        }


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    """The one deterministic order: path, line, checker, rule, message."""
    return sorted(
        findings, key=lambda f: (f.path, f.line or 0, f.checker, f.rule, f.message, f.severity)
    )


def run_checks(
    tree: Mapping[str, File],
    *,
    changed: Collection[str] | None,
    policy: Policy,
    cache: CheckCache | None,
    types: bool = False,
    checkers: Sequence[Checker] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> CheckRun:
    """Check the ``changed`` paths of ``tree`` (every path when None) and apply ``policy``."""
    if checkers is None:
        from bot.checks.registry import default_checkers

        checkers = default_checkers()
    targets = sorted(tree) if changed is None else sorted(p for p in set(changed) if p in tree)
    digests = {p: tree[p].sha256 for p in targets}  # File.sha256 hashes on every access
    findings: list[Finding] = []
    partial: dict[str, CheckerResult] = {}
    errors: dict[str, str] = {}
    for checker in checkers:
        if not policy.enabled(checker.name):
            partial[checker.name] = CheckerResult(checker.name, checker.version, "disabled")
            continue
        started = clock()
        settings = dict(policy.for_checker(checker.name).options)
        if types and checker.name == "validator":
            settings["types"] = True
        paths = [p for p in targets if checker.applies_to(p)]
        ctx = CheckContext(tree=tree, paths=paths, settings=settings)
        try:
            found, cached = _run_one(checker, ctx, cache, digests)
        except CheckError as exc:
            errors[checker.name] = exc.diagnostics()
            found, cached = [], 0
        except Exception as exc:  # a crashing checker must block, not pass silently
            errors[checker.name] = f"crashed: {type(exc).__name__}: {exc}"
            found, cached = [], 0
        findings += found
        counts = Counter(f.severity.value for f in found)
        partial[checker.name] = CheckerResult(
            name=checker.name,
            version=checker.version,
            status="error" if checker.name in errors else "passed",
            files=len(paths),
            cached=cached,
            counts={s.value: counts[s.value] for s in Severity if counts[s.value]},
            duration_s=clock() - started,
            error=errors.get(checker.name),
        )
    ordered = sort_findings(findings)
    verdict = policy.evaluate(ordered, errors=errors)
    blocking = Counter(f.checker for f in verdict.blocking)
    per_checker: dict[str, CheckerResult] = {}
    for name, result in partial.items():
        status: Status = result.status
        if status == "passed" and blocking[name]:
            status = "failed"
        per_checker[name] = CheckerResult(
            name=result.name,
            version=result.version,
            status=status,
            files=result.files,
            cached=result.cached,
            counts=result.counts,
            blocking=blocking[name],
            duration_s=result.duration_s,
            error=result.error,
        )
    return CheckRun(findings=ordered, verdict=verdict, per_checker=per_checker, paths=targets)


def _run_one(
    checker: Checker, ctx: CheckContext, cache: CheckCache | None, digests: Mapping[str, str]
) -> tuple[list[Finding], int]:
    """Findings for ``ctx.paths``: cached ones looked up in one batch, the misses checked in one."""
    if not ctx.paths:
        return [], 0
    config = checker.config_digest(ctx)
    keys = {
        p: cache_key(
            checker.name,
            checker.version,
            config,
            digests[p],
            checker.dependency_fingerprint(p, ctx),
        )
        for p in ctx.paths
    }
    hits = cache.get_many(keys.values()) if cache is not None else {}
    found: list[Finding] = []
    misses: list[str] = []
    for p in ctx.paths:
        cached = hits.get(keys[p])
        if cached is None:
            misses.append(p)
        else:
            # Entries are stored without their path: one content at two paths shares a key.
            found += [f.model_copy(update={"path": p}) if not f.path else f for f in cached]
    if misses:
        fresh = checker.check_files(misses, CheckContext(ctx.tree, misses, ctx.settings))
        store: dict[str, tuple[str, list[Finding]]] = {}
        for p in misses:
            results = fresh.get(p, [])
            found += results
            store[keys[p]] = (
                checker.name,
                [f.model_copy(update={"path": ""}) if f.path == p else f for f in results],
            )
        extra = set(fresh) - set(misses)
        for p in sorted(extra):
            found += fresh[p]
        if cache is not None:
            cache.put_many(store)
    return found, len(ctx.paths) - len(misses)
