"""The GitHub Action's step logic as pure functions: what to run, and what to say about it.

`action.yml` runs `evobot action run`, which records every `evobot ... --json` it ran in one
JSON document (an :class:`ActionRun`); `evobot action summary|outputs|annotations` turn that
document into the job summary (Markdown), step outputs and workflow commands. Nothing here
reads the environment, runs a process or writes a file: `bot/cli/action.py` does, and
tests drive these functions with plain data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "CI_WILL_NOT_RUN_NOTE",
    "COMMANDS",
    "ActionInputs",
    "ActionRun",
    "EventFacts",
    "StepRun",
    "auth_kind",
    "blocked",
    "event_facts",
    "failed",
    "output_lines",
    "outputs",
    "plan_steps",
    "summary",
    "workflow_commands",
]

COMMANDS = ("update", "check", "rollout")
AuthKind = Literal["app", "workflow", "personal"]

CI_WILL_NOT_RUN_NOTE = (
    "> [!WARNING]\n"
    "> CI will not run on this PR by itself: it was opened with the workflow's `GITHUB_TOKEN`, "
    "and GitHub starts no workflow for what that token does. Push a commit to the branch, or "
    "close and reopen the PR, to run CI once. To fix it for good, give the evobot Action a "
    "GitHub App token: set its `app-id` and `private-key` inputs, or pass a token made by "
    "`actions/create-github-app-token` as `token` (see the evobot docs, `docs/action.md`)."
)

# GitHub shows at most 10 error annotations per step and 50 per job; past that, the summary.
MAX_ANNOTATIONS = 10
MAX_SUMMARY_FINDINGS = 50
MAX_SUMMARY_FILES = 20


@dataclass(frozen=True)
class ActionInputs:
    """The Action's inputs, as `action.yml` passes them to `evobot action run` in env."""

    command: str
    template_ref: str = ""
    policy: str = ""
    dry_run: bool = False


@dataclass(frozen=True)
class EventFacts:
    """What the step needs from the event payload (`GITHUB_EVENT_PATH`)."""

    pr_number: int | None = None
    pr_url: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class StepRun:
    """One `evobot` command the Action ran: its arguments, exit code and `--json` document.

    ``optional`` steps (the churn report of a check) never fail the job.
    """

    name: str
    argv: list[str]
    exit_code: int = 0
    result: dict[str, Any] | None = None
    error: str | None = None
    optional: bool = False


@dataclass(frozen=True)
class ActionRun:
    """Everything `evobot action run` did, as the later steps read it back."""

    command: str
    repository: str
    dry_run: bool = False
    auth: AuthKind = "personal"
    event: EventFacts = field(default_factory=EventFacts)
    steps: list[StepRun] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ActionRun:
        steps = [StepRun(**s) for s in data.get("steps", [])]
        event = EventFacts(**data.get("event", {}))
        return cls(**{**data, "steps": steps, "event": event})

    def step(self, name: str) -> StepRun | None:
        return next((s for s in self.steps if s.name == name), None)


def event_facts(payload: Mapping[str, Any] | None, ref: str = "") -> EventFacts:
    """The pull request and the pushed tag, from the event payload (or ``GITHUB_REF``)."""
    payload = payload or {}
    pull = payload.get("pull_request")
    number = url = None
    if isinstance(pull, Mapping):
        number = pull.get("number") if isinstance(pull.get("number"), int) else None
        url = pull.get("html_url") if isinstance(pull.get("html_url"), str) else None
    given = payload.get("ref")
    pushed = given if isinstance(given, str) else ref
    tag = pushed.removeprefix("refs/tags/") if pushed.startswith("refs/tags/") else None
    return EventFacts(pr_number=number, pr_url=url, tag=tag)


def auth_kind(*, app_id: str, token: str, workflow_token: str) -> AuthKind:
    """An App's token, the workflow's own `GITHUB_TOKEN`, or another token (a PAT)."""
    if app_id.strip():
        return "app"
    return "workflow" if token and token == workflow_token else "personal"


def plan_steps(
    inputs: ActionInputs, *, repository: str, event: EventFacts, auth: AuthKind
) -> list[StepRun]:
    """The `evobot` commands to run for ``inputs``, in order (each prints ``--json``)."""
    policy = ["--org-policy", inputs.policy] if inputs.policy else []
    ref = inputs.template_ref
    if inputs.command == "update":
        if inputs.dry_run:
            return [StepRun("update", ["update", "--dry-run", "--json", *_ref(ref)])]
        note = ["--note", CI_WILL_NOT_RUN_NOTE] if auth == "workflow" else []
        argv = ["pr", "open", "--repo", repository, "--json", *_ref(ref), *policy, *note]
        return [StepRun("pr open", argv)]
    if inputs.command == "check":
        return [
            StepRun("check", ["check", "--json", *policy]),
            StepRun("verify", ["verify", "--json"]),
            StepRun("report", ["report", "--format", "json"], optional=True),
        ]
    if inputs.command == "rollout":
        # The plan and its preflight (read-only). Starting the rollout, and every wave after
        # it, belongs to the evobot service, which holds the rollout's state: it starts when
        # GitHub sends it the tag's push. A workflow run has no state to keep between waves.
        tag = ref or event.tag or ""
        where = ["--template", repository, "--json", *(["--to", tag] if tag else [])]
        return [StepRun("rollout plan", ["rollout", "plan", *where])]
    raise ValueError(inputs.command)


