"""`revert_pr`: open (or update) the PR that reverts a merged evolution, keeping later edits.

The revert is a three-way merge per touched file (the evolution's result as base, the current
default branch as ours, the pre-evolution content as theirs), so edits made since the evolution
stay. A re-run over unchanged content finds its PR by branch and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import structlog

from bot.errors import ForgeError
from bot.evolution import merge_trees
from bot.forge.port import CommitState, Forge, PullRequest
from bot.pipeline.evolution_pr import diff_trees, digest_of, write_commit
from bot.pipeline.markers import PrMarker, comment_marker, with_pr_marker
from bot.tree import Tree

__all__ = ["RevertPrOptions", "RevertPrResult", "revert_pr"]

log = structlog.get_logger(__name__)

Action = Literal["created", "updated", "unchanged", "blocked", "no-change"]


@dataclass(frozen=True)
class RevertPrOptions:
    """How `revert_pr` works: ``labels`` cost one more write each time a PR is created (default:
    none); ``read_checks`` reads the reverted commit's checks for the body (2 requests)."""

    labels: tuple[str, ...] = ()
    read_checks: bool = True


@dataclass(frozen=True)
class RevertPrResult:
    """What happened to the revert PR of one merged evolution PR, and what it cost.

    ``checks`` is the default branch commit's state as read (or given); ``checks_unknown``
    says why it could not be read, when it could not.
    """

    repo: str
    action: Action
    branch: str
    message: str
    number: int | None = None
    url: str | None = None
    reverted: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    checks: CommitState | None = None
    checks_unknown: str | None = None
    requests: int = 0
    auth_requests: int = 0

    @property
    def failing_checks(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks.failing) if self.checks is not None else ()

    def to_json(self) -> dict[str, Any]:
        """The result as `evobot pr revert --json` prints it."""
        return {
            "repo": self.repo,
            "action": self.action,
            "message": self.message,
            "number": self.number,
            "url": self.url,
            "branch": self.branch,
            "reverted": list(self.reverted),
            "conflicts": list(self.conflicts),
            "failing_checks": list(self.failing_checks),
            "checks_unknown": self.checks_unknown,
            "requests": self.requests,
            "auth_requests": self.auth_requests,
        }


def _revert_body(
    evolution_pr: PullRequest,
    reverted: Sequence[str],
    conflicts: Sequence[str],
    state: CommitState | None,
    state_unknown: str | None = None,
) -> str:
    lines = [
        f"Reverts the evolution in #{evolution_pr.number} ({evolution_pr.title}).",
        "",
        "Each file the evolution touched was merged back three ways (evolution result as base, "
        "the current default branch as ours, the pre-evolution content as theirs), so edits "
        "made since the evolution stay.",
        "",
    ]
    if state is not None and state.failing:
        lines.append("### Failing checks")
        for check in state.failing:
            link = f"[{check.name}]({check.url})" if check.url else check.name
            lines.append(f"- {link} ({check.conclusion or check.state}) on `{state.sha[:12]}`")
        lines.append("")
    elif state_unknown is not None:
        lines.append("### Checks")
        lines.append(f"Status unknown: {state_unknown}")
        lines.append("")
    if conflicts:
        lines.append("### Conflicts to resolve")
        lines.append("These files changed both in the evolution and since; they carry markers:")
        lines.extend(f"- `{path}`" for path in conflicts)
        lines.append("")
    lines.append(f"### Files reverted ({len(reverted)})")
    lines.extend(f"- `{path}`" for path in reverted[:200])
    if len(reverted) > 200:
        lines.append(f"- … and {len(reverted) - 200} more")
    lines.append("")
    lines.append(comment_marker("revert", evolution_pr.number))
    return "\n".join(lines)


def _read_state(forge: Forge, repo: str, sha: str) -> tuple[CommitState | None, str | None]:
    """The commit's checks for the body, or why they are unknown: the read only informs."""
    try:
        return forge.commit_state(repo, sha), None
    except ForgeError as exc:
        log.warning("forge.revert_state_unknown", repo=repo, sha=sha, status=exc.status)
        return None, f"the checks of `{sha[:12]}` could not be read ({exc.message})"


