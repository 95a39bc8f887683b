"""`plan_release`: what a release's rollout would do, without doing it (reads only).

The consumers come from the store (the service's view) or from GitHub: every repository the
App's installations can see whose `.evobot.yml` names the template repository. The template's
``rollout.yml`` at the release ref gives the policy; the preflight, when asked, evolves every
planned consumer in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import structlog

from bot.consumer import CONFIG_NAME, parse_consumer_config
from bot.errors import EvobotError
from bot.forge.port import Forge
from bot.pipeline.fetch import TemplateFetcher
from bot.pipeline.preflight import PreflightOptions, PreflightReport, preflight
from bot.rollout import POLICY_NAME, Member, Plan, RolloutPolicy, parse_rollout_policy, plan_rollout
from bot.store import Store
from bot.template.source_policy import parse_template_url

__all__ = [
    "PlanReport",
    "consumers_from_forge",
    "consumers_from_store",
    "plan_release",
    "read_policy",
]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PlanReport:
    plan: Plan
    policy: RolloutPolicy
    preflight: PreflightReport | None
    skipped: tuple[tuple[str, str], ...] = ()  # (repo, why) for unreadable consumers

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_json(),
            "policy": self.policy.model_dump(mode="json"),
            "preflight": self.preflight.to_json() if self.preflight else None,
            "skipped": [{"repo": r, "reason": why} for r, why in self.skipped],
        }


def _names_template(source: str, template_repo: str) -> bool:
    url = parse_template_url(source)
    return url is not None and (url.repo or "").lower() == template_repo.lower()


def read_policy(
    forge: Forge, template_repo: str, ref: str, subdir: str | None = None
) -> RolloutPolicy:
    """The ``rollout.yml`` beside ``template.yml`` at ``ref`` (defaults when there is none)."""
    path = f"{subdir.strip('/')}/{POLICY_NAME}" if subdir else POLICY_NAME
    data = forge.read_file(template_repo, path, ref=ref)
    return parse_rollout_policy(data, source=f"{template_repo}:{path}@{ref}")


def consumers_from_forge(
    forge: Forge, template_repo: str
) -> tuple[list[Member], list[tuple[str, str]]]:
    """Members for every repository the App sees whose `.evobot.yml` names ``template_repo``;
    and the repositories whose `.evobot.yml` could not be read, with why."""
    members: list[Member] = []
    skipped: list[tuple[str, str]] = []
    for repo in forge.list_app_repositories():
        if repo.lower() == template_repo.lower():
            continue
        data = forge.read_file(repo, CONFIG_NAME)
        if data is None:
            continue
        try:
            config = parse_consumer_config(data, source=f"{repo}:{CONFIG_NAME}")
        except EvobotError as exc:
            skipped.append((repo, exc.message))
            continue
        if _names_template(config.template, template_repo):
            members.append(Member(repo, config.rollout.ring))
    return members, skipped


def _ring(stored: str | None) -> Literal["canary"] | int | None:
    """The store keeps a ring as text: ``canary`` or a wave number."""
    if stored == "canary":
        return "canary"
    if stored is not None and stored.isdigit():
        return int(stored)
    return None


def consumers_from_store(store: Store, template_repo: str) -> list[Member]:
    """Members for the stored consumers of templates whose source is ``template_repo``."""
    members: list[Member] = []
    for consumer in store.consumers():
        template = store.template(consumer.template)
        if template is None or not _names_template(template.source, template_repo):
            continue
        members.append(Member(consumer.repo, _ring(consumer.ring), consumer.paused))
    return members


def plan_release(
    forge: Forge,
    template_repo: str,
    ref: str,
    *,
    members: Sequence[Member],
    templates: TemplateFetcher | None,
    options: PreflightOptions | None = None,
    subdir: str | None = None,
    skipped: Sequence[tuple[str, str]] = (),
    progress: Callable[[str], None] | None = None,
) -> PlanReport:
    """The plan of ``ref``'s rollout over ``members``; with ``templates``, its preflight."""
    policy = read_policy(forge, template_repo, ref, subdir)
    plan = plan_rollout(template_repo, ref, members, policy)
    report = None
    if templates is not None:
        report = preflight(
            forge,
            plan.repos,
            version=ref,
            templates=templates,
            policy=policy.preflight,
            options=options,
            progress=progress,
        )
    return PlanReport(plan, policy, report, tuple(skipped))