def _ref(ref: str) -> list[str]:
    return ["--vcs-ref", ref] if ref else []


# -- verdicts -------------------------------------------------------------------------------


def blocked(run: ActionRun) -> bool:
    """Whether the policy blocks: checks failed, provenance was tampered with, or a secret."""
    pr = run.step("pr open")
    if pr is not None and pr.result is not None:
        checks = pr.result.get("checks")
        return bool(pr.result.get("blocked_by")) or (
            isinstance(checks, Mapping) and checks.get("passed") is False
        )
    check, verify = run.step("check"), run.step("verify")
    if check is not None and check.result is not None and check.result.get("passed") is False:
        return True
    return verify is not None and verify.result is not None and bool(verify.result.get("tampered"))


def _step_error(step: StepRun) -> str | None:
    """Why a step failed, when it failed for another reason than a verdict it reports."""
    if step.error and (step.result is None or "error" in step.result):
        return step.error
    if step.result is not None and isinstance(step.result.get("error"), str):
        return str(step.result["error"])
    if step.exit_code != 0 and step.result is None:
        return step.error or f"evobot {step.name} exited with {step.exit_code}"
    return None


def failed(run: ActionRun) -> bool:
    """Whether the job fails: an input or command error, or a blocking verdict.

    For `update` only a secret in the template output fails the job (the PR shows the rest);
    for `check` any blocking verdict does.
    """
    if run.error is not None:
        return True
    if any(_step_error(s) for s in run.steps if not s.optional):
        return True
    if run.command == "check":
        return blocked(run)
    pr = run.step("pr open")
    return pr is not None and pr.result is not None and bool(pr.result.get("blocked_by"))


# -- outputs --------------------------------------------------------------------------------


def outputs(run: ActionRun) -> dict[str, str]:
    """The step outputs `action.yml` declares: pr-url, pr-number, rollout-id, conflicts,
    blocked (``conflicts`` is a JSON list of paths)."""
    import json

    url, number = run.event.pr_url, run.event.pr_number
    conflicts: list[str] = []
    for step in run.steps:
        result = step.result or {}
        if step.name in ("pr open", "update"):
            conflicts = [str(c) for c in result.get("conflicts") or []]
        if step.name == "pr open":
            url = result.get("url") or url
            number = result.get("number") or number
    rollout_id = ""
    for step in run.steps:
        if step.name.startswith("rollout") and step.result is not None:
            found = step.result.get("rollout_id", step.result.get("id"))
            rollout_id = str(found) if found is not None else rollout_id
    return {
        "pr-url": url or "",
        "pr-number": str(number) if number else "",
        "rollout-id": rollout_id,
        "conflicts": json.dumps(conflicts),
        "blocked": "true" if blocked(run) else "false",
    }


def output_lines(values: Mapping[str, str], delimiter: str) -> str:
    """``values`` in the `$GITHUB_OUTPUT` file format: ``name=value``, or a heredoc with
    ``delimiter`` for a value holding a line break."""
    lines = []
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            if delimiter in value:
                raise ValueError("the delimiter occurs in the value")
            lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        else:
            lines.append(f"{name}={value}\n")
    return "".join(lines)


# -- annotations ----------------------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(level: str, message: str, **props: str | int | None) -> str:
    given = ",".join(f"{k}={_escape_property(str(v))}" for k, v in props.items() if v is not None)
    return f"::{level}{' ' + given if given else ''}::{_escape_data(message)}"


