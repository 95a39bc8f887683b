"""`command: update` opens the consumer's evolution PR, and with only GITHUB_TOKEN says that CI
will not run on it, in the job summary and in the PR body; with an App token it does not."""

from __future__ import annotations

import json
from pathlib import Path

from action_support import emulator_seed, run_action, webhook_example
from evobot_cli_support import invoke_evobot

from bot.emulator.testing import running_emulator


def test_update_with_the_workflow_token_opens_the_pr_and_warns_ci_will_not_run(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    with running_emulator(emulator_seed(), tmp_path / "emu") as emu:
        token = emu.installation_token("acme")
        ran = run_action(
            tmp_path,
            inputs={"command": "update", "template-ref": "v2"},
            repository="acme/svc1",
            workspace=workspace,
            event=webhook_example(fixtures_dir, "push", ref="refs/heads/master"),
            event_name="schedule",
            api_url=emu.api_url,
            workflow_token=token,  # `token` defaults to github.token: the workflow's own
            extra_env={"EVOBOT_CACHE_DIR": str(tmp_path / "cache")},
        )
        assert not ran.failed, ran.log
        number = int(ran.outputs["pr-number"])
        pull = emu.pull("acme/svc1", number)
        url = ran.outputs["pr-url"]
        assert url.endswith(f"/acme/svc1/pull/{number}")
        assert ran.outputs["blocked"] == "false"
        assert json.loads(ran.outputs["conflicts"]) == []
        assert "CI will not run on this PR" in pull["body"]
        assert "app-id" in pull["body"] and "create-github-app-token" in pull["body"]
        # The note is part of the body: a re-run recognises its own PR and writes nothing.
        again = run_action(
            tmp_path / "again",
            inputs={"command": "update", "template-ref": "v2"},
            repository="acme/svc1",
            workspace=workspace,
            api_url=emu.api_url,
            workflow_token=token,
            extra_env={"EVOBOT_CACHE_DIR": str(tmp_path / "cache")},
        )
        assert not again.failed, again.log
        assert again.outputs["pr-number"] == str(number)
        assert "already carries this change" in again.summary
    assert f"[#{number}]({url})" in ran.summary
    assert "CI will not run on this PR" in ran.summary
    assert "### Churn" in ran.summary and "`app.py`" in ran.summary
    assert "v1 → v2" in ran.summary
    assert "::notice title=evobot::CI will not run" in ran.log
    assert token not in ran.log + ran.summary


def test_update_with_an_app_token_opens_a_pr_that_runs_ci(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    with running_emulator(emulator_seed(), tmp_path / "emu") as emu:
        ran = run_action(
            tmp_path,
            inputs={"command": "update", "app-id": "12345", "private-key": "(a PEM)"},
            repository="acme/svc1",
            workspace=workspace,
            api_url=emu.api_url,
            workflow_token="ghs_the_workflow_token_that_cannot_write",
            app_token=emu.installation_token("acme"),  # what create-github-app-token mints
            extra_env={"EVOBOT_CACHE_DIR": str(tmp_path / "cache")},
        )
        assert not ran.failed, ran.log
        pull = emu.pull("acme/svc1", int(ran.outputs["pr-number"]))
    assert "CI will not run" not in pull["body"]
    assert "CI will not run" not in ran.summary
    assert "Result: **passed**" in ran.summary


def test_a_note_too_long_for_a_pr_body_is_refused_before_any_request(tmp_path: Path) -> None:
    ran = invoke_evobot(
        "pr", "open", "--repo", "acme/svc1", "--note", "x" * 2001, env={"GITHUB_TOKEN": "t"}
    )
    assert ran.exit_code == 1
    assert "a --note of 2001 characters is too long" in ran.message
