"""A rollout of one template release to N consumers (500 by default) through the webhook
service, against the GitHub emulator on an accelerated clock: how many emulated hours it takes,
PRs opened per emulated hour against the flood ceiling (`flood.max_new_prs_per_hour`), GitHub
requests per PR, and rate-limit hits (which must be zero).

    python bench/rollout.py [--consumers 500] [--speed 500] [--workers 2] [--json]

A maintainer merges every green PR as soon as the service has seen its checks; bake time 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rollout_loop import FINISHED, INSTALLATION, fleet_seed, rollout_loop


def run(consumers: int, speed: float, workers: int, timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        seed = fleet_seed(consumers, canaries=max(1, consumers // 100))
        with rollout_loop(Path(tmp), seed, speed=speed, workers=workers) as loop:
            loop.gh.reset_counters()
            started, wall = loop.now, time.monotonic()
            key = loop.release("v1.1.0")
            state = loop.drive(key, until=FINISHED, timeout=timeout)
            hours = (loop.now - started) / 3600
            counts = loop.gh.counters.snapshot()["installations"].get(str(INSTALLATION), {})
            requests = sum(int(n) for n in counts.values())
            opened = sum(1 for c in state.consumers if c.number is not None)
            ceiling = loop.service.rollouts.policy(  # type: ignore[union-attr]
                loop.service.forge, "acme/tpl", "v1.1.0"
            ).flood.max_new_prs_per_hour
            return {
                "consumers": consumers,
                "status": state.status,
                "emulated_hours": round(hours, 2),
                "wall_seconds": round(time.monotonic() - wall, 1),
                "prs_opened": opened,
                "prs_per_hour": round(opened / hours, 1) if hours else None,
                "ceiling_per_hour": ceiling,
                "requests": requests,
                "requests_per_pr": round(requests / opened, 1) if opened else None,
                "secondary_limit_hits": loop.gh.secondary_limit_hits,
                "primary_limit_hits": loop.gh.primary_limit_hits,
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consumers", type=int, default=500)
    parser.add_argument("--speed", type=float, default=500.0, help="emulated seconds per second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=3600.0, help="wall seconds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.consumers, args.speed, args.workers, args.timeout)
    if args.json:
        print(json.dumps(result))
        return
    for name, value in result.items():
        print(f"{name:22} {value}")


if __name__ == "__main__":
    main()
