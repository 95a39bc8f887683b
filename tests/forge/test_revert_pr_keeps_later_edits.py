"""A revert PR undoes exactly a merged evolution, keeps later consumer edits, lists conflicts and
links the failing checks."""

from __future__ import annotations

from pathlib import Path

from forge_helpers import emulated, open_pr

from bot.pipeline import revert_pr


def test_revert_undoes_the_evolution_and_keeps_later_edits(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        evolution = open_pr(forge, tmp_path, vcs_ref="v2")
        emu.merge("acme/svc1", evolution.number)
        readme = emu.read_file("acme/svc1", "main", "README.md")
        assert readme is not None and b"line 4 (v2)" in readme
        emu.set_ci("acme/svc1", {"name": "ci", "always": "failure"})
        head = emu.push_commit(
            "acme/svc1",
            "main",
            {
                "README.md": readme.replace(b"line 1\n", b"line 1 (ours)\n"),
                "app.py": "print('v2 patched')\n",
                "notes.md": "added after the evolution\n",
            },
            "Local edits after the evolution",
        )
        emu.wait_for_ci()
        state = forge.commit_state("acme/svc1", head, branch="main")
        assert state.state == "failure"

        outcome = revert_pr(forge, "acme/svc1", evolution.number or 0, state=state)
        assert outcome.action == "created"
        assert outcome.branch == f"evobot/revert/{evolution.number}"
        files = emu.files("acme/svc1", outcome.branch)
        assert b"line 1 (ours)" in files["README.md"]  # the later edit survives
        assert b"line 4 (v2)" not in files["README.md"]  # the evolution's change is gone
        assert files["old.txt"] == b"removed in v2\n"  # the deleted file comes back
        assert files["notes.md"] == b"added after the evolution\n"
        assert b"<<<<<<<" in files["app.py"]  # changed on both sides: a real conflict
        assert outcome.conflicts == ("app.py",)

        pull = forge.get_pull("acme/svc1", outcome.number or 0)
        assert "`app.py`" in pull.body
        failing = state.failing[0]
        assert failing.url and failing.url in pull.body
        assert pull.labels == ()  # labels are opt-in
