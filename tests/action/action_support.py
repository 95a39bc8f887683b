"""Run `action.yml`'s steps the way a GitHub runner does, without GitHub.

`run_action` reads the composite action's metadata, evaluates the few expression forms it uses
(``inputs.*``, ``github.*``, ``runner.*``, ``steps.*.outputs.*``/``outcome``, ``||``, ``&&``,
``==``/``!=``, ``always()``), and runs each ``run:`` script with bash and the files and
variables a runner gives a step: ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_PATH``,
``GITHUB_EVENT_PATH``, ``GITHUB_REPOSITORY``, ``GITHUB_REF``, ``RUNNER_TEMP``,
``GITHUB_ACTION_PATH``, ``GITHUB_WORKSPACE``. ``uses:`` steps (setup-python, cache, the App
token) are replaced by what they produce: the project's own virtualenv stands in for the
installed evobot, and ``app_token`` for the token `actions/create-github-app-token` mints.
An expression form this evaluator does not know fails the test: the action stays simple.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from evobot_testing import REPO_ROOT

ACTION = REPO_ROOT / "action.yml"
INSTALL_STEP = "Install evobot"
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class ActionRunResult:
    """What a workflow sees after the action ran: outputs, job summary, log and outcome."""

    outputs: dict[str, str]
    summary: str
    log: str
    failed: bool
    outcomes: dict[str, str] = field(default_factory=dict)


def load_action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION.read_text())
    assert isinstance(data, dict)
    return data


class _Context:
    def __init__(self, contexts: dict[str, Any]) -> None:
        self.contexts = contexts

    def value(self, term: str) -> Any:
        term = term.strip()
        if term == "always()":
            return True
        if term.startswith("'") and term.endswith("'"):
            return term[1:-1]
        if term in ("true", "false"):
            return term == "true"
        if not re.fullmatch(r"[a-z_]+(\.[A-Za-z0-9_-]+)+", term):
            raise AssertionError(f"action.yml uses an expression the test runner lacks: {term}")
        node: Any = self.contexts
        for part in term.split("."):
            node = node.get(part, "") if isinstance(node, Mapping) else ""
        return node

    def evaluate(self, expr: str) -> Any:
        ors = expr.split("||")
        for i, alternative in enumerate(ors):
            value = self._and(alternative)
            if value or i == len(ors) - 1:
                return value
        return ""

    def _and(self, expr: str) -> Any:
        value: Any = True
        for part in expr.split("&&"):
            value = self._compare(part)
            if not value:
                return value
        return value

    def _compare(self, expr: str) -> Any:
        for op in ("!=", "=="):
            if op in expr:
                left, right = (self.value(t) for t in expr.split(op, 1))
                return (left != right) if op == "!=" else (left == right)
        return self.value(expr)

    def substitute(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            value = self.evaluate(match.group(1))
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)

        return _EXPR.sub(one, text)


def _read_outputs(path: Path) -> dict[str, str]:
    """The runner's parser of `$GITHUB_OUTPUT`: ``name=value`` and ``name<<DELIM`` heredocs."""
    out: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            out[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        i += 1
    return out


def run_action(
    tmp_path: Path,
    *,
    inputs: Mapping[str, str],
    repository: str,
    workspace: Path,
    event: Mapping[str, Any] | None = None,
    event_name: str = "workflow_dispatch",
    ref: str = "refs/heads/main",
    api_url: str = "https://api.github.com",
    workflow_token: str = "",
    app_token: str = "",
    extra_env: Mapping[str, str] | None = None,
) -> ActionRunResult:
    """Run the action's steps with a runner's environment; return what the workflow sees."""
    meta = load_action()
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(parents=True, exist_ok=True)
    summary = runner_temp / "step-summary.md"
    event_path = runner_temp / "event.json"
    event_path.write_text(json.dumps(dict(event or {})))
    declared = meta.get("inputs", {})
    given = {
        name: str(spec.get("default", "")) if isinstance(spec, Mapping) else ""
        for name, spec in declared.items()
    }
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs the action does not declare: {unknown}"
    github = {
        "token": workflow_token,
        "api_url": api_url,
        "repository": repository,
        "repository_owner": repository.split("/")[0],
        "action_ref": "",
        "event_name": event_name,
        "ref": ref,
    }
    contexts: dict[str, Any] = {
        "github": github,
        "runner": {"temp": str(runner_temp), "os": "Linux"},
        "steps": {},
        "inputs": {},
    }
    ctx = _Context(contexts)
    # Defaults may be expressions (`token: ${{ github.token }}`): evaluated like a runner does.
    contexts["inputs"] = {k: ctx.substitute(v) for k, v in given.items()}
    contexts["inputs"].update(inputs)
    base_env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": repository,
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REF": ref,
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTION_PATH": str(REPO_ROOT),
        "RUNNER_TEMP": str(runner_temp),
        "EVOBOT_WRITE_INTERVAL": "0",
        **{k: v for k, v in os.environ.items() if k.startswith(("GIT_", "EVOBOT_FIXTURES"))},
        **dict(extra_env or {}),
    }
    log: list[str] = []
    outcomes: dict[str, str] = {}
    failed = False
    for n, step in enumerate(meta["runs"]["steps"]):
        sid = step.get("id", f"step{n}")
        condition = step.get("if")
        # A runner skips later steps after a failure unless their `if` says always().
        if condition is not None:
            condition = re.sub(r"^\$\{\{\s*|\s*\}\}$", "", str(condition))
            run_it = bool(ctx.evaluate(condition))
            if failed and "always()" not in condition:
                run_it = False
        else:
            run_it = not failed
        if not run_it:
            contexts["steps"][sid] = {"outputs": {}, "outcome": "skipped"}
            continue
        if "uses" in step:
            outputs = {"token": app_token} if "create-github-app-token" in step["uses"] else {}
            contexts["steps"][sid] = {"outputs": outputs, "outcome": "success"}
            continue
        if step.get("name") == INSTALL_STEP:
            contexts["steps"][sid] = {"outputs": {}, "outcome": "success"}  # the test's venv
            continue
        output_file = runner_temp / f"output-{n}"
        output_file.write_text("")
        env = {
            **base_env,
            **{k: ctx.substitute(str(v)) for k, v in (step.get("env") or {}).items()},
            "GITHUB_OUTPUT": str(output_file),
        }
        assert "${{" not in step["run"], f"expression inside run: of step {step.get('name')}"
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        log.append(f"## {step.get('name')}\n{done.stdout}{done.stderr}")
        outcome = "success" if done.returncode == 0 else "failure"
        outcomes[step.get("name", sid)] = outcome
        failed = failed or done.returncode != 0
        contexts["steps"][sid] = {"outputs": _read_outputs(output_file), "outcome": outcome}
    outputs = {
        name: ctx.substitute(str(spec["value"])) for name, spec in meta.get("outputs", {}).items()
    }
    return ActionRunResult(
        outputs=outputs,
        summary=summary.read_text() if summary.exists() else "",
        log="\n".join(log),
        failed=failed,
        outcomes=outcomes,
    )


