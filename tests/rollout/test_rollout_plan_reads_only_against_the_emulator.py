"""`evobot rollout plan` against the GitHub emulator: it finds the App's consumers of the
template, plans the waves and runs the preflight, and makes no write request at all; the forge's
rollout calls (list the App's repositories, set a commit status) work over HTTP."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "forge"))

from evobot_cli_support import invoke_evobot
from forge_helpers import emulated, installation_requests, writes


def test_plan_with_preflight_writes_nothing(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu", consumers=3) as (emu, _forge):
        env = {
            "EVOBOT_APP_ID": str(emu.app_id),
            "EVOBOT_PRIVATE_KEY": emu.private_key_pem,
            "EVOBOT_GITHUB_URL": emu.api_url,
            "EVOBOT_WRITE_INTERVAL": "0",
            "GITHUB_TOKEN": "",
            "EVOBOT_CACHE_DIR": str(tmp_path / "checks"),
        }
        emu.reset_counters()
        planned = invoke_evobot(
            "rollout",
            "plan",
            "--template",
            "acme/tpl",
            "--to",
            "v2",
            "--json",
            "--no-checks",
            "--cache-dir",
            str(tmp_path / "cache"),
            env=env,
        )
        assert planned.exit_code == 0, planned.output
        report = json.loads(planned.stdout)
        counts = installation_requests(emu)
        assert writes(counts) == 0, counts
        assert (
            counts.get("GET /repos/{owner}/{repo}/tarball/{ref}", 0)
            + counts.get("GET /repos/{owner}/{repo}/tarball", 0)
            >= 3
        ), counts  # it did read every consumer
        repos = [r for w in report["plan"]["waves"] for r in w["repos"]]
        assert sorted(repos) == ["acme/svc1", "acme/svc2", "acme/svc3"]
        assert report["plan"]["canary_sampled"] is True
        assert report["preflight"]["passed"] is True
        assert report["preflight"]["totals"]["changed"] == 3
        assert report["policy"]["waves"] == [10.0, 50.0, 100.0]

        text = invoke_evobot(
            "rollout", "plan", "--template", "acme/tpl", "--to", "v2", "--no-preflight", env=env
        )
        assert text.exit_code == 0, text.output
        assert "rollout of acme/tpl v2: 3 consumers" in text.stdout
        assert "canary (sampled): 1" in text.stdout


def test_forge_lists_the_apps_repositories_and_sets_a_commit_status(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu", consumers=2) as (_emu, forge):
        assert forge.list_app_repositories() == ["acme/svc1", "acme/svc2", "acme/tpl"]
        tag = forge.get_commit("acme/tpl", "v2").sha
        for _ in range(2):
            forge.set_commit_status(
                "acme/tpl",
                tag,
                state="failure",
                context="evobot/preflight",
                description="preflight of v2 failed: conflicts in 2 of 2 consumers",
            )
        state = forge.commit_state("acme/tpl", tag)
        (check,) = [c for c in state.checks if c.name == "evobot/preflight"]
        assert check.state == "failure" and state.state == "failure"
