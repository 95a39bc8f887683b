"""Quiet onboarding over HTTP with the emulator: a repository added to the installation after
two releases, while the second one's rollout runs, gets one PR — to the newest version — under
the template's ``onboarding: one-pr``, and none at all under the default ``onboarding: none``
(it joins the next rollout). Never one PR per past version."""

from __future__ import annotations

from pathlib import Path

import pytest
from rollout_service_support import (
    TEMPLATE,
    consumer_name,
    evolution_pulls,
    fleet_seed,
    rollout_loop,
)


@pytest.mark.parametrize(("policy", "expected"), [("one-pr", ["evobot/svc/v1.2.0"]), (None, [])])
def test_a_late_consumer_gets_one_pr_to_the_newest_version_or_none(
    tmp_path: Path, policy: str | None, expected: list[str]
) -> None:
    first, late = consumer_name(1), consumer_name(2)
    seed = fleet_seed(2, waves=(100.0,), policy={"onboarding": policy} if policy else None)
    with rollout_loop(tmp_path, seed, install=False) as loop:
        installation = loop.gh.install("acme", repositories=[TEMPLATE, first])
        loop.wait(lambda: len(loop.store.consumers()) == 1, 60, "the first consumer")
        assert loop.drive(loop.release("v1.1.0"), timeout=120).status == "completed"
        second = loop.release("v1.2.0", {"files/app.py": "VERSION = 'v1.2.0'\n"})
        loop.wait_status(second, "wave-open")

        loop.gh.add_repositories(installation, [late])
        loop.wait(lambda: len(loop.store.consumers()) == 2, 60, "the late consumer")
        loop.quiet()

        assert [p["head_ref"] for p in evolution_pulls(loop.gh, late)] == expected
        if expected:
            (pull,) = evolution_pulls(loop.gh, late)
            head = loop.gh.read_file(late, pull["head_sha"], "app.py")
            assert head == b"VERSION = 'v1.2.0'\n"
        state = loop.state(second)
        assert state is not None and state.consumer(late) is None  # not added to the rollout
