"""`action.yml`, the project's workflows and the example workflows follow STYLE.md habit 8:
actions pinned by full commit SHA with a version comment, no `${{ }}` inside `run:`,
`persist-credentials: false`, minimal `permissions:`; and actionlint and the schemas pass."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from evobot_testing import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.yml"))
ACTION = REPO_ROOT / "action.yml"
BIN = Path(sys.executable).parent
# The examples refer to evobot's own Action by a release tag: it has no SHA until it is released.
SELF = "evobot/evobot@"


def _steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in doc:
        return list(doc["runs"]["steps"])
    return [s for job in doc["jobs"].values() for s in job.get("steps", [])]


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS, *EXAMPLES], ids=lambda p: p.name)
def test_every_action_is_pinned_by_sha_with_a_version_comment(path: Path) -> None:
    for line in path.read_text().splitlines():
        match = re.match(r"\s*-?\s*uses:\s*(\S+)(.*)", line)
        if not match or match.group(1).startswith(("./", SELF)):
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", match.group(1)), line
        assert re.search(r"#\s*v\d+\.\d+\.\d+", match.group(2)), f"no version comment: {line}"


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS, *EXAMPLES], ids=lambda p: p.name)
def test_no_expression_inside_a_run_script(path: Path) -> None:
    for step in _steps(yaml.safe_load(path.read_text())):
        assert "${{" not in step.get("run", ""), f"{path.name}: {step.get('name')}"


@pytest.mark.parametrize("path", [*WORKFLOWS, *EXAMPLES], ids=lambda p: p.name)
def test_workflows_declare_permissions_and_never_persist_credentials(path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    assert doc.get("permissions") == {"contents": "read"}, "top-level permissions: read only"
    for step in _steps(doc):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False


def test_actionlint_is_clean_on_every_workflow() -> None:
    done = subprocess.run(
        [str(BIN / "actionlint"), *map(str, WORKFLOWS + EXAMPLES)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("schema", "paths"),
    [
        ("vendor.github-actions", [ACTION]),
        ("vendor.github-workflows", WORKFLOWS + EXAMPLES),
        ("vendor.dependabot", [REPO_ROOT / ".github" / "dependabot.yml"]),
    ],
)
def test_metadata_is_valid_against_its_schema(schema: str, paths: list[Path]) -> None:
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
