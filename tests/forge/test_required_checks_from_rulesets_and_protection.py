"""Checks required through classic branch protection count as much as those required by
rulesets: the forge unites both, from endpoints that need no admin permission."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from forge_helpers import emulated

from bot.forge.checkstate import required_from_protection, required_from_rules, union_required


def test_classic_protection_and_rulesets_are_united(tmp_path: Path) -> None:
    with emulated(
        tmp_path / "emu",
        consumers=2,
        svc1={"required_checks": ["ci"], "protection_checks": ["lint", "ci"]},
        svc2={"protection_checks": ["lint"], "ci": {"name": "ci", "always": "success"}},
    ) as (emu, forge):
        assert forge.required_checks("acme/svc1", "main") == ("ci", "lint")
        assert forge.required_checks("acme/svc2", "main") == ("lint",)
        assert forge.required_checks("acme/svc2", "no-such-branch") == ()

        head = emu.push_commit("acme/svc2", "main", {"a.txt": "a\n"})
        emu.wait_for_ci()
        state = forge.commit_state("acme/svc2", head, branch="main")
        # "ci" is green, but classic protection requires "lint", which never reported.
        assert state.state == "pending"
        assert state.missing == ("lint",)


RULES = [
    {"type": "pull_request", "parameters": {}},
    {
        "type": "required_status_checks",
        "parameters": {"required_status_checks": [{"context": "ci"}, {"context": "ci"}]},
    },
    {"type": "required_status_checks", "parameters": {"required_status_checks": [{}]}},
]


@pytest.mark.parametrize(
    ("rules", "expected"),
    [(RULES, ("ci",)), ([], ()), (None, ()), ({"message": "x"}, ()), (["junk"], ())],
)
def test_rules_answer_parsing(rules: Any, expected: tuple[str, ...]) -> None:
    assert required_from_rules(rules) == expected


def _branch(required: Any) -> dict[str, Any]:
    return {"name": "main", "protection": {"enabled": True, "required_status_checks": required}}


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        (
            _branch(
                {
                    "enforcement_level": "non_admins",
                    "contexts": ["build"],
                    "checks": [{"context": "build", "app_id": 1}, {"context": "test"}],
                }
            ),
            ("build", "test"),
        ),
        (_branch({"enforcement_level": "off", "contexts": ["build"]}), ()),
        (_branch({"contexts": [], "checks": [{"context": "only-checks"}]}), ("only-checks",)),
        (_branch(None), ()),
        ({"name": "main"}, ()),
        ({"name": "main", "protection": "weird"}, ()),
        (None, ()),
    ],
)
def test_protection_answer_parsing(branch: Any, expected: tuple[str, ...]) -> None:
    assert required_from_protection(branch) == expected


def test_union_keeps_first_seen_order_once_each() -> None:
    assert union_required(("a", "b"), ("b", "c", "a"), ()) == ("a", "b", "c")
