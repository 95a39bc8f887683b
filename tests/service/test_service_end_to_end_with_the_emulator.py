"""The service over HTTP against the emulator, which sends it real signed webhooks: an
installation makes it discover the consumers; a tag on the template records the version; an
evolution PR merged is recorded with its merge commit and post-merge checks; replaying every
delivery three times, out of order, ends in the same state."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from evobot_testing import build_file_tree, git_commit_all, git_init
from service_support import (
    CONSUMER,
    TEMPLATE_FILES,
    TEMPLATE_REPO,
    emulator_settings,
    fleet_seed,
    private_key_pem,
    running_service,
    store_state,
)

from bot.emulator.testing import running_emulator

BRANCH = "evobot/acme-greeter-template/v1.1.0"


@pytest.fixture
def template_src(tmp_path: Path) -> Path:
    root = git_init(tmp_path / "template-src")
    build_file_tree(root, TEMPLATE_FILES)
    git_commit_all(root, "v1", tag="v1.0.0")
    return root


def test_installation_discovers_consumers_and_a_merged_pr_is_recorded(
    tmp_path: Path, db_url: str, template_src: Path
) -> None:
    with running_emulator(fleet_seed(template_src, private_key_pem()), tmp_path / "gh") as gh:
        # Rollouts off: this test opens the evolution PR itself (a rollout would open its own).
        settings = emulator_settings(gh, db_url, tmp_path / "state", rollouts=False)
        with running_service(settings, workers=2) as svc:
            gh.set_webhook(svc.webhook_url, secret=settings.secret())

            installation = gh.install("acme")
            svc.drain(settle=gh.settle)
            consumers = svc.service.store.consumers()
            assert [(c.repo, c.template, c.current_version, c.ring) for c in consumers] == [
                (CONSUMER, TEMPLATE_REPO, "v1.0.0", "canary")
            ]
            assert consumers[0].installation_id == installation
            stored_installation = svc.service.store.installation(installation)
            assert stored_installation is not None and stored_installation.account == "acme"

            # A new tag on the template: its newest version.
            head = gh.branch_sha(TEMPLATE_REPO, "main")
            gh.emulator.move_ref(TEMPLATE_REPO, "refs/tags/v1.1.0", head, pusher="octocat")
            svc.drain(settle=gh.settle)
            template = svc.service.store.template(TEMPLATE_REPO)
            assert template is not None and template.latest_version == "v1.1.0"

            # An evolution PR, opened, checked and merged.
            gh.push_commit(CONSUMER, BRANCH, {"hello.txt": "Hello, Ada!\n"}, author="evobot[bot]")
            number = gh.open_pull(CONSUMER, BRANCH, title="evolve", user="evobot[bot]")
            svc.drain(settle=gh.settle)
            opened = svc.service.store.evolution_prs(repo=CONSUMER)
            assert [(p.number, p.state, p.template_version) for p in opened] == [
                (number, "open", "v1.1.0")
            ]
            assert opened[0].check_state == "success"

            merge_commit = gh.merge(CONSUMER, number, by="alice")
            svc.drain(settle=gh.settle)
            merged = svc.service.store.evolution_prs(repo=CONSUMER)[0]
            assert (merged.state, merged.merge_commit) == ("merged", merge_commit)
            audit = svc.service.store.audit_log(entity=f"evolution-pr:{CONSUMER}#{number}")
            assert any(r.change == "post-merge checks: success" for r in audit)

            # Nothing failed, and each delivery was processed by exactly one job.
            deliveries = gh.deliveries
            assert deliveries and all(d.status_code == 202 for d in deliveries)
            jobs = svc.service.store.jobs(limit=1000)
            assert sorted(j.delivery_id for j in jobs) == sorted(d.guid for d in deliveries)
            assert {j.state for j in jobs} == {"done"}
            first_state = store_state(svc.service)

        # The same deliveries, each three times, shuffled, into a fresh database.
        replay = [d for d in deliveries for _ in range(3)]
        random.Random(3).shuffle(replay)
        other = emulator_settings(
            gh,
            f"sqlite:///{tmp_path / 'replay' / 'evobot.db'}",
            tmp_path / "replay",
            rollouts=False,
        )
        with running_service(other, workers=2) as svc:
            answers = [svc.post(d.headers, d.body).status_code for d in replay]
            assert sorted(set(answers)) == [200, 202]
            assert answers.count(202) == len(deliveries)
            svc.drain()
            assert store_state(svc.service) == first_state
            jobs = svc.service.store.jobs(limit=1000)
            assert len(jobs) == len(deliveries)
            assert {j.state for j in jobs} == {"done"}
