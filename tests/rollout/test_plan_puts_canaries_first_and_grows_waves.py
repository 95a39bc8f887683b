"""Planning: canary ring first (or a stable sample), explicit ring numbers honoured, the rest by
cumulative percentage; rollout.yml validated; release tags recognised."""

from __future__ import annotations

import pytest

from bot.rollout import (
    Member,
    RolloutPolicy,
    RolloutPolicyError,
    is_release_tag,
    parse_rollout_policy,
    plan_rollout,
)


def fleet(n: int) -> list[Member]:
    return [Member(f"acme/svc{i:03}") for i in range(n)]


def test_canary_ring_is_wave_zero_and_the_rest_fill_10_50_100() -> None:
    members = [Member("acme/canary", "canary"), *fleet(20)]
    plan = plan_rollout("svc", "1.1.0", members, RolloutPolicy())
    assert plan.waves[0].repos == ("acme/canary",) and not plan.canary_sampled
    assert [len(w.repos) for w in plan.waves] == [1, 2, 8, 10]
    assert sorted(plan.repos) == sorted(m.repo for m in members)


def test_without_canaries_a_stable_sample_per_version() -> None:
    policy = RolloutPolicy(canary_percent=10)
    first = plan_rollout("svc", "1.1.0", fleet(30), policy)
    again = plan_rollout("svc", "1.1.0", list(reversed(fleet(30))), policy)
    other = plan_rollout("svc", "1.2.0", fleet(30), policy)
    assert first == again
    assert first.canary_sampled and len(first.waves[0].repos) == 3
    assert first.waves[0].repos != other.waves[0].repos


def test_explicit_ring_numbers_and_paused_consumers() -> None:
    members = [
        Member("acme/a", "canary"),
        Member("acme/late", 5),
        Member("acme/zero", 0),
        Member("acme/held", paused=True),
        *fleet(2),
    ]
    plan = plan_rollout("svc", "1.1.0", members, RolloutPolicy())
    assert set(plan.waves[0].repos) == {"acme/a", "acme/zero"}
    assert plan.waves[-1].number == 5 and plan.waves[-1].repos == ("acme/late",)
    assert plan.paused == ("acme/held",)
    assert "acme/held" not in plan.repos
    assert plan.waves[0].failure_limit == 0


def test_rollout_yml_is_validated_naming_the_key() -> None:
    policy = parse_rollout_policy("waves: [25, 100]\nbake_seconds: 0\nfailure_limit: 2\n")
    assert policy.waves == [25, 100] and policy.bake_seconds == 0
    assert parse_rollout_policy(None) == RolloutPolicy()
    with pytest.raises(RolloutPolicyError, match=r"rollout\.yml: wave_size: Extra inputs"):
        parse_rollout_policy("wave_size: 3\n")
    with pytest.raises(RolloutPolicyError, match="the last wave must reach 100"):
        parse_rollout_policy("waves: [10, 50]\n")
    with pytest.raises(RolloutPolicyError, match="tag_pattern"):
        parse_rollout_policy("tag_pattern: '(['\n")


@pytest.mark.parametrize(
    ("tag", "release"),
    [("1.2.0", True), ("v2.0", True), ("1.2.0rc1", False), ("1.0.dev3", False), ("main", False)],
)
def test_default_tags_are_pep440_final_releases(tag: str, release: bool) -> None:
    assert is_release_tag(tag, RolloutPolicy()) is release


def test_a_tag_pattern_replaces_the_default() -> None:
    policy = RolloutPolicy(tag_pattern=r"release-\d+")
    assert is_release_tag("release-7", policy) and not is_release_tag("1.0.0", policy)
