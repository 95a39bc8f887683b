"""The generated CI workflow and Docker image follow our hardening rules for every answer set."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from bot.tree import Tree

ANSWER_SETS = [
    {"service_name": "orders", "use_database": True, "python_version": "3.13"},
    {"service_name": "orders", "use_database": False, "metrics": False},
]


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize("answers", ANSWER_SETS)
def test_ci_workflow_is_hardened(
    render_service: Callable[..., Tree], answers: dict[str, Any]
) -> None:
    tree = render_service(answers)
    workflow = yaml.safe_load(tree[".github/workflows/ci.yml"].data)

    assert workflow["permissions"] == {"contents": "read"}
    for step in _steps(workflow):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False
        assert "${{" not in step.get("run", ""), "expressions go through env:, not into run:"
    setup = next(s for s in _steps(workflow) if s.get("uses", "").startswith("actions/setup-py"))
    assert setup["with"]["python-version"] == answers.get("python_version", "3.12")
    assert ("services" in workflow["jobs"]["test"]) is answers["use_database"]
    for service in workflow["jobs"]["test"].get("services", {}).values():
        assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", service["image"])


@pytest.mark.parametrize("answers", ANSWER_SETS)
def test_docker_image_is_multi_stage_and_runs_unprivileged(
    render_service: Callable[..., Tree], answers: dict[str, Any]
) -> None:
    dockerfile = render_service(answers)["Dockerfile"].data.decode()

    stages = re.findall(r"^FROM \S+ AS (\w+)$", dockerfile, flags=re.MULTILINE)
    assert stages == ["build", "runtime"]
    runtime = dockerfile.split("AS runtime", 1)[1]
    user = re.search(r"^USER (\S+)$", runtime, flags=re.MULTILINE)
    assert user is not None
    assert user.group(1).split(":")[0] not in ("root", "0")
    assert "HEALTHCHECK" in runtime
    assert f"ARG PYTHON_VERSION={answers.get('python_version', '3.12')}" in dockerfile
    assert '"orders.main:create_app"' in runtime