def workflow_commands(run: ActionRun) -> list[str]:
    """Workflow commands (``::error file=…,line=…::``) for what blocks or failed, so they show
    on the PR's diff; the rest goes to the summary."""
    lines: list[str] = []
    if run.error is not None:
        lines.append(_command("error", run.error, title="evobot action"))
    for step in run.steps:
        error = _step_error(step)
        if error is not None:
            level = "warning" if step.optional else "error"
            lines.append(_command(level, error, title=f"evobot {step.name}"))
    check, verify, pr = run.step("check"), run.step("verify"), run.step("pr open")
    if check is not None and check.result is not None and check.result.get("passed") is False:
        findings = [f for f in check.result.get("blocking") or [] if isinstance(f, Mapping)]
        for f in findings[:MAX_ANNOTATIONS]:
            lines.append(
                _command(
                    "error",
                    f"{f.get('severity')}: {f.get('message')}",
                    file=f.get("path"),
                    line=f.get("line"),
                    title=f"evobot {f.get('checker')}/{f.get('rule')}",
                )
            )
        if not findings:
            reasons = "; ".join(str(r) for r in check.result.get("reasons") or [])
            lines.append(_command("error", reasons or "the policy blocks", title="evobot check"))
    if verify is not None and verify.result is not None and verify.result.get("tampered"):
        for issue in verify.result.get("issues") or []:
            if isinstance(issue, Mapping) and issue.get("tampering"):
                lines.append(
                    _command(
                        "error",
                        str(issue.get("detail")),
                        file=issue.get("path"),
                        title="evobot verify: provenance does not match",
                    )
                )
    if pr is not None and pr.result is not None:
        if pr.result.get("blocked_by"):
            lines.append(_command("error", str(pr.result.get("message")), title="evobot update"))
        for path in (pr.result.get("conflicts") or [])[:MAX_ANNOTATIONS]:
            where = f" in #{pr.result['number']}" if pr.result.get("number") else ""
            lines.append(
                _command(
                    "warning",
                    f"{path} has conflict markers{where}: resolve them on the PR branch",
                    title="evobot conflict",
                )
            )
    if run.auth == "workflow" and pr is not None and (pr.result or {}).get("url"):
        lines.append(
            _command(
                "notice",
                "CI will not run on this PR: it was opened with GITHUB_TOKEN (see the job summary)",
                title="evobot",
            )
        )
    return lines


# -- job summary ----------------------------------------------------------------------------


def _cell(value: object) -> str:
    """A Markdown table cell: text from repositories shown literally, on one line."""
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;") or " "


def _code(value: object) -> str:
    text = re.sub(r"\s+", " ", str(value)).replace("`", "'")
    return f"`{text}`"


def _churn_table(churn: Mapping[str, Any]) -> list[str]:
    totals = churn.get("totals") or {}
    files = [f for f in churn.get("files") or [] if isinstance(f, Mapping)]
    out = [
        "### Churn",
        "",
        f"{totals.get('files_changed', 0)} files changed "
        f"({totals.get('files_added', 0)} added, {totals.get('files_deleted', 0)} deleted, "
        f"{totals.get('files_modified', 0)} modified, {totals.get('files_renamed', 0)} renamed); "
        f"lines +{totals.get('lines_added', 0)} -{totals.get('lines_removed', 0)} "
        f"~{totals.get('lines_changed', 0)}",
        "",
    ]
    if files:
        out += ["| file | change | added | removed | changed |", "|---|---|--:|--:|--:|"]
        ranked = sorted(
            files,
            key=lambda f: -(int(f.get("added", 0)) + int(f.get("removed", 0))),
        )
        for f in ranked[:MAX_SUMMARY_FILES]:
            out.append(
                f"| {_code(f.get('path'))} | {_cell(f.get('status'))} | {f.get('added', 0)} "
                f"| {f.get('removed', 0)} | {f.get('changed', 0)} |"
            )
        if len(files) > MAX_SUMMARY_FILES:
            out.append(f"\n{len(files) - MAX_SUMMARY_FILES} more files not shown.")
        out.append("")
    return out


def _checks_table(result: Mapping[str, Any]) -> list[str]:
    verdict = "passed" if result.get("passed") else "**blocked by policy**"
    out = ["### Checks", "", f"Policy: {verdict}", ""]
    checkers = result.get("checkers")
    if isinstance(checkers, Mapping) and checkers:
        out += ["| checker | status | files | findings | blocking |", "|---|---|--:|---|--:|"]
        for name, c in checkers.items():
            counts = ", ".join(f"{n} {sev}" for sev, n in (c.get("counts") or {}).items()) or "-"
            out.append(
                f"| {_cell(name)} | {_cell(c.get('status'))} | {c.get('files', 0)} "
                f"| {_cell(counts)} | {c.get('blocking', 0)} |"
            )
        out.append("")
    for reason in result.get("reasons") or []:
        out.append(f"- {_cell(reason)}")
    blocking = [f for f in result.get("blocking") or [] if isinstance(f, Mapping)]
    if blocking:
        out += ["", "| severity | where | rule | message |", "|---|---|---|---|"]
        for f in blocking[:MAX_SUMMARY_FINDINGS]:
            where = f"{f.get('path')}:{f.get('line')}" if f.get("line") else f.get("path")
            out.append(
                f"| {_cell(f.get('severity'))} | {_code(where)} "
                f"| {_cell(f.get('checker'))}/{_cell(f.get('rule'))} | {_cell(f.get('message'))} |"
            )
        if len(blocking) > MAX_SUMMARY_FINDINGS:
            out.append(f"\n{len(blocking) - MAX_SUMMARY_FINDINGS} more blocking findings.")
    out.append("")
    return out