def webhook_example(fixtures: Path, event: str, **match: Any) -> dict[str, Any]:
    """The first example payload of ``event`` from the shared fixtures whose keys match."""
    examples = json.loads((fixtures / "webhooks" / "examples.json").read_text())
    for entry in examples:
        if entry["name"] != event:
            continue
        for payload in entry["examples"]:
            if all(payload.get(k) == v for k, v in match.items()):
                return dict(payload)
    raise AssertionError(f"no {event} example with {match}")


TEMPLATE_MANIFEST = "name: svc\nquestions:\n  name:\n    type: str\n    default: demo\n"


def emulator_seed() -> dict[str, Any]:
    """A template ``acme/tpl`` tagged v1 and v2, and a consumer ``acme/svc1`` rendered from v1."""
    return {
        "installations": [{"id": 7, "account": "acme"}],
        "repos": [
            {
                "full_name": "acme/tpl",
                "files": {
                    "template.yml": TEMPLATE_MANIFEST,
                    "files/README.md": "# {{ name }}\n\nline 1\n",
                    "files/app.py": "print('v1')\n",
                },
                "commits": [
                    {"message": "v1", "tag": "v1"},
                    {
                        "message": "v2",
                        "files": {
                            "files/README.md": "# {{ name }}\n\nline 1\nline 2 (v2)\n",
                            "files/app.py": "print('v2')\n",
                        },
                        "tag": "v2",
                    },
                ],
            },
            {
                "full_name": "acme/svc1",
                "render": {"template": "acme/tpl", "ref": "v1", "answers": {"name": "svc1"}},
            },
        ],
    }
