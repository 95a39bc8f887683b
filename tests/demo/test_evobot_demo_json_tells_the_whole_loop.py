"""`evobot demo --json`: the emulator and the service run the whole loop — canary wave, waves
advancing, one consumer red after its merge, its revert PR, the rollout halted, resumed by a
maintainer and completed — and the summary says so in the documented shape. `--local` is still
the walk-through that evolves one service on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CONSUMER_KEYS = {
    "repo",
    "canary",
    "wave",
    "status",
    "pr",
    "pr_state",
    "checks",
    "reverted",
    "revert_pr",
}


def _evobot(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_demo_json_ends_with_a_revert_pr_and_the_rollout_resumed_to_the_end(
    tmp_path: Path,
) -> None:
    completed = _evobot("demo", "--json", "--repos", "4", "--dir", str(tmp_path / "demo"))

    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    assert report["ok"] is True
    assert report["stopped"] is None
    assert report["rollout"]["key"] == "acme/fastapi-service@v1.1.0"
    assert report["rollout"]["state"] == "completed"
    assert report["halted"] is True
    assert report["resumed"] is True
    waves = report["waves"]
    assert [w["status"] for w in waves] == ["passed"] * len(waves)
    assert len(waves) >= 2
    canary_wave = waves[0]["consumers"]
    assert [c["canary"] for c in canary_wave] == [True, True]
    consumers = [c for w in waves for c in w["consumers"]]
    assert len(consumers) == 4
    assert all(set(c) == CONSUMER_KEYS for c in consumers)
    assert all(c["pr_state"] == "merged" and c["checks"]["pr"] == "success" for c in consumers)
    broken = report["broken_consumer"]
    reverted = [c for c in consumers if c["reverted"]]
    assert [c["repo"] for c in reverted] == [broken]
    assert reverted[0]["status"] == "reverted"
    assert reverted[0]["checks"]["default_branch"] == "failure"
    assert not reverted[0]["canary"]
    assert [(r["repo"], r["number"]) for r in report["revert_prs"]] == [
        (broken, reverted[0]["revert_pr"])
    ]
    assert report["resumed_by"] == {"user": "maria", "repo": broken, "number": reverted[0]["pr"]}
    events = [t["event"] for t in report["transitions"]]
    assert "RevertOpened" in events
    assert "Resume" in events
    assert (tmp_path / "demo" / "service" / "evobot.db").is_file()


def test_demo_local_is_the_walk_through_on_disk(tmp_path: Path) -> None:
    completed = _evobot(
        "demo", "--local", "--json", "--skip-service-checks", "--dir", str(tmp_path / "local")
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    assert report["ok"] is True
    assert report["to"]["ref"] == "v1.1.0"
    assert Path(report["consumer"], ".evobot.yml").is_file()