def _conflicts(paths: list[Any]) -> list[str]:
    if not paths:
        return []
    out = ["### Conflicts", "", "Resolve the conflict markers in these files on the PR branch:"]
    out += [f"- {_code(p)}" for p in paths]
    return [*out, ""]


def summary(run: ActionRun) -> str:
    """The job summary (`$GITHUB_STEP_SUMMARY`): the PR link, conflicts, churn and checks."""
    title = f"## evobot {run.command}{' (dry run)' if run.dry_run else ''}: {run.repository}"
    out = [title, ""]
    if run.error is not None:
        out += [f"**Error:** {_cell(run.error)}", ""]
    for step in run.steps:
        error = _step_error(step)
        if error is not None:
            what = "could not run (the job goes on)" if step.optional else "failed"
            out += [f"**`evobot {step.name}` {what}:** {_cell(error)}", ""]
    pr = run.step("pr open")
    if pr is not None and pr.result is not None:
        r = pr.result
        link = f"[#{r['number']}]({r['url']})" if r.get("url") and r.get("number") else None
        out += [
            f"{_cell(r.get('from'))} → {_cell(r.get('to'))}: {_cell(r.get('message'))}"
            + (f" — evolution PR {link}" if link else ""),
            "",
        ]
        if run.auth == "workflow" and link:
            out += [CI_WILL_NOT_RUN_NOTE, ""]
        out += _conflicts(list(r.get("conflicts") or []))
        if isinstance(r.get("churn"), Mapping):
            out += _churn_table(r["churn"])
        checks = r.get("checks")
        if isinstance(checks, Mapping):
            out += _checks_table(checks)
    update = run.step("update")
    if update is not None and update.result is not None:
        r = update.result
        versions = f"{_version(r.get('from'))} → {_version(r.get('to'))}"
        if not r.get("changed"):
            out += [f"Up to date with {_version(r.get('to'))}: nothing would change.", ""]
        else:
            out += [f"Would update {versions} (dry run: nothing written, no PR).", ""]
            out += ["| file | status | detail |", "|---|---|---|"]
            for f in r.get("files") or []:
                if f.get("status") != "unchanged":
                    out.append(
                        f"| {_code(f.get('path'))} | {_cell(f.get('status'))} "
                        f"| {_cell(f.get('detail') or '')} |"
                    )
            out.append("")
        out += _conflicts(list(r.get("conflicts") or []))
    if run.event.pr_url and run.command == "check":
        out += [f"Pull request: [#{run.event.pr_number}]({run.event.pr_url})", ""]
    report = run.step("report")
    if report is not None and report.result is not None:
        churn = report.result.get("churn")
        if isinstance(churn, Mapping):
            out += _churn_table(churn)
    check = run.step("check")
    if check is not None and check.result is not None and "error" not in check.result:
        out += _checks_table(check.result)
    verify = run.step("verify")
    if verify is not None and verify.result is not None:
        out += _verify_section(verify.result)
    for step in run.steps:
        if step.name.startswith("rollout") and step.result is not None:
            out += [f"### {_cell(step.name)}", "", "```json", _json(step.result), "```", ""]
    if run.command == "rollout" and run.dry_run:
        out += ["Dry run: the plan only; no rollout was started.", ""]
    elif run.command == "rollout" and not run.error:
        out += [
            "Planned and preflighted only: the evobot service starts the rollout when it "
            "receives this tag's push, and opens its waves (see docs/rollouts.md).",
            "",
        ]
    verdict = "failed" if failed(run) else "passed"
    out += [f"Result: **{verdict}**", ""]
    return "\n".join(out)


def _version(v: object) -> str:
    if isinstance(v, Mapping):
        return _cell(v.get("ref") or str(v.get("commit") or "")[:12] or "?")
    return _cell(v)


def _verify_section(result: Mapping[str, Any]) -> list[str]:
    issues = [i for i in result.get("issues") or [] if isinstance(i, Mapping)]
    tampered = [i for i in issues if i.get("tampering")]
    edits = len(issues) - len(tampered)
    head = (
        "**provenance does not match the files**"
        if tampered
        else "provenance matches the files the template renders"
    )
    out = [
        "### Verify",
        "",
        f"Template {_code(result.get('template'))} at {_code(str(result.get('commit'))[:12])}: "
        f"{head}; {edits} consumer edits (normal).",
        "",
    ]
    out += [f"- {_code(i.get('path'))}: {_cell(i.get('detail'))}" for i in tampered]
    return [*out, ""] if tampered else out


def _json(data: object) -> str:
    import json

    return json.dumps(data, indent=2, sort_keys=True).replace("```", "'''")
