"""Benchmark: check a fleet of rendered FastAPI services cold, then warm, through the cache.

Renders N consumers of `templates/fastapi-service` (different names, options and small local
edits), then times: one consumer checked with an empty cache; the whole fleet with an empty
cache (cold); the whole fleet again (warm, fresh process state: parse memo cleared, cache
reopened). A figure, not a test:

    .venv/bin/python bench/check_cache.py --consumers 200
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.checks import CheckCache, load_policy, run_checks
from bot.checks.validator import clear_parse_memo
from bot.template import open_template, render_template, resolve_answers
from bot.tree import File, Tree

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "fastapi-service"


def answers_for(i: int) -> dict[str, Any]:
    """Small per-consumer differences, like a real fleet: names, teams, options."""
    return {
        "service_name": f"svc{i:03d}",
        "description": f"Service number {i}.",
        "owner_team": ("payments", "search", "platform", "identity")[i % 4],
        "python_version": ("3.11", "3.12", "3.13")[i % 3],
        "http_port": 8000 + (i % 5),
        "use_database": i % 4 == 0,
        "metrics": i % 3 != 0,
    }


def render_fleet(n: int) -> list[Tree]:
    trees: list[Tree] = []
    with open_template(str(TEMPLATE)) as template:
        for i in range(n):
            resolved = resolve_answers(template.manifest, answers_for(i))
            tree = dict(render_template(template, resolved.values))
            if i % 10 == 7:  # a few consumers carry a local module of their own
                tree[f"src/svc{i:03d}/local_{i}.py"] = File(
                    f'"""Local edit {i}."""\n\nLIMIT = {i}\n'.encode()
                )
            trees.append(tree)
    return trees


def check_fleet(trees: list[Tree], cache_path: Path) -> tuple[float, int]:
    policy = load_policy(None, None)
    started = time.perf_counter()
    findings = 0
    with CheckCache(cache_path) as cache:
        for tree in trees:
            run = run_checks(tree, changed=None, policy=policy, cache=cache)
            errors = [r.error for r in run.per_checker.values() if r.error]
            if errors:
                raise SystemExit(f"a checker could not run: {errors[0]}")
            findings += len(run.findings)
    return time.perf_counter() - started, findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consumers", type=int, default=200, help="fleet size (default 200)")
    args = parser.parse_args()
    n = max(1, args.consumers)

    started = time.perf_counter()
    trees = render_fleet(n)
    files = sum(len(t) for t in trees)
    distinct = len({f.sha256 for t in trees for f in t.values()})
    print(
        f"rendered {n} consumers ({files} files, {distinct} distinct contents) "
        f"in {time.perf_counter() - started:.1f}s"
    )

    with tempfile.TemporaryDirectory(prefix="evobot-bench-") as tmp:
        clear_parse_memo()
        one, _ = check_fleet(trees[:1], Path(tmp) / "one.sqlite")
        clear_parse_memo()
        cold, cold_findings = check_fleet(trees, Path(tmp) / "fleet.sqlite")
        clear_parse_memo()
        warm, warm_findings = check_fleet(trees, Path(tmp) / "fleet.sqlite")
    if warm_findings != cold_findings:
        raise SystemExit(f"warm run found {warm_findings} findings, cold {cold_findings}")

    print(f"one consumer, empty cache : {one:8.3f}s")
    print(
        f"cold fleet ({n:>4})        : {cold:8.3f}s  = {cold / one:6.1f}x one consumer "
        f"({cold / n:.3f}s each)"
    )
    print(
        f"warm fleet ({n:>4})        : {warm:8.3f}s  = {warm / one:6.1f}x one consumer "
        f"({warm / n * 1000:.1f}ms each)"
    )
    print(f"cold / warm               : {cold / warm:8.1f}x")
    print(f"findings per run          : {cold_findings} cold, {warm_findings} warm (equal)")


if __name__ == "__main__":
    main()
