"""`evobot pr open` and `evobot pr revert` work end to end with App credentials from the env."""

from __future__ import annotations

import json
from pathlib import Path

from evobot_cli_support import invoke_evobot
from forge_helpers import emulated

from bot.pipeline import EvolvePrResult, RevertPrResult


def test_pr_open_then_revert_through_the_cli(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, _forge):
        env = {
            "EVOBOT_APP_ID": str(emu.app_id),
            "EVOBOT_PRIVATE_KEY": emu.private_key_pem,
            "EVOBOT_GITHUB_URL": emu.api_url,
            "EVOBOT_WRITE_INTERVAL": "0",
            "GITHUB_TOKEN": "",
        }
        opened = invoke_evobot(
            "pr",
            "open",
            "--repo",
            "acme/svc1",
            "--vcs-ref",
            "v2",
            "--json",
            "--cache-dir",
            str(tmp_path / "cache"),
            env=env,
        )
        assert opened.exit_code == 0, opened.output
        result = json.loads(opened.stdout)
        # --json prints the use case's typed result, serialized: every field, always.
        assert set(result) == set(EvolvePrResult("r", "a", "b", "created", "m").to_json())
        assert {"from", "to", "number", "url", "branch", "commit", "checks"} <= set(result)
        assert result["action"] == "created"
        assert (result["from"], result["to"]) == ("v1", "v2")
        assert emu.private_key_pem.splitlines()[1] not in opened.output

        again = invoke_evobot("pr", "open", "--repo", "acme/svc1", "--vcs-ref", "v2", env=env)
        assert again.exit_code == 0, again.output
        assert "already carries this change" in again.stdout

        emu.merge("acme/svc1", result["number"])
        reverted = invoke_evobot(
            "pr",
            "revert",
            "--repo",
            "acme/svc1",
            "--pr",
            str(result["number"]),
            "--json",
            env=env,
        )
        assert reverted.exit_code == 0, reverted.output
        revert = json.loads(reverted.stdout)
        assert set(revert) == set(RevertPrResult("r", "created", "b", "m").to_json())
        assert revert["action"] == "created"
        assert revert["failing_checks"] == [] and revert["checks_unknown"] is None
        assert emu.files("acme/svc1", revert["branch"])["app.py"] == b"print('v1')\n"


def test_pr_open_with_a_plain_token(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, _forge):
        token = emu.installation_token("acme")
        env = {
            "GITHUB_TOKEN": token,
            "EVOBOT_GITHUB_URL": emu.api_url,
            "EVOBOT_WRITE_INTERVAL": "0",
            "EVOBOT_APP_ID": "",
            "EVOBOT_PRIVATE_KEY": "",
        }
        opened = invoke_evobot(
            "pr",
            "open",
            "--repo",
            "acme/svc1",
            "--vcs-ref",
            "v3",
            "--json",
            "--label",
            "evobot",
            env=env,
        )
        assert opened.exit_code == 0, opened.output
        result = json.loads(opened.stdout)
        assert result["branch"] == "evobot/svc/v3"
        assert result["labels"] == ["evobot"]
        assert emu.pull("acme/svc1", result["number"])["labels"] == ["evobot"]
        assert token not in opened.output
