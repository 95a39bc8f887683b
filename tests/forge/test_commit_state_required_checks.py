"""A commit's state honours the branch's required checks from its active rules."""

from __future__ import annotations

from pathlib import Path

from forge_helpers import emulated


def test_required_checks_decide_pending_success_and_failure(tmp_path: Path) -> None:
    with emulated(
        tmp_path / "emu",
        consumers=2,
        svc1={"required_checks": ["ci", "lint"], "ci": {"name": "ci", "always": "success"}},
        svc2={"required_checks": ["ci"], "ci": {"name": "ci", "always": "success"}},
    ) as (emu, forge):
        assert forge.required_checks("acme/svc1", "main") == ("ci", "lint")
        one = emu.push_commit("acme/svc1", "main", {"a.txt": "a\n"})
        two = emu.push_commit("acme/svc2", "main", {"a.txt": "a\n"})
        emu.wait_for_ci()

        waiting = forge.commit_state("acme/svc1", one, branch="main")
        assert waiting.state == "pending"
        assert waiting.missing == ("lint",)
        assert [c.name for c in waiting.checks if c.state == "success"] == ["ci"]
        # Without the branch's rules, every reported check counts: all green.
        assert forge.commit_state("acme/svc1", one).state == "success"
        assert forge.commit_state("acme/svc2", two, branch="main").state == "success"

        emu.set_ci("acme/svc2", {"name": "ci", "always": "failure"})
        broken = emu.push_commit("acme/svc2", "main", {"b.txt": "b\n"})
        emu.wait_for_ci()
        failed = forge.commit_state("acme/svc2", broken, branch="main")
        assert failed.state == "failure"
        assert [c.name for c in failed.failing] == ["ci"]
        assert failed.failing[0].url
