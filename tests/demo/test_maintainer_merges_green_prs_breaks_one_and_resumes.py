"""The demo's maintainer against the emulator alone (no service): merges each evolution PR once
its CI is green, turns the first non-canary's default branch red with its merge and mends CI
afterwards, leaves PRs with red or running CI alone, and answers a halted rollout with one
`/evobot resume --rollout` on the broken consumer's PR once a revert PR is there."""

from __future__ import annotations

from pathlib import Path

from bot.demo.fleet import MAINTAINER, make_fleet
from bot.demo.maintainer import RESUME, Maintainer, ci_conclusion
from bot.emulator.testing import EmulatorHandle, running_emulator

BRANCH = "evobot/acme-fastapi-service/v1.1.0"


def _open_pr(gh: EmulatorHandle, repo: str, branch: str, text: str) -> int:
    gh.push_commit(repo, branch, {"NOTES.md": text}, "evolution", author="evobot[bot]")
    return gh.open_pull(repo, branch, title=f"evobot: {branch}", user="evobot[bot]")


def test_maintainer_merges_breaks_one_mends_and_resumes_once(tmp_path: Path) -> None:
    fleet = make_fleet(3)
    canary_a, canary_b, other = (c.repo for c in fleet.consumers)
    status: dict[str, str | None] = {"now": "wave-open"}
    said: list[str] = []

    with running_emulator(fleet.seed(), tmp_path / "github") as gh:
        maintainer = Maintainer(
            gh,
            repos=(canary_a, canary_b, other),
            canaries=fleet.canaries,
            status=lambda: status["now"],
            say=said.append,
        )
        for repo in (canary_a, canary_b, other):
            assert _open_pr(gh, repo, BRANCH, "v1.1.0\n") == 1
        gh.set_ci(canary_b, {"always": "failure"})
        gh.push_commit(canary_b, BRANCH, {"NOTES.md": "red\n"}, "red", author="evobot[bot]")
        gh.settle()

        maintainer.step()

        assert maintainer.merged == {canary_a: 1, other: 1}
        assert gh.pull(canary_b, 1)["state"] == "open"  # red CI: left alone
        assert maintainer.broken == other
        gh.settle()
        merge_sha = gh.pull(other, 1)["merge_commit_sha"]
        assert ci_conclusion(gh, other, merge_sha) == "failure"
        assert ci_conclusion(gh, canary_a, gh.pull(canary_a, 1)["merge_commit_sha"]) == "success"

        status["now"] = "halted"
        maintainer.step()  # no revert PR yet: no resume
        assert maintainer.mended
        assert maintainer.resumed_on is None
        assert not [c for c in gh.comments(other, 1) if c["body"] == RESUME]

        revert = _open_pr(gh, other, "evobot/revert/1", "reverted\n")
        gh.settle()
        assert ci_conclusion(gh, other, gh.pull(other, revert)["head_sha"]) == "success"
        maintainer.step()
        maintainer.step()

        assert maintainer.reverts == {other: revert}
        assert maintainer.resumed_on == (other, 1)
        resumes = [c for c in gh.comments(other, 1) if c["body"] == RESUME]
        assert len(resumes) == 1
        assert resumes[0]["user"] == MAINTAINER
        assert gh.pull(other, revert)["state"] == "open"  # the revert waits for review
    assert f"@{MAINTAINER} commented {RESUME} on {other}#1" in said
