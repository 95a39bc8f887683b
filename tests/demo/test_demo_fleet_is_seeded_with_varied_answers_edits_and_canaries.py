"""The demo's fleet on the emulator: the template at v1.0.0 with its `rollout.yml`, consumers
rendered with varied answers, two canaries, each team's local edit committed, and the v1.1.0
release tagged on the template."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.demo.fleet import (
    RELEASE,
    ROLLOUT_POLICY,
    edit_consumers,
    make_fleet,
    release,
)
from bot.emulator.testing import running_emulator


def test_fleet_seeds_canaries_varied_answers_and_local_edits(tmp_path: Path) -> None:
    fleet = make_fleet(5)

    with running_emulator(fleet.seed(), tmp_path / "github") as gh:
        edit_consumers(gh, fleet)
        key = release(gh, fleet)
        gh.settle()

        template = fleet.template_repo
        policy = yaml.safe_load(gh.read_file(template, "v1.0.0", "rollout.yml") or b"")
        assert policy == ROLLOUT_POLICY
        assert gh.read_file(template, "v1.0.0", "template.yml") is not None
        assert key == f"{template}@{RELEASE}"
        request_id = "files/src/{{ service_name }}/request_id.py"
        assert gh.read_file(template, RELEASE, request_id) is not None
        assert gh.read_file(template, "v1.0.0", request_id) is None

        configs = {
            c.repo: yaml.safe_load(gh.read_file(c.repo, "main", ".evobot.yml") or b"")
            for c in fleet.consumers
        }
        rings = {repo: (cfg.get("rollout") or {}).get("ring") for repo, cfg in configs.items()}
        assert [r for r, ring in rings.items() if ring == "canary"] == list(fleet.canaries)
        assert len(fleet.canaries) == 2
        names = {cfg["answers"]["service_name"] for cfg in configs.values()}
        assert len(names) == 5
        assert len({cfg["answers"]["python_version"] for cfg in configs.values()}) > 1
        assert len({cfg["answers"]["use_database"] for cfg in configs.values()}) == 2
        assert all(cfg["version"]["ref"] == "v1.0.0" for cfg in configs.values())

        orders = fleet.consumers[0]
        assert orders.service_name == "orders"
        main_py = (gh.read_file(orders.repo, "main", "src/orders/main.py") or b"").decode()
        assert "app.include_router(api)" in main_py
        assert gh.read_file(orders.repo, "main", "src/orders/api.py") is not None
        readme = (gh.read_file(fleet.consumers[1].repo, "main", "README.md") or b"").decode()
        assert "## On-call" in readme
        for spec in fleet.consumers:
            sha = gh.branch_sha(spec.repo, "main")
            assert sha is not None
            assert gh.commit_message(spec.repo, sha).strip() == spec.edit.message


def test_a_fleet_needs_a_consumer_beyond_the_canaries() -> None:
    import pytest

    from bot.demo.steps import DemoError

    with pytest.raises(DemoError, match="--repos 2: the demo needs at least 3 consumers"):
        make_fleet(2)
