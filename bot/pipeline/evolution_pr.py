"""Writing an evolution PR over the Forge port, in as few requests as possible.

A new evolution PR costs four requests (tree, commit, branch, PR; a fifth, the labels, only when
the consumer's or the organisation's policy asks for them) after the consumer has been read; an
unchanged re-run costs none beyond reading, because the PR body's hidden marker says which
change the branch already carries. Human commits on the bot's branch stop the bot from
force-pushing until someone asks for ``/evobot recreate``. The bot's PRs are the open ones from
an ``evobot/`` branch of the repository itself *and* by the bot's own login; a person's PR from
such a branch is never updated, closed or force-pushed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import structlog

from bot.evolution import Evolution
from bot.forge.port import Forge, PullRequest, RepoInfo, Snapshot, TreeChange
from bot.pipeline.markers import PrMarker, change_digest, comment_marker, with_pr_marker
from bot.tree import File, is_binary, refuse_git_dir

__all__ = [
    "BOT_PREFIX",
    "ConsumerState",
    "PrOutcome",
    "branch_name",
    "diff_trees",
    "digest_of",
    "open_or_update_evolution_pr",
    "read_consumer",
    "ref_component",
    "tree_changes",
    "write_commit",
]

log = structlog.get_logger(__name__)

HUMAN_COMMITS = "human-commits"
BOT_PREFIX = "evobot/"

_UNSAFE_REF = re.compile(r"[^A-Za-z0-9._-]+")


def ref_component(text: str) -> str:
    """``text`` made safe as one component of a Git branch name (``git check-ref-format``)."""
    cleaned = _UNSAFE_REF.sub("-", text.strip()).strip(".-")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    if cleaned.endswith(".lock"):
        cleaned = cleaned[: -len(".lock")] + "-lock"
    return cleaned[:80] or "unnamed"


def branch_name(template: str, version: str) -> str:
    """``evobot/<template>/<version>``: one branch per template version and consumer."""
    return f"{BOT_PREFIX}{ref_component(template)}/{ref_component(version)}"


def diff_trees(current: Mapping[str, File], target: Mapping[str, File]) -> dict[str, File | None]:
    """Paths whose content or mode differ (``None``: delete), ignoring identical files."""
    changed: dict[str, File | None] = {}
    for path, f in target.items():
        if current.get(path) != f:
            changed[path] = f
    for path in current:
        if path not in target:
            changed[path] = None
    return changed


def _inline(data: bytes) -> str | None:
    """The file as inline tree content, if the API can carry it unchanged (UTF-8 text)."""
    if is_binary(data):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def tree_changes(
    forge: Forge, repo: str, diff: Mapping[str, File | None]
) -> tuple[dict[str, TreeChange], dict[str, bytes]]:
    """Tree entries for ``diff``: inline text, a blob (one request each) for binary content.

    Also returns the bytes of binary files, for the change digest.
    """
    for path in diff:
        refuse_git_dir(path, source=f"the commit for {repo}")  # before any write request
    changes: dict[str, TreeChange] = {}
    binary: dict[str, bytes] = {}
    for path in sorted(diff):
        f = diff[path]
        if f is None:
            changes[path] = TreeChange(delete=True)
            continue
        text = _inline(f.data)
        if text is None:
            binary[path] = f.data
            changes[path] = TreeChange(mode=f.mode, sha=forge.create_blob(repo, f.data))
        else:
            changes[path] = TreeChange(mode=f.mode, content=text)
    return changes, binary


def digest_of(diff: Mapping[str, File | None]) -> str:
    as_changes: dict[str, TreeChange] = {}
    blobs: dict[str, bytes] = {}
    for path, f in diff.items():
        if f is None:
            as_changes[path] = TreeChange(delete=True)
        else:
            as_changes[path] = TreeChange(mode=f.mode)
            blobs[path] = f.data
    return change_digest(as_changes, blobs)


@dataclass(frozen=True)
class ConsumerState:
    """A consumer as read for an evolution: its default branch files, the bot's open PRs, and
    the open PRs people opened from ``evobot/`` branches (``others``: left alone)."""

    repo: RepoInfo
    snapshot: Snapshot
    open_pulls: tuple[PullRequest, ...]
    others: tuple[PullRequest, ...] = ()


def is_bots(pull: PullRequest, login: str | None) -> bool:
    """Whether ``pull`` is the bot's: from an ``evobot/`` branch and by ``login`` (the branch
    prefix alone when the forge cannot name its own login)."""
    return pull.head_ref.startswith(BOT_PREFIX) and (login is None or pull.user_login == login)


def read_consumer(forge: Forge, repo: str) -> ConsumerState:
    """Read the default branch's files and the open ``evobot/`` PRs: two API requests (the
    forge's own login is asked once per process, not per consumer).

    The default branch's name comes from an open bot PR's base when there is one (every
    evolution PR targets it); only a consumer without any asks for the repository (a third).
    """
    snapshot = forge.read_tree(repo)
    login = forge.bot_login()
    listed = forge.list_open_pulls(repo, head_prefix=BOT_PREFIX)
    pulls = tuple(p for p in listed if is_bots(p, login))
    others = tuple(p for p in listed if not is_bots(p, login))
    bases = [
        p.base_ref for p in pulls if p.base_ref and not p.head_ref.startswith("evobot/revert/")
    ]
    info = RepoInfo(repo, bases[0], "") if bases else forge.get_repository(repo)
    return ConsumerState(info, snapshot, pulls, others)


@dataclass(frozen=True)
class PrOutcome:
    """What happened to the evolution PR of one consumer."""

    action: Literal["created", "updated", "unchanged", "blocked", "no-change"]
    branch: str
    message: str
    number: int | None = None
    url: str | None = None
    commit: str | None = None
    superseded: tuple[int, ...] = ()


def _base_tree(forge: Forge, snapshot: Snapshot) -> str:
    if snapshot.tree_sha:
        return snapshot.tree_sha
    return forge.get_commit(snapshot.repo, snapshot.commit_sha).tree_sha


def write_commit(
    forge: Forge, snapshot: Snapshot, diff: Mapping[str, File | None], message: str
) -> str:
    changes, _ = tree_changes(forge, snapshot.repo, diff)
    tree = forge.create_tree(snapshot.repo, _base_tree(forge, snapshot), changes)
    return forge.create_commit(snapshot.repo, message, tree, [snapshot.commit_sha])


def _warn_human_commits(forge: Forge, repo: str, pull: PullRequest) -> None:
    marker = comment_marker(HUMAN_COMMITS)
    for comment in forge.list_comments(repo, pull.number):
        if marker in comment.body:
            return
    forge.create_comment(
        repo,
        pull.number,
        "Someone pushed commits to this branch, so evobot will no longer force-push it and "
        "this PR keeps your changes. Newer template versions still get their own PR.\n\n"
        "To throw the extra commits away and let evobot rebuild the branch, comment "
        "`/evobot recreate`.\n\n" + marker,
    )


def open_or_update_evolution_pr(
    forge: Forge,
    repo: RepoInfo,
    snapshot: Snapshot,
    open_pulls: Sequence[PullRequest],
    evolution: Evolution,
    *,
    title: str,
    body: str,
    recreate: bool = False,
    labels: Sequence[str] = (),
    others: Sequence[PullRequest] = (),
) -> PrOutcome:
    """Create, update or leave the evolution PR of one consumer; close the ones it supersedes.

    ``snapshot`` is the default branch as read (its tree is what ``evolution`` started from);
    ``open_pulls`` are the bot's open PRs and ``others`` the open PRs people opened from
    ``evobot/`` branches (:func:`read_consumer`). A person's PR from the very branch this
    version needs blocks it: the bot neither force-pushes that branch nor opens a second PR.
    """
    name = evolution.template.manifest.name
    version = evolution.to_version.ref or evolution.to_version.commit[:12]
    branch = branch_name(name, version)
    prefix = f"evobot/{ref_component(name)}/"
    diff = diff_trees(snapshot.tree, evolution.tree)
    if not diff:
        return PrOutcome("no-change", branch, f"{repo.full_name} is up to date with {version}")
    digest = digest_of(diff)
    message = (
        f"evobot: update {name} to {version}\n\n"
        f"Template: {evolution.template.source} at {evolution.template.commit}\n"
    )
    theirs = next((p for p in others if p.head_ref == branch), None)
    if theirs is not None:
        who = f"@{theirs.user_login}" if theirs.user_login else "someone else"
        return PrOutcome(
            "blocked",
            branch,
            f"#{theirs.number} from {branch} was opened by {who}, not by evobot: evobot leaves "
            "it alone (rename that branch or close the PR to let evobot open its own)",
            theirs.number,
            theirs.html_url,
            theirs.head_sha,
        )
    existing = next((p for p in open_pulls if p.head_ref == branch), None)
    older = [
        p
        for p in open_pulls
        if p.head_ref.startswith(prefix) and p.head_ref != branch and p.state == "open"
    ]

    if existing is not None:
        marker = PrMarker.parse(existing.body)
        ours = marker is not None and marker.head == existing.head_sha
        if not ours and not recreate:
            _warn_human_commits(forge, repo.full_name, existing)
            return PrOutcome(
                "blocked",
                branch,
                f"#{existing.number} has commits evobot did not write; not force-pushing",
                existing.number,
                existing.html_url,
                existing.head_sha,
            )
        if ours and marker is not None and marker.digest == digest and not recreate:
            wanted = with_pr_marker(body, marker)
            if existing.title != title or existing.body != wanted:
                forge.update_pull(repo.full_name, existing.number, title=title, body=wanted)
            return PrOutcome(
                "unchanged",
                branch,
                f"#{existing.number} already carries this change",
                existing.number,
                existing.html_url,
                existing.head_sha,
            )
        commit = write_commit(forge, snapshot, diff, message)
        forge.update_branch(repo.full_name, branch, commit, force=True)
        new_marker = PrMarker(branch, commit, snapshot.commit_sha, digest, name, version)
        forge.update_pull(
            repo.full_name,
            existing.number,
            title=title,
            body=with_pr_marker(body, new_marker),
        )
        missing = [label for label in labels if label not in existing.labels]
        if missing:
            forge.add_labels(repo.full_name, existing.number, missing)
        superseded = _supersede(forge, repo.full_name, older, existing)
        return PrOutcome(
            "updated",
            branch,
            f"#{existing.number} updated",
            existing.number,
            existing.html_url,
            commit,
            superseded,
        )

    commit = write_commit(forge, snapshot, diff, message)
    if not forge.create_branch(repo.full_name, branch, commit):
        # Left over from a closed PR: the branch is the bot's, so it may be reset.
        forge.update_branch(repo.full_name, branch, commit, force=True)
    new_marker = PrMarker(branch, commit, snapshot.commit_sha, digest, name, version)
    pull = forge.create_pull(
        repo.full_name,
        title=title,
        body=with_pr_marker(body, new_marker),
        head=branch,
        base=repo.default_branch,
    )
    if labels:  # opt-in: each costs a content-creating request per PR
        forge.add_labels(repo.full_name, pull.number, list(labels))
    superseded = _supersede(forge, repo.full_name, older, pull)
    log.info("forge.pr_created", repo=repo.full_name, number=pull.number, branch=branch)
    return PrOutcome(
        "created", branch, f"opened #{pull.number}", pull.number, pull.html_url, commit, superseded
    )


def _supersede(
    forge: Forge, repo: str, older: Sequence[PullRequest], newer: PullRequest
) -> tuple[int, ...]:
    closed: list[int] = []
    for pull in older:
        forge.create_comment(
            repo,
            pull.number,
            f"Superseded by #{newer.number} ({newer.html_url}), which carries a newer template "
            f"version. Closing this one.\n\n{comment_marker('superseded', newer.number)}",
        )
        forge.update_pull(repo, pull.number, state="closed")
        closed.append(pull.number)
    return tuple(closed)
