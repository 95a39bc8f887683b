"""`evobot action run|summary|outputs|annotations`: the steps of the GitHub Action (`action.yml`).

`run` reads the Action's inputs (passed by `action.yml` through the environment), runs the
`evobot` commands they call for with `--json` and records them in one JSON file; `summary`,
`outputs` and `annotations` turn that file into the job summary, the step outputs and
`::error file=…,line=…::` lines. `annotations` exits 1 when the job should fail: this is
the one place where the Action turns errors into workflow commands.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli import _action_steps as steps
from bot.cli._output import console
from bot.errors import EvobotError, ReadError, WriteError
from bot.parsing import load_json

__all__ = ["register"]

ResultOption = Annotated[
    Path,
    typer.Option(
        "--result",
        envvar="EVOBOT_ACTION_RESULT",
        help="The JSON file `evobot action run` writes and the other steps read.",
    ),
]

# Environment variables `run` reads only to decide; never handed to the commands it runs.
_PRIVATE_ENV = ("EVOBOT_ACTION_WORKFLOW_TOKEN",)


def _read_run(path: Path) -> steps.ActionRun:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(
            f"{path}: cannot read the result of `evobot action run`: {exc.strerror or exc}",
            hint="run `evobot action run --result FILE` first",
        ) from None
    doc = load_json(data, source=str(path))
    try:
        return steps.ActionRun.from_json(doc)
    except (TypeError, AttributeError) as exc:
        raise ReadError(f"{path}: not a result of `evobot action run` ({exc})") from None


def _append(path: Path | None, text: str) -> None:
    """Append ``text`` to a runner file (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`), or print
    it when there is none (a run outside GitHub Actions)."""
    if path is None:
        sys.stdout.write(text)
        return
    try:
        with path.open("a", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise WriteError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _event(path: str | None, ref: str) -> steps.EventFacts:
    if not path:
        return steps.event_facts(None, ref)
    try:
        payload = load_json(Path(path).read_bytes(), source=f"GITHUB_EVENT_PATH {path}")
    except OSError as exc:
        raise ReadError(f"GITHUB_EVENT_PATH {path}: {exc.strerror or exc}") from None
    return steps.event_facts(payload if isinstance(payload, dict) else None, ref)


def _error_text(stderr: str) -> str | None:
    """The CLI's own error paragraph from its stderr (`error: …` and a `hint:`), if any."""
    match = re.search(r"^error: (.*)", stderr, flags=re.MULTILINE | re.DOTALL)
    text = match.group(1) if match else stderr
    return re.sub(r"\s+", " ", text).strip() or None


def _execute(step: steps.StepRun, env: dict[str, str]) -> steps.StepRun:
    """Run ``evobot ARGV`` in a child process and keep its exit code and `--json` document."""
    argv = [sys.executable, "-m", "bot.cli", *step.argv]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    sys.stderr.write(done.stderr)  # the job log shows what the command said
    result: dict[str, Any] | None
    try:
        parsed = json.loads(done.stdout) if done.stdout.strip() else None
        result = parsed if isinstance(parsed, dict) else None
    except json.JSONDecodeError:
        result = None
    error = _error_text(done.stderr) if done.returncode != 0 else None
    return steps.StepRun(
        step.name, step.argv, done.returncode, result, error, optional=step.optional
    )


def register(app: typer.Typer) -> None:
    """Add `evobot action run|summary|outputs|annotations`."""
    action = typer.Typer(
        help="The steps of the evobot GitHub Action (action.yml); see docs/action.md.",
        no_args_is_help=True,
    )

    @action.command("run")
    def run_cmd(
        result_path: ResultOption,
        command: Annotated[
            str,
            typer.Option(
                "--command", envvar="EVOBOT_ACTION_COMMAND", help="update, check or rollout."
            ),
        ],
        template_ref: Annotated[
            str,
            typer.Option(
                "--template-ref", envvar="EVOBOT_ACTION_TEMPLATE_REF", help="Template version."
            ),
        ] = "",
        policy: Annotated[
            str,
            typer.Option("--policy", envvar="EVOBOT_ACTION_POLICY", help="Org check policy file."),
        ] = "",
        dry_run: Annotated[
            bool,
            typer.Option("--dry-run", envvar="EVOBOT_ACTION_DRY_RUN", help="Plan only."),
        ] = False,
        app_id: Annotated[
            str,
            typer.Option("--app-id", envvar="EVOBOT_ACTION_APP_ID", help="The App's id, if any."),
        ] = "",
    ) -> None:
        """Run the evobot commands the Action's inputs call for and record them in --result."""
        env = dict(os.environ)
        repository = env.get("GITHUB_REPOSITORY", "")
        kind = steps.auth_kind(
            app_id=app_id,
            token=env.get("GITHUB_TOKEN", ""),
            workflow_token=env.get("EVOBOT_ACTION_WORKFLOW_TOKEN", ""),
        )
        for name in _PRIVATE_ENV:
            env.pop(name, None)
        record = steps.ActionRun(command, repository, dry_run=dry_run, auth=kind)
        try:
            if command not in steps.COMMANDS:
                raise EvobotError(
                    f"command: {command!r} is not one of {', '.join(steps.COMMANDS)}",
                    hint="set the Action's `command` input",
                )
            if not repository or "/" not in repository:
                raise EvobotError("GITHUB_REPOSITORY is not set to OWNER/NAME")
            event = _event(env.get("GITHUB_EVENT_PATH"), env.get("GITHUB_REF", ""))
            inputs = steps.ActionInputs(command, template_ref, policy, dry_run)
            planned = steps.plan_steps(inputs, repository=repository, event=event, auth=kind)
            record = steps.ActionRun(command, repository, dry_run=dry_run, auth=kind, event=event)
            done = []
            for step in planned:
                done.append(_execute(step, env))
                if done[-1].result is None and done[-1].exit_code != 0 and not step.optional:
                    break  # e.g. a plan that failed: nothing to start
            record = steps.ActionRun(
                command, repository, dry_run=dry_run, auth=kind, event=event, steps=done
            )
        except EvobotError as exc:
            record = steps.ActionRun(
                command, repository, dry_run=dry_run, auth=kind, error=exc.diagnostics()
            )
        try:
            result_path.write_text(json.dumps(record.to_json(), indent=2) + "\n", "utf-8")
        except OSError as exc:
            raise WriteError(f"{result_path}: cannot write: {exc.strerror or exc}") from None
        console.print(f"evobot action: {command}: recorded in {result_path}", soft_wrap=True)

    @action.command("summary")
    def summary_cmd(
        result_path: ResultOption,
        to: Annotated[
            Path | None,
            typer.Option("--to", envvar="GITHUB_STEP_SUMMARY", help="The job summary file."),
        ] = None,
    ) -> None:
        """Append the job summary (PR link, conflicts, churn and checks) to $GITHUB_STEP_SUMMARY."""
        _append(to, steps.summary(_read_run(result_path)))

    @action.command("outputs")
    def outputs_cmd(
        result_path: ResultOption,
        to: Annotated[
            Path | None,
            typer.Option("--to", envvar="GITHUB_OUTPUT", help="The step outputs file."),
        ] = None,
    ) -> None:
        """Append pr-url, pr-number, rollout-id, conflicts and blocked to $GITHUB_OUTPUT."""
        values = steps.outputs(_read_run(result_path))
        _append(to, steps.output_lines(values, f"EVOBOT_{secrets.token_hex(16)}"))

    @action.command("annotations")
    def annotations_cmd(result_path: ResultOption) -> None:
        """Print ::error/::warning lines for what blocks; exit 1 when the job should fail."""
        run = _read_run(result_path)
        for line in steps.workflow_commands(run):
            sys.stdout.write(line + "\n")
        if steps.failed(run):
            raise typer.Exit(1)

    app.add_typer(action, name="action")
