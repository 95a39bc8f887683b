"""`command: check` is a CI gate: it checks the PR's tree and verifies it against the template,
annotates each blocking finding on its file and line, and fails the job when the policy blocks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from action_support import TEMPLATE_MANIFEST, run_action, webhook_example
from evobot_cli_support import invoke_evobot
from evobot_testing import build_file_tree, git, git_commit_all, git_init


@pytest.fixture
def consumer(tmp_path: Path) -> Path:
    """A consumer rendered from a local template, committed: what a PR's checkout holds."""
    template = tmp_path / "tpl"
    build_file_tree(
        template,
        {
            "template.yml": TEMPLATE_MANIFEST,
            "files/app.py": "def main() -> int:\n    return 0\n",
            "files/README.md": "# {{ name }}\n",
        },
    )
    git_init(template)
    git_commit_all(template, "v1")
    git(template, "tag", "v1")
    workspace = tmp_path / "workspace"
    rendered = invoke_evobot("render", str(template), str(workspace), "--data", "name=svc")
    assert rendered.exit_code == 0, rendered.output
    git_init(workspace)
    git_commit_all(workspace, "generated")
    return workspace


def _check(tmp_path: Path, workspace: Path, fixtures_dir: Path):  # type: ignore[no-untyped-def]
    return run_action(
        tmp_path,
        inputs={"command": "check"},
        repository="acme/svc",
        workspace=workspace,
        event=webhook_example(fixtures_dir, "pull_request", action="opened"),
        event_name="pull_request",
        ref="refs/pull/2/merge",
        workflow_token="ghs_workflow",
        extra_env={"EVOBOT_CACHE_DIR": str(tmp_path / "cache")},
    )


def test_a_clean_pull_request_passes_the_gate(
    tmp_path: Path, consumer: Path, fixtures_dir: Path
) -> None:
    ran = _check(tmp_path, consumer, fixtures_dir)
    assert not ran.failed, ran.log
    assert ran.outputs["blocked"] == "false"
    assert ran.outputs["pr-number"] == "2"
    assert "### Checks" in ran.summary and "Policy: passed" in ran.summary
    assert "### Verify" in ran.summary and "provenance matches" in ran.summary
    assert "::error" not in ran.log


def test_a_blocking_finding_fails_the_job_and_is_annotated_on_its_line(
    tmp_path: Path, consumer: Path, fixtures_dir: Path
) -> None:
    (consumer / "broken.py").write_text("x = 1\n\ndef broken(:\n    pass\n")
    git_commit_all(consumer, "a broken file")
    ran = _check(tmp_path, consumer, fixtures_dir)
    assert ran.failed
    assert ran.outputs["blocked"] == "true"
    annotations = [line for line in ran.log.splitlines() if line.startswith("::error file=")]
    assert any(
        a.startswith("::error file=broken.py,line=3,title=evobot ") and "syntax-error" in a
        for a in annotations
    ), annotations
    assert "**blocked by policy**" in ran.summary
    assert "`broken.py:3`" in ran.summary
    assert "Result: **failed**" in ran.summary
    # Every step still wrote its part: the summary and the outputs come before the verdict.
    assert ran.outcomes["Job summary"] == ran.outcomes["Outputs"] == "success"
    assert ran.outcomes["Annotations and verdict"] == "failure"
    assert json.loads(ran.outputs["conflicts"]) == []


def test_a_directory_that_is_not_a_consumer_fails_with_one_error(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    workspace = tmp_path / "plain"
    build_file_tree(workspace, {"app.py": "print('hi')\n"})
    ran = _check(tmp_path, workspace, fixtures_dir)
    assert ran.failed
    assert "::error title=evobot verify::" in ran.log
    assert "Traceback" not in ran.log
    assert "Result: **failed**" in ran.summary
