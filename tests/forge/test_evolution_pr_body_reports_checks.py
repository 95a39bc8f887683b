"""`pr open` checks the evolved tree and says in the PR body whether the policy blocks it."""

from __future__ import annotations

from pathlib import Path

from forge_helpers import emulated, open_pr

from bot.pipeline import CheckOptions


def test_a_template_change_with_eval_is_reported_as_blocking(tmp_path: Path) -> None:
    checks = CheckOptions(cache_path=tmp_path / "checks.sqlite")
    with emulated(tmp_path / "emu") as (emu, forge):
        emu.push_commit(
            "acme/tpl", "main", {"files/app.py": "eval(input())\n"}, "run what you are told"
        )
        opened = open_pr(forge, tmp_path, vcs_ref="main", checks=checks)

        assert opened.action == "created"
        assert opened.checks is not None and opened.checks.passed is False
        body = forge.get_pull("acme/svc1", opened.number).body
        assert "**checks blocked**" in body
        assert "| validator |" in body


def test_a_clean_evolution_passes_its_checks(tmp_path: Path) -> None:
    checks = CheckOptions(cache_path=tmp_path / "checks.sqlite")
    with emulated(tmp_path / "emu") as (_emu, forge):
        opened = open_pr(forge, tmp_path, vcs_ref="v2", checks=checks)

        assert opened.checks is not None and opened.checks.passed is True
        assert "checks passed" in forge.get_pull("acme/svc1", opened.number).body
