"""The Action's step logic as data: which commands each mode runs, the outputs file format,
and workflow commands and summary cells that show repository text literally."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from action_support import webhook_example
from evobot_cli_support import invoke_evobot


def _run_json(tmp_path: Path, env: dict[str, str], *args: str) -> dict:  # type: ignore[type-arg]
    result = tmp_path / "result.json"
    ran = invoke_evobot("action", "run", "--result", str(result), *args, env=env)
    assert ran.exit_code == 0, ran.output
    return json.loads(result.read_text())


def test_rollout_plans_the_pushed_tag_and_starts_only_with_an_app(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(webhook_example(fixtures_dir, "push", ref="refs/tags/simple-tag")))
    env = {
        "GITHUB_REPOSITORY": "acme/tpl",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_TOKEN": "ghs_workflow",
        "EVOBOT_ACTION_WORKFLOW_TOKEN": "ghs_workflow",
    }
    planned = _run_json(tmp_path, env, "--command", "rollout")
    argv = [s["argv"] for s in planned["steps"]]
    assert argv[0] == [
        "rollout",
        "plan",
        "--template",
        "acme/tpl",
        "--json",
        "--to",
        "simple-tag",
    ]
    assert len(argv) == 1, "the Action plans; the service starts the rollout"

    with_app = _run_json(tmp_path, env, "--command", "rollout", "--app-id", "1")
    assert [s["name"] for s in with_app["steps"]] == ["rollout plan"]

    dry = _run_json(tmp_path, env, "--command", "rollout", "--app-id", "1", "--dry-run")
    assert [s["name"] for s in dry["steps"]] == ["rollout plan"]


def test_an_unknown_command_is_one_error_annotation(tmp_path: Path) -> None:
    env = {"GITHUB_REPOSITORY": "acme/svc"}
    _run_json(tmp_path, env, "--command", "deploy")
    ran = invoke_evobot("action", "annotations", "--result", str(tmp_path / "result.json"))
    assert ran.exit_code == 1
    assert ran.stdout.startswith("::error title=evobot action::command: 'deploy' is not one of")


def test_outputs_are_written_in_the_runner_format(tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    result.write_text(
        json.dumps(
            {
                "command": "update",
                "repository": "acme/svc",
                "steps": [
                    {
                        "name": "pr open",
                        "argv": [],
                        "result": {
                            "url": "https://github.com/acme/svc/pull/4",
                            "number": 4,
                            "conflicts": ["a,b.py", "c.py"],
                            "checks": {"passed": False, "reasons": []},
                        },
                    }
                ],
            }
        )
    )
    out = tmp_path / "github-output"
    ran = invoke_evobot("action", "outputs", "--result", str(result), "--to", str(out))
    assert ran.exit_code == 0, ran.output
    assert out.read_text().splitlines() == [
        "pr-url=https://github.com/acme/svc/pull/4",
        "pr-number=4",
        "rollout-id=",
        'conflicts=["a,b.py", "c.py"]',
        "blocked=true",
    ]


def test_repository_text_cannot_forge_workflow_commands_or_table_cells(tmp_path: Path) -> None:
    hostile = "x.py\n::error::forged,%0A|cell"
    result = tmp_path / "result.json"
    result.write_text(
        json.dumps(
            {
                "command": "check",
                "repository": "acme/svc",
                "steps": [
                    {
                        "name": "check",
                        "argv": [],
                        "exit_code": 1,
                        "result": {
                            "passed": False,
                            "reasons": [],
                            "blocking": [
                                {
                                    "checker": "validator",
                                    "rule": "syntax-error",
                                    "severity": "high",
                                    "path": hostile,
                                    "line": 2,
                                    "message": hostile,
                                }
                            ],
                        },
                    }
                ],
            }
        )
    )
    ran = invoke_evobot("action", "annotations", "--result", str(result))
    assert ran.exit_code == 1
    lines = ran.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("::error file=x.py%0A%3A%3Aerror%3A%3Aforged%2C%250A|cell,line=2,")
    summary = invoke_evobot("action", "summary", "--result", str(result))
    row = next(line for line in summary.stdout.splitlines() if "syntax-error" in line)
    assert "\\|cell" in row and "\n::error" not in summary.stdout


def test_evobot_runs_as_a_module_for_the_action() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stdout.startswith("evobot ")
