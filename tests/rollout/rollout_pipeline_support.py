"""A fleet on the recording fake forge, a store and a rollout context, for pipeline tests.

Consumers are rendered from a real git template (v1), their `.evobot.yml` pointing at a remote
URL that a local fetcher resolves to the same repository; v2 is the release rolled out.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evolution"))

from evolution_helpers import TemplateRepo, make_consumer

from bot.clock import ManualClock
from bot.consumer import CONFIG_NAME, ConsumerConfig, dump_consumer_config, load_consumer_config
from bot.evolution import Evolution, evolve_consumer
from bot.forge import RecordingForge
from bot.pipeline import CheckOptions, EvolvePrOptions
from bot.pipeline.preflight import PreflightOptions
from bot.pipeline.rollout import RolloutContext
from bot.rollout import Member, RolloutPolicy, plan_rollout
from bot.rollout.plan import Plan
from bot.store import Store
from bot.tree import File, read_tree

REMOTE = "https://github.com/acme/tpl"
START = 1_800_000_000.0


class LocalTemplates:
    """A TemplateFetcher resolving the remote template URL to a local git repository."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def evolve(
        self,
        ours: Mapping[str, File],
        config: ConsumerConfig,
        *,
        vcs_ref: str | None,
        git_http_headers: Sequence[str],
    ) -> Evolution:
        local = config.model_copy(update={"template": str(self.root)})
        return evolve_consumer(ours, local, vcs_ref=vcs_ref)


@dataclass
class Fleet:
    forge: RecordingForge
    store: Store
    clock: ManualClock
    ctx: RolloutContext
    template: TemplateRepo

    def plan(self, version: str = "v2") -> Plan:
        members = [
            Member(c.repo, "canary" if c.ring == "canary" else None)
            for c in self.store.consumers(template="svc")
        ]
        return plan_rollout("svc", version, members, self.ctx.policy)


def make_fleet(
    tmp_path: Path,
    repos: Sequence[str],
    *,
    canaries: Sequence[str] = (),
    policy: RolloutPolicy | None = None,
    v2: Mapping[str, str] | None = None,
) -> Fleet:
    template = TemplateRepo.create(tmp_path / "tpl")
    template.release("v1", {"README.md": "# {{ name }}\n", "app.py": "print('v1')\n"})
    template.release("v2", dict(v2 or {"README.md": "# {{ name }}\n", "app.py": "print('v2')\n"}))
    forge = RecordingForge()
    forge.add_repo("acme/tpl", {"template.yml": File(b"name: svc\n")})
    clock = ManualClock(START)
    store = Store.open(f"sqlite:///{tmp_path / 'evobot.db'}", clock=clock)
    store.upsert_installation(7, "acme", cause="test")
    store.upsert_template("svc", REMOTE, cause="test")
    for i, name in enumerate(repos):
        dest = make_consumer(template, tmp_path / f"c{i}", ref="v1", git=False)
        config = load_consumer_config(dest).model_copy(update={"template": REMOTE})
        files = read_tree(dest)
        files[CONFIG_NAME] = File(dump_consumer_config(config).encode())
        forge.add_repo(name, files)
        store.upsert_consumer(
            name,
            template="svc",
            installation_id=7,
            current_version="v1",
            ring="canary" if name in canaries else None,
            cause="test",
        )
    ctx = RolloutContext(
        forge=forge,
        store=store,
        clock=clock,
        templates=LocalTemplates(template.root),
        policy=policy or RolloutPolicy(bake_seconds=0),
        evolve=EvolvePrOptions(checks=CheckOptions(enabled=False)),
        preflight=PreflightOptions(checks=CheckOptions(enabled=False)),
    )
    return Fleet(forge, store, clock, ctx, template)
