"""Open evolution PRs on many emulated consumers and report what it cost.

Starts the GitHub emulator with one template (tags v1, v2) and N consumers rendered from v1,
then evolves every consumer to v2 through the real forge adapter (PyGithub over HTTP), with
the emulator's clock accelerated so pacing and rate-limit windows pass quickly. Prints requests
per PR (mean/max), total time (real and emulated), whether any rate limit was hit, and how close
the run came to GitHub's hourly ceiling of 500 content-creating requests: the most writes the
emulator accepted in any sliding emulated hour (``writes_per_hour_peak``), the most PRs opened
in any such hour (``prs_per_hour``) and the ceiling that allows (500 / writes per PR).

    .venv/bin/python bench/pr_fanout.py --consumers 150 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from bot.emulator.clock import EmulatorClock
from bot.emulator.limits import peak_in_window
from bot.emulator.testing import running_emulator
from bot.forge import AppCredentials, ForgeSettings, GitHubForge
from bot.pipeline import CheckOptions, EvolvePrOptions, GitTemplateFetcher, evolve_pr

HOUR = 3600.0

MANIFEST = "name: svc\nquestions:\n  name:\n    type: str\n    default: demo\n"


def seed(consumers: int) -> dict[str, Any]:
    repos: list[dict[str, Any]] = [
        {
            "full_name": "fleet/tpl",
            "files": {
                "template.yml": MANIFEST,
                "files/README.md": "# {{ name }}\n",
                "files/app.py": "print('v1')\n",
            },
            "commits": [
                {"message": "v1", "tag": "v1"},
                {"message": "v2", "files": {"files/app.py": "print('v2')\n"}, "tag": "v2"},
            ],
        }
    ]
    repos += [
        {
            "full_name": f"fleet/svc{n:04d}",
            "render": {"template": "fleet/tpl", "ref": "v1", "answers": {"name": f"svc{n}"}},
        }
        for n in range(consumers)
    ]
    return {"installations": [{"id": 1, "account": "fleet"}], "repos": repos}


def _created_at(pull: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(pull["created_at"]).replace("Z", "+00:00")).timestamp()


def run(
    consumers: int, speed: float, workers: int, write_interval: float, writes_per_hour: int = 500
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="evobot-fanout-") as tmp:
        root = Path(tmp)
        started = time.monotonic()
        with running_emulator(
            seed(consumers), root / "emu", clock=EmulatorClock(speed=speed)
        ) as emu:
            seeded = time.monotonic() - started
            forge = GitHubForge(
                AppCredentials(str(emu.app_id), emu.private_key_pem),
                settings=ForgeSettings(
                    base_url=emu.api_url,
                    write_interval=write_interval,
                    writes_per_hour=writes_per_hour,
                    concurrency=workers,
                ),
                clock=emu.clock,
            )
            emu.reset_counters()
            emu.reset_limits()
            templates = GitTemplateFetcher(root / "template-cache")
            options = EvolvePrOptions(
                vcs_ref="v2", checks=CheckOptions(cache_path=root / "checks.sqlite")
            )

            def one(repo: str) -> tuple[str, int]:
                forge.reset_thread_requests()
                result = evolve_pr(
                    forge, repo, clock=emu.clock, templates=templates, options=options
                )
                return result.action, forge.thread_requests

            real0, emu0 = time.monotonic(), emu.clock.now()
            names = [f"fleet/svc{n:04d}" for n in range(consumers)]
            with ThreadPoolExecutor(max_workers=workers) as pool:
                outcomes = list(pool.map(one, names))
            real, emulated = time.monotonic() - real0, emu.clock.now() - emu0
            counts = emu.counters.snapshot()["installations"].get("1", {})
            writes = sum(n for e, n in counts.items() if not e.startswith("GET "))
            per_pr = [n for _action, n in outcomes]
            created = sorted(
                _created_at(pull)
                for name in names
                for pull in emu.pulls(name)
                if pull["created_at"] is not None
            )
            writes_per_pr = writes / max(len(created), 1)
            ceiling = emu.emulator.limiter.limits.secondary_per_hour / max(writes_per_pr, 1e-9)
            prs_per_hour = peak_in_window(created, HOUR)
            return {
                "consumers": consumers,
                "prs_created": sum(1 for action, _ in outcomes if action == "created"),
                "requests_per_pr_mean": round(statistics.fmean(per_pr), 2),
                "requests_per_pr_max": max(per_pr),
                "writes_per_pr_mean": round(writes_per_pr, 2),
                "writes_per_hour_peak": emu.emulator.limiter.writes_peak("installation:1"),
                "writes_per_hour_ceiling": emu.emulator.limiter.limits.secondary_per_hour,
                "prs_per_hour": prs_per_hour,
                "prs_per_hour_ceiling": round(ceiling, 1),
                "prs_per_hour_of_ceiling_pct": round(100 * prs_per_hour / ceiling, 1),
                "total_requests": sum(counts.values()),
                "auth_requests": forge.auth_requests,
                "seconds_real": round(real, 1),
                "seconds_emulated": round(emulated, 1),
                "seconds_seeding": round(seeded, 1),
                "secondary_limit_hits": emu.secondary_limit_hits,
                "primary_limit_hits": emu.primary_limit_hits,
                "pacer_waited_emulated_s": round(forge.pacer(1).waited, 1),
                "clock_speed": speed,
                "workers": workers,
            }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consumers", type=int, default=500)
    parser.add_argument("--speed", type=float, default=100.0, help="emulator clock speed-up")
    parser.add_argument("--workers", type=int, default=4, help="consumers evolved at once")
    parser.add_argument("--write-interval", type=float, default=1.0)
    parser.add_argument(
        "--writes-per-hour", type=int, default=500, help="the pacer's hourly write budget"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(30)  # warnings and up
    )
    report = run(
        args.consumers, args.speed, args.workers, args.write_interval, args.writes_per_hour
    )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:>26}: {value}")
        hit = report["secondary_limit_hits"] or report["primary_limit_hits"]
        print(f"{'rate limit hit':>26}: {'yes' if hit else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
