"""The demo's maintainer: watches the fleet on the emulator as a person watches GitHub — merges
each open evolution PR once its CI is green, makes one consumer's CI fail on its default branch
right after its merge (the breakage evobot must catch), and answers a halted rollout with
`/evobot resume` once the revert PR is there.

It acts only through the emulator's handle (as a person with the maintain role) and reads the
rollout's status through a callable, so a test can drive it against the emulator alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.demo.fleet import GREEN_CI, MAINTAINER, RED_CI
from bot.emulator.testing import EmulatorHandle

__all__ = ["CI_NAME", "RESUME", "Maintainer", "ci_conclusion", "evolution_prs", "revert_prs"]

CI_NAME = "ci"
EVOLUTION_PREFIX = "evobot/"
REVERT_PREFIX = "evobot/revert/"
# A bare `/evobot resume` releases one repository; `--rollout` continues the halted rollout
# (it needs the maintain role on the template repository, which the maintainer has).
RESUME = "/evobot resume --rollout"


def ci_conclusion(gh: EmulatorHandle, repo: str, sha: str | None) -> str | None:
    """The emulated CI's verdict on ``sha``: a conclusion (``success``, ``failure``, …),
    ``pending`` while it runs, or None when no CI ran."""
    if not sha:
        return None
    runs = [r for r in gh.check_runs(repo, sha) if r.get("name") == CI_NAME]
    if not runs:
        return None
    latest = max(runs, key=lambda r: int(r.get("id") or 0))
    if latest.get("status") != "completed":
        return "pending"
    return str(latest.get("conclusion") or "neutral")


def evolution_prs(gh: EmulatorHandle, repo: str) -> list[dict[str, Any]]:
    """The repository's evolution PRs (the bot's `evobot/` branches, not its reverts)."""
    return [
        p
        for p in gh.pulls(repo)
        if str(p["head_ref"]).startswith(EVOLUTION_PREFIX)
        and not str(p["head_ref"]).startswith(REVERT_PREFIX)
    ]


def revert_prs(gh: EmulatorHandle, repo: str) -> list[dict[str, Any]]:
    return [p for p in gh.pulls(repo) if str(p["head_ref"]).startswith(REVERT_PREFIX)]


@dataclass
class Maintainer:
    """One pass of :meth:`step` does what a maintainer would do now; call it in a loop.

    ``status()`` is the rollout's status as the service stored it (None before it starts).
    ``break_one`` picks the consumer whose default branch turns red after its merge: the first
    merged outside ``canaries`` (so the canary wave passes and a later wave halts)."""

    gh: EmulatorHandle
    repos: tuple[str, ...]
    canaries: tuple[str, ...]
    status: Callable[[], str | None]
    login: str = MAINTAINER
    break_one: bool = True
    say: Callable[[str], None] = lambda _text: None
    merged: dict[str, int] = field(default_factory=dict)
    broken: str | None = None
    mended: bool = False
    resumed_on: tuple[str, int] | None = None
    reverts: dict[str, int] = field(default_factory=dict)

    def step(self) -> None:
        self._mend_ci()
        self._watch_reverts()
        status = self.status()
        if status == "halted" and self.resumed_on is None and self.reverts:
            self._resume()
        for repo in self.repos:
            for pr in evolution_prs(self.gh, repo):
                if pr["state"] == "open" and ci_conclusion(self.gh, repo, pr["head_sha"]) == (
                    "success"
                ):
                    self._merge(repo, int(pr["number"]))

    def _merge(self, repo: str, number: int) -> None:
        breaking = self.break_one and self.broken is None and repo not in self.canaries
        if breaking:
            # The team's integration tests start failing on main with this merge.
            self.gh.set_ci(repo, RED_CI)
            self.broken = repo
        self.gh.merge(repo, number, by=self.login)
        self.merged[repo] = number
        self.say(f"@{self.login} merged {repo}#{number}")
        if breaking:
            self.say(f"{repo}: CI on the default branch fails after the merge")

    def _mend_ci(self) -> None:
        """Once the broken consumer's merge commit has failed, its team fixes CI: later commits
        (the revert PR among them) are judged by the usual rule again."""
        repo = self.broken
        if repo is None or self.mended:
            return
        prs = [p for p in evolution_prs(self.gh, repo) if p.get("merge_commit_sha")]
        if prs and ci_conclusion(self.gh, repo, prs[-1]["merge_commit_sha"]) == "failure":
            self.gh.set_ci(repo, GREEN_CI)
            self.mended = True

    def _watch_reverts(self) -> None:
        for repo in self.repos:
            if repo in self.reverts:
                continue
            found = revert_prs(self.gh, repo)
            if found:
                number = int(found[0]["number"])
                self.reverts[repo] = number
                self.say(f"evobot opened revert PR {repo}#{number}")

    def _resume(self) -> None:
        repo = self.broken or next(iter(self.reverts))
        number = self.merged.get(repo)
        if number is None:
            return
        self.gh.comment(repo, number, RESUME, user=self.login)
        self.resumed_on = (repo, number)
        self.say(f"@{self.login} commented {RESUME} on {repo}#{number}")
