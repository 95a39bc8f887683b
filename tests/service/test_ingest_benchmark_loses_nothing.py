"""`bench/webhook_ingest.py --json` runs (so it runs in CI) and loses no delivery: every POST is
acknowledged 202 and stored. No timing is asserted; the figures are for people."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from evobot_testing import REPO_ROOT


def test_the_ingest_benchmark_runs_and_loses_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "bench/webhook_ingest.py", "--json", "--deliveries", "200"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)["results"]
    engines = [r["engine"] for r in results]
    assert engines[0] == "sqlite"
    if os.environ.get("EVOBOT_TEST_POSTGRES_URL"):
        assert engines == ["sqlite", "postgresql"]
    for r in results:
        assert r["lost"] == 0, r
        assert r["statuses"] == {"202": 200}, r
        assert r["per_second"] > 0 and r["p99_ms"] >= r["p50_ms"] > 0
