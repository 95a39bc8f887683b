"""A worker process for the kill test: `evobot worker` as the service runs it, but on a clock
as fast as the emulator's (from EVOBOT_TEST_CLOCK_SPEED / _NOW / _WALL) and with the rollout
options of the loop (checks off). Run as a script: python rollout_worker_main.py CACHE_DIR."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from rollout_loop import loop_rollout_options  # noqa: E402

from bot.emulator.clock import EmulatorClock  # noqa: E402
from bot.service import Service, load_settings  # noqa: E402
from bot.service.logs import configure_logging  # noqa: E402


def main() -> None:
    speed = float(os.environ["EVOBOT_TEST_CLOCK_SPEED"])
    start = float(os.environ["EVOBOT_TEST_CLOCK_NOW"])
    start += (time.time() - float(os.environ["EVOBOT_TEST_CLOCK_WALL"])) * speed
    clock = EmulatorClock(speed=speed, start=start)
    settings = load_settings(workers=1)
    configure_logging()
    service = Service.build(
        settings,
        clock=clock,
        rollouts=loop_rollout_options(Path(sys.argv[1]), reconcile_interval=settings.heal_interval),
    )
    service.run_workers(settings.workers)


if __name__ == "__main__":
    main()
