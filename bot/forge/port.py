"""The one port to GitHub: exactly the calls evobot makes, with small results of its own.

Each method is one REST request unless its docstring says otherwise, so request budgets can be
reasoned about at this level. The PyGithub adapter (:mod:`bot.forge.github`) implements it;
:class:`bot.forge.fake.RecordingForge` implements it in memory for other parts' tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from bot.tree import Tree

__all__ = [
    "AppPort",
    "CheckResult",
    "CheckState",
    "Comment",
    "CommitInfo",
    "CommitState",
    "DeliveryPage",
    "Forge",
    "HookDelivery",
    "InstallationInfo",
    "Issue",
    "PullRequest",
    "RepoInfo",
    "Snapshot",
    "TreeChange",
]

CheckState = Literal["pending", "success", "failure"]


@dataclass(frozen=True)
class RepoInfo:
    full_name: str
    default_branch: str
    html_url: str
    private: bool = True


@dataclass(frozen=True)
class Snapshot:
    """A repository's files at one commit.

    ``tree_sha`` is the commit's Git tree id when known without another request (computed from
    the archive), for use as ``base_tree``; ``extra_paths`` are entries a :data:`Tree` cannot
    hold (symlinks), kept by ``base_tree`` and never deleted by the bot.
    """

    repo: str
    ref: str
    commit_sha: str
    tree: Tree
    tree_sha: str | None = None
    extra_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class TreeChange:
    """One entry of a new Git tree: inline text ``content``, or a blob ``sha``, or a deletion."""

    mode: str = "100644"
    content: str | None = None
    sha: str | None = None
    delete: bool = False


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree_sha: str
    parents: tuple[str, ...]
    message: str = ""
    author_login: str | None = None


@dataclass(frozen=True)
class PullRequest:
    number: int
    title: str
    body: str
    state: Literal["open", "closed"]
    head_ref: str
    head_sha: str
    base_ref: str
    html_url: str
    merged: bool = False
    merge_commit_sha: str | None = None
    labels: tuple[str, ...] = ()
    user_login: str | None = None
    mergeable: bool | None = None
    additions: int = 0
    deletions: int = 0


@dataclass(frozen=True)
class Issue:
    """An issue (never a PR): what the per-repository dashboard issue needs."""

    number: int
    title: str
    body: str
    state: Literal["open", "closed"]
    html_url: str
    user_login: str | None = None


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    user_login: str | None
    html_url: str


@dataclass(frozen=True)
class CheckResult:
    """One check run (GitHub Actions jobs are check runs) or one commit status context."""

    name: str
    kind: Literal["check_run", "status"]
    state: CheckState
    url: str | None = None
    conclusion: str | None = None


@dataclass(frozen=True)
class CommitState:
    """A commit's overall state, judged on the branch's required checks when it has any.

    No required checks and no checks at all counts as ``success``: nothing can fail.
    """

    sha: str
    state: CheckState
    checks: tuple[CheckResult, ...] = ()
    required: tuple[str, ...] = ()
    missing: tuple[str, ...] = field(default=())

    @property
    def failing(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.state == "failure")


@runtime_checkable
class Forge(Protocol):
    """Everything evobot asks of GitHub.

    ``requests`` counts the repository requests made so far (what an installation's rate limit
    counts) and ``auth_requests`` the App-level ones (installations, installation tokens), so a
    use case can report what it cost.
    """

    @property
    def requests(self) -> int: ...

    @property
    def auth_requests(self) -> int: ...

    def bot_login(self) -> str | None:
        """The login on the PRs these credentials open: ``<app slug>[bot]`` for an App
        (``GET /app`` with the JWT), the user's for a plain token (``GET /user``). Asked once
        per process and cached, so it costs no request per consumer. None when GitHub does not
        say (an installation token used as a plain token, such as Actions' ``GITHUB_TOKEN``)
        and ``EVOBOT_BOT_LOGIN`` does not name it: then the branch prefix alone finds the
        bot's PRs."""
        ...

    def git_host(self) -> str:
        """The host serving git for this forge (``github.com`` for ``api.github.com``)."""
        ...

    def git_http_header(self, repo: str) -> str:
        """An ``Authorization`` header for git over HTTPS to ``repo``, with the credentials
        of the installation covering ``repo`` (never log it). No request when cached."""
        ...

    def get_repository(self, repo: str) -> RepoInfo:
        """``GET /repos/{repo}``."""
        ...

    def read_tree(self, repo: str, ref: str | None = None) -> Snapshot:
        """The whole tree at ``ref`` (default branch if None) from one tarball download."""
        ...

    def read_file(self, repo: str, path: str, ref: str | None = None) -> bytes | None:
        """One file's bytes (``GET contents``), or None if it does not exist."""
        ...

    def get_commit(self, repo: str, sha: str) -> CommitInfo:
        """``GET /repos/{repo}/git/commits/{sha}``."""
        ...

    def create_blob(self, repo: str, data: bytes) -> str:
        """``POST git/blobs`` (base64) for content a tree cannot carry inline; its sha."""
        ...

    def create_tree(
        self, repo: str, base_tree: str | None, changes: Mapping[str, TreeChange]
    ) -> str:
        """``POST git/trees`` with ``base_tree``: only the changed entries; the new tree sha."""
        ...

    def create_commit(self, repo: str, message: str, tree_sha: str, parents: Sequence[str]) -> str:
        """``POST git/commits``; the new commit sha."""
        ...

    def create_branch(self, repo: str, branch: str, sha: str) -> bool:
        """``POST git/refs``; False (and nothing changed) if the branch already exists."""
        ...

    def update_branch(self, repo: str, branch: str, sha: str, *, force: bool) -> None:
        """``PATCH git/refs/heads/{branch}``."""
        ...

    def get_branch_sha(self, repo: str, branch: str) -> str | None:
        """``GET git/ref/heads/{branch}``; None if there is no such branch."""
        ...

    def list_open_pulls(self, repo: str, *, head_prefix: str = "") -> list[PullRequest]:
        """Open PRs whose head branch (in ``repo``) starts with ``head_prefix``: one page."""
        ...

    def get_pull(self, repo: str, number: int) -> PullRequest: ...

    def find_pull(self, repo: str, head: str) -> PullRequest | None:
        """The newest PR (any state) from branch ``head`` of ``repo`` itself."""
        ...

    def create_pull(self, repo: str, *, title: str, body: str, head: str, base: str) -> PullRequest:
        """``POST pulls``; never blindly retried (a lost answer is checked with find_pull)."""
        ...

    def update_pull(
        self,
        repo: str,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: Literal["open", "closed"] | None = None,
    ) -> None: ...

    def merge_pull(self, repo: str, number: int, *, sha: str) -> str | None:
        """``PUT pulls/{number}/merge`` of head ``sha`` exactly (a merge commit); the merge
        commit's sha, or None when GitHub refuses (not mergeable: 405; head moved: 409)."""
        ...

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None: ...

    def list_comments(self, repo: str, number: int) -> list[Comment]: ...

    def create_comment(self, repo: str, number: int, body: str) -> Comment: ...

    def add_reaction(self, repo: str, comment_id: int, reaction: str) -> None: ...

    def get_permission(self, repo: str, user: str) -> str:
        """``admin``, ``maintain``, ``write``, ``triage``, ``read`` or ``none``."""
        ...

    def required_checks(self, repo: str, branch: str) -> tuple[str, ...]:
        """Required status check contexts: the branch's rulesets united with its classic
        protection (``GET rules/branches/{branch}`` + ``GET branches/{branch}``, 2 requests,
        neither needing admin permission)."""
        ...

    def commit_state(self, repo: str, sha: str, *, branch: str | None = None) -> CommitState:
        """Check runs + combined status of ``sha`` (2 requests; 4 with ``branch``'s required
        checks)."""
        ...

    # --- rollouts (bot.pipeline.rollout, `evobot rollout plan`) ------------------------------

    def list_app_repositories(self) -> list[str]:
        """Full names of every repository the App's installations can see, sorted:
        ``GET /app/installations`` then ``GET /installation/repositories`` per installation
        (every page of each). Plain-token credentials cannot list them: a ForgeError says so."""
        ...

    def list_commit_comments(self, repo: str, sha: str) -> list[Comment]:
        """``GET commits/{sha}/comments``, every page."""
        ...

    def create_commit_comment(self, repo: str, sha: str, body: str) -> Comment:
        """``POST commits/{sha}/comments``: a comment on the commit itself."""
        ...

    # --- the per-repository dashboard issue --------------------------------------------------

    def list_issues(self, repo: str, *, creator: str | None = None) -> list[Issue]:
        """``GET issues?state=all`` (every page, PRs left out), of ``creator`` when given."""
        ...

    def create_issue(self, repo: str, *, title: str, body: str) -> Issue:
        """``POST issues``; never blindly retried (a lost answer is looked for by title)."""
        ...

    def update_issue(self, repo: str, number: int, *, body: str) -> None:
        """``PATCH issues/{number}`` with a new body."""
        ...

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
        """``POST statuses/{sha}``: the latest status of ``context`` replaces earlier ones."""
        ...


@dataclass(frozen=True)
class InstallationInfo:
    """One installation of the App: its id and the account it is installed on."""

    id: int
    account: str
    suspended: bool = False


@dataclass(frozen=True)
class HookDelivery:
    """One attempt in the App's webhook delivery log (``GET /app/hook/deliveries``).

    ``guid`` is the ``X-GitHub-Delivery`` header, shared by a delivery and its redeliveries;
    ``id`` names this one attempt (the one to redeliver).
    """

    id: int
    guid: str
    event: str
    action: str | None
    status_code: int
    status: str
    delivered_at: str
    redelivery: bool = False
    installation_id: int | None = None

    @property
    def pending(self) -> bool:
        """Not attempted yet: neither an answer nor a connection failure recorded."""
        return self.status_code == 0 and self.status.lower() == "pending"


@dataclass(frozen=True)
class DeliveryPage:
    """One page of the delivery log, newest first, and the cursor of the next (None: the end)."""

    deliveries: tuple[HookDelivery, ...]
    next_cursor: str | None = None


@runtime_checkable
class AppPort(Protocol):
    """What the service asks of GitHub as the App itself, beside the per-repository Forge."""

    def list_installations(self) -> list[InstallationInfo]:
        """``GET /app/installations``, every page."""
        ...

    def installation_repositories(self, installation_id: int) -> list[str]:
        """Full names from ``GET /installation/repositories`` as that installation, every page."""
        ...

    def hook_deliveries(self, *, cursor: str | None = None, per_page: int = 100) -> DeliveryPage:
        """One page of ``GET /app/hook/deliveries`` (newest first), from ``cursor``."""
        ...

    def redeliver(self, delivery_id: int) -> None:
        """``POST /app/hook/deliveries/{id}/attempts``: GitHub sends it again, same guid."""
        ...

    def consumer_config(self, repo: str) -> bytes | None:
        """The bytes of ``repo``'s ``.evobot.yml`` on its default branch, None without one."""
        ...
