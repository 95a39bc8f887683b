"""Checks over an evolved tree: the checkers and their typed options, the policy that judges
their findings, the content-addressed cache, and the runner that ties them together."""

from __future__ import annotations

from bot.checks.base import CheckContext, Checker, Finding, Severity
from bot.checks.cache import CheckCache, cache_key, default_cache_path
from bot.checks.policy import CheckerPolicy, IgnoreRule, Policy, Verdict, load_policy
from bot.checks.registry import checker_names, default_checkers
from bot.checks.runner import CheckerResult, CheckRun, run_checks, sort_findings

__all__ = [
    "CheckCache",
    "CheckContext",
    "CheckRun",
    "Checker",
    "CheckerPolicy",
    "CheckerResult",
    "Finding",
    "IgnoreRule",
    "Policy",
    "Severity",
    "Verdict",
    "cache_key",
    "checker_names",
    "default_cache_path",
    "default_checkers",
    "load_policy",
    "run_checks",
    "sort_findings",
]
