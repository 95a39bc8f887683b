"""What the loop ended with, read back from the emulator (PRs, CI) and the service's store
(the rollout, its waves and transitions): the summary table and `evobot demo --json`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.demo.fleet import Fleet
from bot.demo.maintainer import ci_conclusion, evolution_prs, revert_prs
from bot.emulator.testing import EmulatorHandle
from bot.rollout import RolloutState

if TYPE_CHECKING:
    from bot.demo.maintainer import Maintainer

__all__ = ["Summary", "pr_state", "summarise"]


def pr_state(pr: dict[str, Any] | None) -> str:
    """``open``, ``merged``, ``closed`` (unmerged), or ``none``."""
    if pr is None:
        return "none"
    if pr.get("merged_at"):
        return "merged"
    return str(pr["state"])


@dataclass(frozen=True)
class Summary:
    """``data`` is the `--json` document; ``ok`` says whether the whole story happened."""

    data: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.data["ok"])

    @property
    def status(self) -> str | None:
        state = self.data["rollout"]["state"]
        return str(state) if state is not None else None


def _consumer(
    gh: EmulatorHandle, repo: str, canary: bool, status: str | None, wave: int | None
) -> dict[str, Any]:
    prs = evolution_prs(gh, repo)
    pr = max(prs, key=lambda p: int(p["number"])) if prs else None
    reverts = revert_prs(gh, repo)
    default_ci = ci_conclusion(gh, repo, pr.get("merge_commit_sha")) if pr else None
    return {
        "repo": repo,
        "canary": canary,
        "wave": wave,
        "status": status,
        "pr": int(pr["number"]) if pr else None,
        "pr_state": pr_state(pr),
        "checks": {
            "pr": ci_conclusion(gh, repo, pr["head_sha"]) if pr else None,
            "default_branch": default_ci,
        },
        "reverted": bool(reverts),
        "revert_pr": int(reverts[0]["number"]) if reverts else None,
    }


def summarise(
    gh: EmulatorHandle,
    fleet: Fleet,
    key: str,
    state: RolloutState | None,
    maintainer: Maintainer,
    story: Sequence[str],
    stopped: str | None,
    transitions: Sequence[dict[str, Any]] = (),
) -> Summary:
    canaries = set(fleet.canaries)
    waves: list[dict[str, Any]] = []
    if state is not None:
        for index, wave in enumerate(state.waves):
            waves.append(
                {
                    "number": wave.number,
                    "status": wave.status,
                    "consumers": [
                        _consumer(gh, c.repo, c.repo in canaries, c.status, index)
                        for c in state.in_wave(index)
                    ],
                }
            )
    planned = {c["repo"] for w in waves for c in w["consumers"]}
    outside = [
        _consumer(gh, c.repo, c.canary, None, None)
        for c in fleet.consumers
        if c.repo not in planned
    ]
    reverts = [
        {
            "repo": repo,
            "number": int(p["number"]),
            "state": pr_state(p),
            "title": str(p["title"]),
            "checks": ci_conclusion(gh, repo, p["head_sha"]),
        }
        for repo in (c.repo for c in fleet.consumers)
        for p in revert_prs(gh, repo)
    ]
    status = state.status if state is not None else None
    halted = maintainer.resumed_on is not None or status == "halted"
    resumed = maintainer.resumed_on is not None
    story_ok = (
        stopped is None
        and status == "completed"
        and bool(reverts)
        and halted
        and resumed
        and all(c["pr_state"] == "merged" for w in waves for c in w["consumers"])
        if maintainer.break_one
        else stopped is None and status == "completed"
    )
    data: dict[str, Any] = {
        "rollout": {
            "key": key,
            "template": state.template if state else fleet.template_repo,
            "version": state.version if state else key.rpartition("@")[2],
            "state": status,
            "reason": state.reason if state else None,
        },
        "waves": waves,
        "not_in_rollout": outside,
        "revert_prs": reverts,
        "halted": halted,
        "resumed": resumed,
        "resumed_by": (
            {
                "user": maintainer.login,
                "repo": maintainer.resumed_on[0],
                "number": maintainer.resumed_on[1],
            }
            if maintainer.resumed_on
            else None
        ),
        "broken_consumer": maintainer.broken,
        "transitions": list(transitions),
        "story": list(story),
        "stopped": stopped,
        "ok": story_ok,
    }
    return Summary(data)