def revert_pr(
    forge: Forge,
    repo: str,
    number: int,
    *,
    options: RevertPrOptions = RevertPrOptions(),
    state: CommitState | None = None,
) -> RevertPrResult:
    """Open (or update) ``evobot/revert/<number>`` reverting a merged evolution PR's changes.

    The revert targets the evolution PR's base branch, read at one commit (the tarball names
    it), so the tree, the checks and the new commit's parent all agree. ``state`` is that
    commit's checks if the caller has them; otherwise ``options.read_checks`` reads them, and
    a failed read only makes the body say the status is unknown.

    Budget: 7 reads (the PR, 3 tarballs, the revert PR by branch, check runs, combined status)
    and, the first time, 4 writes (tree, commit, ref, PR) plus one for ``options.labels``; a
    re-run over unchanged content writes nothing.
    """
    labels = options.labels
    pull = forge.get_pull(repo, number)
    if not pull.merged:
        raise ForgeError(f"{repo}#{number} is not merged; there is nothing to revert")
    marker = PrMarker.parse(pull.body)
    if marker is not None:
        evolved, before = marker.head, marker.base
    elif pull.merge_commit_sha:
        evolved = pull.merge_commit_sha
        parents = forge.get_commit(repo, evolved).parents
        if not parents:
            raise ForgeError(f"{repo}#{number}: its merge commit has no parent")
        before = parents[0]
    else:
        raise ForgeError(f"{repo}#{number} records neither evobot's commit nor a merge commit")
    base_branch = pull.base_ref or forge.get_repository(repo).default_branch
    current = forge.read_tree(repo, base_branch)
    evolved_tree = forge.read_tree(repo, evolved).tree
    before_tree = forge.read_tree(repo, before).tree
    touched = diff_trees(before_tree, evolved_tree)
    base: Tree = {p: evolved_tree[p] for p in touched if p in evolved_tree}
    theirs: Tree = {p: before_tree[p] for p in touched if p in before_tree}
    merged = merge_trees(base, theirs, current.tree, template_label=f"before #{number}")
    diff = diff_trees(current.tree, merged.tree)
    branch = f"evobot/revert/{number}"
    if not diff:
        return RevertPrResult(
            repo,
            "no-change",
            branch,
            f"the changes of #{number} are already gone",
            requests=forge.requests,
            auth_requests=forge.auth_requests,
        )
    digest = digest_of(diff)
    reverted = tuple(sorted(diff))
    existing = forge.find_pull(repo, branch)
    if existing is not None and existing.state != "open":
        existing = None
    login = forge.bot_login()  # asked once per process
    if existing is not None and login is not None and existing.user_login != login:
        who = f"@{existing.user_login}" if existing.user_login else "someone else"
        return RevertPrResult(
            repo,
            "blocked",
            branch,
            f"#{existing.number} from {branch} was opened by {who}, not by evobot: evobot "
            "leaves it alone (rename that branch or close the PR to let evobot open its own)",
            existing.number,
            existing.html_url,
            requests=forge.requests,
            auth_requests=forge.auth_requests,
        )
    unknown: str | None = None
    if state is None and options.read_checks:
        state, unknown = _read_state(forge, repo, current.commit_sha)
    title = f"evobot: revert #{number} ({pull.title})"
    body = _revert_body(pull, reverted, merged.conflicts, state, unknown)

    def outcome(action: Action, message: str, pr: PullRequest) -> RevertPrResult:
        return RevertPrResult(
            repo,
            action,
            branch,
            message,
            pr.number,
            pr.html_url,
            reverted,
            merged.conflicts,
            state,
            unknown,
            requests=forge.requests,
            auth_requests=forge.auth_requests,
        )

    if existing is not None:
        old = PrMarker.parse(existing.body)
        # A revert PR without a marker predates them; evobot always force-pushed those.
        if old is not None and old.head != existing.head_sha:
            return outcome(
                "blocked",
                f"#{existing.number} has commits evobot did not write; not force-pushing",
                existing,
            )
        if old is not None and old.digest == digest:
            wanted = with_pr_marker(body, old)
            if existing.title != title or existing.body != wanted:
                forge.update_pull(repo, existing.number, title=title, body=wanted)
            return outcome("unchanged", f"#{existing.number} already reverts #{number}", existing)
    commit = write_commit(
        forge,
        current,
        diff,
        f"evobot: revert #{number}\n\nReverts the evolution commit {evolved}.\n",
    )
    new_marker = PrMarker(branch, commit, current.commit_sha, digest, "revert", str(number))
    body = with_pr_marker(body, new_marker)
    if existing is not None:
        forge.update_branch(repo, branch, commit, force=True)
        forge.update_pull(repo, existing.number, title=title, body=body)
        return outcome("updated", f"#{existing.number} updated", existing)
    if not forge.create_branch(repo, branch, commit):
        # Left over from a closed revert PR: the branch is the bot's, so it may be reset.
        forge.update_branch(repo, branch, commit, force=True)
    created = forge.create_pull(repo, title=title, body=body, head=branch, base=base_branch)
    if labels:  # opt-in: one more content-creating request
        forge.add_labels(repo, created.number, list(labels))
    return outcome("created", f"opened #{created.number}", created)
