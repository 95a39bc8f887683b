"""An in-memory :class:`~bot.forge.port.Forge` that records every call, for other parts' tests.

It keeps repositories as commits of :data:`Tree` values, with branches, pull requests,
comments, labels, reactions, permissions and check results, so code written against the port
can be tested on what it did (``calls``, ``pulls``, ``comments``) without HTTP.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bot.errors import ForgeError
from bot.forge.archive import blob_sha
from bot.forge.checkstate import combine_commit_state
from bot.forge.port import (
    CheckResult,
    Comment,
    CommitInfo,
    CommitState,
    Issue,
    PullRequest,
    RepoInfo,
    Snapshot,
    TreeChange,
)
from bot.tree import File, Tree

__all__ = ["Call", "FakeRepo", "RecordingForge"]


@dataclass(frozen=True)
class Call:
    method: str
    repo: str
    args: tuple[Any, ...] = ()


@dataclass
class FakeRepo:
    full_name: str
    default_branch: str = "main"
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, tuple[Tree, tuple[str, ...], str]] = field(default_factory=dict)
    trees: dict[str, Tree] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    comments: dict[int, list[Comment]] = field(default_factory=dict)
    reactions: dict[int, list[str]] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    checks: dict[str, list[CheckResult]] = field(default_factory=dict)
    statuses: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    commit_comments: dict[str, list[Comment]] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)


def _sha(*parts: object) -> str:
    return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()


class RecordingForge:
    """The Forge port in memory. ``calls`` lists every port call in order."""

    def __init__(self, *, host: str = "github.com", login: str | None = "evobot[bot]") -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.calls: list[Call] = []
        self.host = host
        self.login = login
        self._next_id = 1

    # --- set-up helpers for tests --------------------------------------------------------

    def add_repo(self, full_name: str, files: Tree, *, default_branch: str = "main") -> FakeRepo:
        repo = FakeRepo(full_name, default_branch)
        self.repos[full_name] = repo
        repo.branches[default_branch] = self._commit(repo, dict(files), (), "initial")
        return repo

    def open_pull_as(
        self, full_name: str, user: str, *, head: str, files: Tree, title: str = "a change"
    ) -> PullRequest:
        """Push ``files`` on a new branch ``head`` and open a PR from it as ``user`` (a person)."""
        repo = self._repo(full_name)
        repo.branches.setdefault(head, repo.branches[repo.default_branch])
        sha = self.push(full_name, head, files, f"{user}: {title}")
        number = self._next_id
        self._next_id += 1
        pull = PullRequest(
            number,
            title,
            "",
            "open",
            head,
            sha,
            repo.default_branch,
            f"https://github.test/{full_name}/pull/{number}",
            user_login=user,
        )
        repo.pulls[number] = pull
        return pull

    def push(self, full_name: str, branch: str, files: Tree, message: str = "push") -> str:
        """Commit ``files`` (the complete tree) on ``branch``, as a person would."""
        repo = self._repo(full_name)
        parent = repo.branches.get(branch)
        sha = self._commit(repo, dict(files), (parent,) if parent else (), message)
        repo.branches[branch] = sha
        for number, pull in repo.pulls.items():
            if pull.head_ref == branch and pull.state == "open":
                repo.pulls[number] = replace(pull, head_sha=sha)
        return sha

    def merge(self, full_name: str, number: int) -> str:
        repo = self._repo(full_name)
        pull = repo.pulls[number]
        tree = repo.commits[pull.head_sha][0]
        base = repo.branches[pull.base_ref]
        sha = self._commit(repo, dict(tree), (base, pull.head_sha), f"Merge #{number}")
        repo.branches[pull.base_ref] = sha
        repo.pulls[number] = replace(pull, state="closed", merged=True, merge_commit_sha=sha)
        return sha

    def files(self, full_name: str, ref: str) -> Tree:
        repo = self._repo(full_name)
        return dict(repo.commits[repo.branches.get(ref, ref)][0])

    def _commit(self, repo: FakeRepo, tree: Tree, parents: tuple[str, ...], message: str) -> str:
        sha = _sha(repo.full_name, len(repo.commits), message, parents)
        repo.commits[sha] = (tree, parents, message)
        return sha

    def _repo(self, full_name: str) -> FakeRepo:
        if full_name not in self.repos:
            raise ForgeError(f"GitHub could not read {full_name}: HTTP 404", status=404)
        return self.repos[full_name]

    def _record(self, method: str, repo: str, *args: Any) -> FakeRepo:
        self.calls.append(Call(method, repo, args))
        return self._repo(repo)

    def count(self, method: str | None = None) -> int:
        return sum(1 for c in self.calls if method is None or c.method == method)

    # --- the port ------------------------------------------------------------------------

    @property
    def requests(self) -> int:
        """Every port call counts as one request (the adapter's budgets are per call too)."""
        return len(self.calls)

    @property
    def auth_requests(self) -> int:
        return 0

    def git_host(self) -> str:
        return self.host

    def bot_login(self) -> str | None:
        """``login`` (default ``evobot[bot]``); not a call: the adapter asks once per process."""
        return self.login

    def git_http_header(self, repo: str) -> str:
        """A stand-in naming the installation's owner: ``Authorization: fake OWNER``."""
        return f"Authorization: fake {repo.split('/')[0].lower()}"

    def get_repository(self, repo: str) -> RepoInfo:
        r = self._record("get_repository", repo)
        return RepoInfo(repo, r.default_branch, f"https://github.test/{repo}")

    def read_tree(self, repo: str, ref: str | None = None) -> Snapshot:
        r = self._record("read_tree", repo, ref)
        sha = r.branches.get(ref or r.default_branch, ref or "")
        if sha not in r.commits:
            raise ForgeError(f"GitHub could not download {repo} at {ref}: HTTP 404", status=404)
        return Snapshot(repo, ref or "", sha, dict(r.commits[sha][0]), tree_sha=f"tree-{sha}")

    def read_file(self, repo: str, path: str, ref: str | None = None) -> bytes | None:
        r = self._record("read_file", repo, path, ref)
        sha = r.branches.get(ref or r.default_branch, ref or "")
        f = r.commits.get(sha, ({}, (), ""))[0].get(path)
        return None if f is None else f.data

    def get_commit(self, repo: str, sha: str) -> CommitInfo:
        r = self._record("get_commit", repo, sha)
        sha = r.branches.get(sha, sha)
        _, parents, message = r.commits[sha]
        return CommitInfo(sha, f"tree-{sha}", parents, message)

    def create_blob(self, repo: str, data: bytes) -> str:
        r = self._record("create_blob", repo, len(data))
        sha = blob_sha(data)
        r.blobs[sha] = data
        return sha

    def create_tree(
        self, repo: str, base_tree: str | None, changes: Mapping[str, TreeChange]
    ) -> str:
        r = self._record("create_tree", repo, base_tree, tuple(sorted(changes)))
        tree: Tree = {}
        if base_tree:
            tree = dict(r.trees.get(base_tree) or r.commits[base_tree.removeprefix("tree-")][0])
        for path, change in changes.items():
            if change.delete:
                tree.pop(path, None)
            elif change.sha is not None:
                tree[path] = File(r.blobs[change.sha], change.mode == "100755")
            else:
                tree[path] = File((change.content or "").encode(), change.mode == "100755")
        sha = _sha(sorted((p, f.data, f.executable) for p, f in tree.items()))
        r.trees[sha] = tree
        return sha

    def create_commit(self, repo: str, message: str, tree_sha: str, parents: Sequence[str]) -> str:
        r = self._record("create_commit", repo, message, tree_sha, tuple(parents))
        return self._commit(r, dict(r.trees[tree_sha]), tuple(parents), message)

    def create_branch(self, repo: str, branch: str, sha: str) -> bool:
        r = self._record("create_branch", repo, branch, sha)
        if branch in r.branches:
            return False
        r.branches[branch] = sha
        return True

    def update_branch(self, repo: str, branch: str, sha: str, *, force: bool) -> None:
        self._record("update_branch", repo, branch, sha, force)
        self.repos[repo].branches[branch] = sha
        for number, pull in self.repos[repo].pulls.items():
            if pull.head_ref == branch and pull.state == "open":
                self.repos[repo].pulls[number] = replace(pull, head_sha=sha)

    def get_branch_sha(self, repo: str, branch: str) -> str | None:
        return self._record("get_branch_sha", repo, branch).branches.get(branch)

    def list_open_pulls(self, repo: str, *, head_prefix: str = "") -> list[PullRequest]:
        r = self._record("list_open_pulls", repo, head_prefix)
        return [
            p for p in r.pulls.values() if p.state == "open" and p.head_ref.startswith(head_prefix)
        ]

    def get_pull(self, repo: str, number: int) -> PullRequest:
        return self._record("get_pull", repo, number).pulls[number]

    def find_pull(self, repo: str, head: str) -> PullRequest | None:
        r = self._record("find_pull", repo, head)
        found = [p for p in r.pulls.values() if p.head_ref == head]
        return max(found, key=lambda p: p.number) if found else None

    def create_pull(self, repo: str, *, title: str, body: str, head: str, base: str) -> PullRequest:
        r = self._record("create_pull", repo, title, head, base)
        if head not in r.branches:
            raise ForgeError(
                f"GitHub could not open a pull request from {head}: HTTP 422", status=422
            )
        number = self._next_id
        self._next_id += 1
        pull = PullRequest(
            number,
            title,
            body,
            "open",
            head,
            r.branches[head],
            base,
            f"https://github.test/{repo}/pull/{number}",
            user_login=self.login,
            mergeable=True,
        )
        r.pulls[number] = pull
        return pull

    def update_pull(
        self,
        repo: str,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: Literal["open", "closed"] | None = None,
    ) -> None:
        r = self._record("update_pull", repo, number, title, body, state)
        pull = r.pulls[number]
        r.pulls[number] = replace(
            pull,
            title=pull.title if title is None else title,
            body=pull.body if body is None else body,
            state=pull.state if state is None else state,
        )

    def merge_pull(self, repo: str, number: int, *, sha: str) -> str | None:
        """Refused (None) like GitHub: a closed or conflicting PR, or a head that moved."""
        r = self._record("merge_pull", repo, number, sha)
        pull = r.pulls[number]
        if pull.state != "open" or pull.mergeable is False or pull.head_sha != sha:
            return None
        return self.merge(repo, number)

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None:
        r = self._record("add_labels", repo, number, tuple(labels))
        pull = r.pulls[number]
        merged = tuple(dict.fromkeys((*pull.labels, *labels)))
        r.pulls[number] = replace(pull, labels=merged)

    def list_comments(self, repo: str, number: int) -> list[Comment]:
        return list(self._record("list_comments", repo, number).comments.get(number, []))

    def create_comment(self, repo: str, number: int, body: str) -> Comment:
        r = self._record("create_comment", repo, number, body)
        comment = Comment(self._next_id, body, self.login, f"https://github.test/{repo}#c")
        self._next_id += 1
        r.comments.setdefault(number, []).append(comment)
        return comment

    def add_reaction(self, repo: str, comment_id: int, reaction: str) -> None:
        r = self._record("add_reaction", repo, comment_id, reaction)
        r.reactions.setdefault(comment_id, []).append(reaction)

    def get_permission(self, repo: str, user: str) -> str:
        return self._record("get_permission", repo, user).permissions.get(user, "none")

    def required_checks(self, repo: str, branch: str) -> tuple[str, ...]:
        return self._record("required_checks", repo, branch).required

    def commit_state(self, repo: str, sha: str, *, branch: str | None = None) -> CommitState:
        r = self._record("commit_state", repo, sha, branch)
        required = r.required if branch else ()
        return combine_commit_state(sha, r.checks.get(sha, []), required)

    # --- rollouts ------------------------------------------------------------------------

    def list_app_repositories(self) -> list[str]:
        self.calls.append(Call("list_app_repositories", ""))
        return sorted(self.repos)

    def list_commit_comments(self, repo: str, sha: str) -> list[Comment]:
        return list(self._record("list_commit_comments", repo, sha).commit_comments.get(sha, []))

    def create_commit_comment(self, repo: str, sha: str, body: str) -> Comment:
        r = self._record("create_commit_comment", repo, sha, body)
        comment = Comment(self._next_id, body, self.login, f"https://github.test/{repo}/commit")
        self._next_id += 1
        r.commit_comments.setdefault(sha, []).append(comment)
        return comment

    def list_issues(self, repo: str, *, creator: str | None = None) -> list[Issue]:
        r = self._record("list_issues", repo, creator)
        return [i for i in r.issues.values() if creator is None or i.user_login == creator]

    def create_issue(self, repo: str, *, title: str, body: str) -> Issue:
        r = self._record("create_issue", repo, title, body)
        number = self._next_id
        self._next_id += 1
        issue = Issue(
            number, title, body, "open", f"https://github.test/{repo}/issues/{number}", self.login
        )
        r.issues[number] = issue
        return issue

    def update_issue(self, repo: str, number: int, *, body: str) -> None:
        r = self._record("update_issue", repo, number, body)
        r.issues[number] = replace(r.issues[number], body=body)

    def set_commit_status(
        self,
        repo: str,
        sha: str,
        *,
        state: Literal["pending", "success", "failure", "error"],
        context: str,
        description: str,
        target_url: str | None = None,
    ) -> None:
        """Kept in ``FakeRepo.statuses[sha][context] = (state, description)``."""
        r = self._record("set_commit_status", repo, sha, state, context)
        r.statuses.setdefault(sha, {})[context] = (state, description)
