"""A template version that adds a live-looking token is never pushed to any consumer.

`evobot pr open` against the emulator: the secrets checker blocks, so no branch, no commit, no
PR is written, the outcome says `blocked: secret in template output`, and the token appears in
nothing evobot prints. An evolution PR already open from an earlier run is left as it was.
"""

from __future__ import annotations

import json
import random
import string
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "forge"))

from evobot_cli_support import invoke_evobot
from forge_helpers import installation_requests, make_forge, seed, writes

from bot.emulator.clock import EmulatorClock
from bot.emulator.handle import EmulatorHandle
from bot.emulator.testing import running_emulator
from bot.forge import GitHubForge
from bot.pipeline import (
    CheckOptions,
    EvolvePrOptions,
    EvolvePrResult,
    GitTemplateFetcher,
    evolve_pr,
)


def github_token() -> str:
    """A classic personal access token in GitHub's real shape, built here so no scanner of
    this repository ever sees one in the source."""
    rnd = random.Random()
    prefix = "gh" + "p" + "_"
    return prefix + "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(36))


def seed_with_secret(token: str) -> dict[str, Any]:
    """The forge tests' fleet, whose template v2 also adds `settings.py` holding ``token``."""
    data = seed()
    v2 = data["repos"][0]["commits"][1]
    v2["files"]["files/settings.py"] = f'GITHUB_API = "https://api.github.com"\nTOKEN = "{token}"\n'
    return data


def evobot_branches(emu: EmulatorHandle, repo: str) -> dict[str, str]:
    return emu.emulator.git(repo).refs("refs/heads/evobot")


def cli_env(emu: EmulatorHandle, tmp_path: Path) -> dict[str, str]:
    return {
        "EVOBOT_APP_ID": str(emu.app_id),
        "EVOBOT_PRIVATE_KEY": emu.private_key_pem,
        "EVOBOT_GITHUB_URL": emu.api_url,
        "EVOBOT_WRITE_INTERVAL": "0",
        "EVOBOT_CACHE_DIR": str(tmp_path / "evobot-cache"),
        "GITHUB_TOKEN": "",
    }


def test_pr_open_blocks_and_writes_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    token = github_token()
    state = tmp_path / "emu"
    with running_emulator(seed_with_secret(token), state, clock=EmulatorClock(speed=200)) as emu:
        emu.reset_counters()
        result = invoke_evobot(
            "pr",
            "open",
            "--repo",
            "acme/svc1",
            "--vcs-ref",
            "v2",
            "--json",
            "--cache-dir",
            str(tmp_path / "template-cache"),
            env=cli_env(emu, tmp_path),
        )
        assert result.exit_code == 1, result.output
        outcome = json.loads(result.stdout)
        assert outcome["action"] == "blocked"
        assert outcome["blocked_by"] == "secrets"
        assert outcome["message"].startswith("blocked: secret in template output")
        assert "github-token at settings.py:2" in outcome["message"]
        assert outcome["number"] is None and outcome["commit"] is None
        assert outcome["checks"]["passed"] is False

        assert evobot_branches(emu, "acme/svc1") == {}
        assert emu.pulls("acme/svc1") == []
        assert writes(installation_requests(emu)) == 0

        captured = capfd.readouterr()
        for text in (result.output, result.stdout, captured.out, captured.err, caplog.text):
            assert token not in text
            assert token[4:20] not in text


def evolve(
    forge: GitHubForge, cache: Path, checks: CheckOptions, vcs_ref: str = "main"
) -> EvolvePrResult:
    return evolve_pr(
        forge,
        "acme/svc1",
        clock=forge.clock,
        templates=GitTemplateFetcher(cache),
        options=EvolvePrOptions(vcs_ref=vcs_ref, checks=checks),
    )


def test_an_earlier_evolution_pr_is_left_as_it_was(tmp_path: Path) -> None:
    token = github_token()
    checks = CheckOptions(cache_path=tmp_path / "checks.sqlite")
    with running_emulator(seed(), tmp_path / "emu", clock=EmulatorClock(speed=200)) as emu:
        forge = make_forge(emu)
        cache = tmp_path / "template-cache"
        emu.push_commit("acme/tpl", "main", {"files/app.py": "print('main')\n"}, "clean change")
        first = evolve(forge, cache, checks)
        assert first.action == "created"
        head = emu.branch_sha("acme/svc1", first.branch)
        body = emu.pull("acme/svc1", first.number)["body"]

        emu.push_commit(
            "acme/tpl", "main", {"files/deploy.env": f"GH_TOKEN={token}\n"}, "add a token"
        )
        emu.reset_counters()
        again = evolve(forge, cache, checks)

        assert again.action == "blocked"
        assert f"#{first.number} from an earlier run was left as it was" in again.message
        assert again.number == first.number
        assert emu.branch_sha("acme/svc1", first.branch) == head
        assert emu.pull("acme/svc1", first.number)["body"] == body
        assert writes(installation_requests(emu)) == 0
        assert token not in json.dumps(again.to_json())


def test_other_blocking_findings_still_open_the_pr(tmp_path: Path) -> None:
    # Only a secret stops the push: code findings are for reviewers, in the PR body.
    checks = CheckOptions(cache_path=tmp_path / "checks.sqlite")
    with running_emulator(seed(), tmp_path / "emu", clock=EmulatorClock(speed=200)) as emu:
        forge = make_forge(emu)
        emu.push_commit("acme/tpl", "main", {"files/app.py": "eval(input())\n"}, "eval")
        opened = evolve(forge, tmp_path / "tc", checks)
        assert opened.action == "created"
        assert opened.checks is not None and opened.checks.passed is False
