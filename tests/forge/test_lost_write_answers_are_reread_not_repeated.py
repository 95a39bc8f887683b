"""A write whose answer is lost after GitHub carried it out is looked up before anything is
sent again: no duplicate, no 422 from repeating it."""

from __future__ import annotations

from pathlib import Path

from forge_helpers import emulated


def test_lost_branch_creation_is_found_by_reading_the_ref(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu", speed=2000) as (emu, forge):
        head = emu.branch_sha("acme/svc1", "main")
        assert head is not None
        emu.reset_counters()
        emu.fail_next(1, status=502, match=r"POST /repos/\{owner\}/\{repo\}/git/refs$", after=True)
        assert forge.create_branch("acme/svc1", "evobot/x", head) is True
        assert emu.injected_faults == 1
        assert emu.branch_sha("acme/svc1", "evobot/x") == head
        assert emu.counters["POST /repos/{owner}/{repo}/git/refs"] == 1
        reads = {e: n for e, n in emu.counters.snapshot()["endpoints"].items() if "/git/ref/" in e}
        assert list(reads.values()) == [1], reads  # one look at the ref instead of a repeat


def test_lost_comment_is_found_by_its_body(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu", speed=2000) as (emu, forge):
        head = emu.branch_sha("acme/svc1", "main")
        assert head is not None
        forge.create_branch("acme/svc1", "feature", head)
        emu.push_commit("acme/svc1", "feature", {"f.txt": "f\n"})
        number = forge.create_pull(
            "acme/svc1", title="t", body="b", head="feature", base="main"
        ).number
        emu.reset_counters()
        emu.fail_next(
            1,
            status=504,
            match=r"POST /repos/\{owner\}/\{repo\}/issues/\{number\}/comments$",
            after=True,
        )
        comment = forge.create_comment("acme/svc1", number, "hello once")
        assert emu.injected_faults == 1
        assert comment.body == "hello once"
        assert [c["body"] for c in emu.comments("acme/svc1", number)] == ["hello once"]
        assert emu.counters["POST /repos/{owner}/{repo}/issues/{number}/comments"] == 1
