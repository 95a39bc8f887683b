"""Run every enabled checker over a tree through the content-addressed cache, then the policy.

Only cache misses reach a checker, in one batch per checker, so ruff and bandit run once over
just the files nobody has checked before. When only changed files are checked, each checker
also re-judges the files whose :meth:`~bot.checks.base.Checker.dependencies` include a changed
path. A checker that cannot run is reported as an error that blocks, never as a silent pass.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.checks.base import CheckContext, Checker, Finding, Severity
from bot.checks.cache import CheckCache, cache_key
from bot.checks.options import CheckerOptions
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
    """The outcome of checking one tree: sorted findings, per-checker results, the verdict.

    ``paths`` are the files checked (every file, or the changed ones still in the tree);
    ``dependents`` the unchanged files some checker re-judged because they read a changed path.
    """

    findings: list[Finding]
    verdict: Verdict
    per_checker: dict[str, CheckerResult]
    paths: list[str]
    dependents: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.verdict.passed,
            "reasons": list(self.verdict.reasons),
            "paths": list(self.paths),
            "dependents": list(self.dependents),
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
    base: Mapping[str, File] | None = None,
) -> CheckRun:
    """Check the ``changed`` paths of ``tree`` (every path when None) and apply ``policy``.

    ``changed`` may name paths missing from ``tree`` (deleted files): they are not judged, but
    like every changed path they make each checker re-judge the files that depend on them.
    ``base``, the tree before the change when the caller has it, narrows those dependents to
    the ones whose dependency fingerprint differs between ``base`` and ``tree`` (by the
    fingerprint's contract the others' findings are what they were), and makes a checker whose
    config digest differs between the two (its configuration in the tree was edited) judge
    every file it applies to. Each checker gets its typed options from ``policy``; ``types``
    turns on the validator's ``types`` option (mypy) for this run.
    """
    if checkers is None:
        from bot.checks.registry import default_checkers

        checkers = default_checkers()
    wanted = None if changed is None else frozenset(changed)
    targets = sorted(tree) if wanted is None else sorted(p for p in wanted if p in tree)
    digests = _Digests(tree)
    dependents: set[str] = set()
    findings: list[Finding] = []
    partial: dict[str, CheckerResult] = {}
    errors: dict[str, str] = {}
    for checker in checkers:
        if not policy.enabled(checker.name):
            partial[checker.name] = CheckerResult(checker.name, checker.version, "disabled")
            continue
        started = clock()
        paths = [p for p in targets if checker.applies_to(p)]
        try:
            options = policy.options_for(checker.name, checker.options_model)
            if types and "types" in type(options).model_fields:
                options = options.model_copy(update={"types": True})
            if wanted is not None:
                extra = _dependents(checker, tree, options, wanted, base)
                dependents.update(extra)
                paths = sorted({*paths, *extra})
            ctx = CheckContext(tree=tree, paths=paths, options=options)
            found, cached = _run_one(checker, ctx, cache, digests)
            # After the cache: the test-code policy is the consumer's, not the checker's.
            found = policy.for_test_code(found)
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
    return CheckRun(
        findings=ordered,
        verdict=verdict,
        per_checker=per_checker,
        paths=targets,
        dependents=sorted(dependents),
    )


class _Digests(dict[str, str]):
    """Content digests of the tree's files, each computed once (``File.sha256`` hashes on every
    access)."""

    def __init__(self, tree: Mapping[str, File]) -> None:
        super().__init__()
        self._tree = tree

    def __missing__(self, path: str) -> str:
        digest = self[path] = self._tree[path].sha256
        return digest


def _dependents(
    checker: Checker,
    tree: Mapping[str, File],
    options: CheckerOptions,
    changed: frozenset[str],
    base: Mapping[str, File] | None,
) -> list[str]:
    """The unchanged files ``checker`` judges whose verdict reads a changed path (all of them
    when ``base`` shows the checker's configuration in the tree was edited).

    A deleted path is put back (as it was in ``base``, else empty) while the checker is asked,
    so that it is named by the files that read it when it was there (a removed
    `requirements.txt` still re-judges imports).
    """
    if not changed:
        return []
    missing = [p for p in changed if p not in tree]
    probe: Mapping[str, File] = tree
    if missing:
        old = base or {}
        probe = {**tree, **{p: old.get(p, File(b"")) for p in missing}}
    candidates = [p for p in tree if p not in changed and checker.applies_to(p)]
    if base is not None and _reconfigured(checker, tree, base, options):
        return candidates
    ctx = CheckContext(tree=probe, paths=candidates, options=options)
    found = [p for p in candidates if not changed.isdisjoint(checker.dependencies(p, ctx))]
    if base is None or not found:
        return found
    # Each tree's fingerprints in one go: checkers memoise facts about the last tree they saw.
    now = CheckContext(tree=tree, paths=found, options=options)
    after = {p: checker.dependency_fingerprint(p, now) for p in found}
    before_ctx = CheckContext(tree=base, paths=found, options=options)

    def differs(p: str) -> bool:
        if base.get(p) != tree[p]:
            return True
        try:
            return checker.dependency_fingerprint(p, before_ctx) != after[p]
        except CheckError:  # the old tree was broken for this checker: judge again
            return True

    return [p for p in found if differs(p)]


def _reconfigured(
    checker: Checker,
    tree: Mapping[str, File],
    base: Mapping[str, File],
    options: CheckerOptions,
) -> bool:
    """Whether the tree's own configuration of ``checker`` (a `[tool.ruff]` table, say)
    differs between ``base`` and ``tree``, so that every file it judges may judge differently."""
    try:
        before = checker.config_digest(CheckContext(tree=base, paths=(), options=options))
    except CheckError:
        return True
    return before != checker.config_digest(CheckContext(tree=tree, paths=(), options=options))


def _run_one(
    checker: Checker, ctx: CheckContext, cache: CheckCache | None, digests: _Digests
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
        fresh = checker.check_files(misses, CheckContext(ctx.tree, misses, ctx.options))
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
