"""The handle tests, benchmarks and the control API use to look inside and steer an emulator."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.emulator.clock import EmulatorClock
from bot.emulator.core import Emulator
from bot.emulator.limits import Counters
from bot.emulator.seed import CiRule, RepoSeed

__all__ = ["Delivery", "EmulatorHandle"]


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery attempt as the emulator logged it."""

    id: int
    guid: str
    event: str
    action: str | None
    status: str
    status_code: int
    redelivery: bool
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


class EmulatorHandle:
    """A running emulator: its URLs and credentials, counters, clock, CI and fault controls."""

    def __init__(self, emu: Emulator) -> None:
        self.emulator = emu

    # -- where and who --------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.emulator.base_url

    @property
    def api_url(self) -> str:
        return self.emulator.api_url

    def git_url(self, owner: str, repo: str | None = None) -> str:
        """``git_url("acme", "svc")`` or ``git_url("acme/svc")``."""
        full_name = owner if repo is None else f"{owner}/{repo}"
        return self.emulator.git_url(full_name)

    @property
    def app_id(self) -> int:
        return int(self.emulator.app["id"])

    @property
    def client_id(self) -> str:
        return str(self.emulator.app["client_id"])

    @property
    def app_slug(self) -> str:
        return str(self.emulator.app["slug"])

    @property
    def bot_login(self) -> str:
        return self.emulator.bot_login

    @property
    def private_key_pem(self) -> str:
        return self.emulator.private_key_pem

    def installation_id(self, owner: str) -> int:
        return self.emulator.installation_id(owner)

    def installation_token(self, owner: str) -> str:
        """A fresh installation token for ``owner``'s installation (as if the app asked)."""
        token, _expires = self.emulator.mint_token(self.installation_id(owner))
        return token

    def user_token(self, login: str) -> str:
        """A personal token for a human ``login`` (API calls and git pushes as that person)."""
        return self.emulator.mint_user_token(login)

    # -- time, counters, limits, faults ---------------------------------------------------
    @property
    def clock(self) -> EmulatorClock:
        return self.emulator.clock

    @property
    def counters(self) -> Counters:
        return self.emulator.counters

    def reset_counters(self) -> None:
        self.emulator.counters.reset()

    def set_limits(self, **limits: Any) -> None:
        """``rate_limit``, ``anonymous_rate_limit``, ``secondary_per_minute``,
        ``secondary_per_hour``, ``concurrent``."""
        self.emulator.limiter.update(**limits)

    def reset_limits(self) -> None:
        """Forget the used parts of every rate-limit window."""
        self.emulator.limiter.reset()

    @property
    def secondary_limit_hits(self) -> int:
        return self.emulator.limiter.secondary_hits

    @property
    def primary_limit_hits(self) -> int:
        return self.emulator.limiter.primary_hits

    def inject(self, **faults: Any) -> None:
        """Random faults: ``error_rate``, ``error_statuses``, ``timeout_rate``,
        ``timeout_delay``, ``latency``, ``only`` (regex on ``"METHOD /route"``)."""
        self.emulator.faults.update(**faults)

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 502,
        match: str | None = None,
        timeout: bool = False,
        after: bool = False,
    ) -> None:
        """The next ``count`` API requests matching ``match`` (a regex on ``"METHOD /route"``)
        fail with ``status`` (or hang, ``timeout``); with ``after`` the request is carried out
        first and only its answer is lost."""
        self.emulator.faults.fail_next(
            count, status=status, match=match, timeout=timeout, after=after
        )

    def clear_faults(self) -> None:
        self.emulator.faults.clear()

    @property
    def injected_faults(self) -> int:
        return self.emulator.faults.injected

    # -- CI -------------------------------------------------------------------------------
    def set_ci(self, repo: str, rule: CiRule | Mapping[str, Any] | None) -> None:
        """Change ``repo``'s CI rule (applies to the next pushed commit)."""
        self.emulator.set_ci(repo, rule)

    def wait_for_ci(self, timeout: float = 60.0) -> None:
        self.emulator.ci.wait(timeout)

    def check_runs(self, repo: str, sha: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.emulator.store.data["check_runs"].values()
            if r["repo"] == repo and r["head_sha"] == sha
        ]

    # -- webhooks -------------------------------------------------------------------------
    @property
    def deliveries(self) -> list[Delivery]:
        return [
            Delivery(
                id=d["id"],
                guid=d["guid"],
                event=d["event"],
                action=d["action"],
                status=d["status"],
                status_code=d["status_code"],
                redelivery=d["redelivery"],
                headers=dict(d["request_headers"]),
                body=d["body"].encode(),
            )
            for d in list(self.emulator.webhooks.deliveries)
        ]

    def wait_for_deliveries(self, timeout: float = 30.0) -> None:
        self.emulator.webhooks.wait(timeout)

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until CI and webhook deliveries are idle (CI may emit more deliveries)."""
        self.wait_for_ci(timeout)
        self.wait_for_deliveries(timeout)

    def set_webhook(
        self, url: str | None = None, *, secret: str | None = None, down: bool | None = None
    ) -> None:
        """Point deliveries at ``url``; ``down=True`` makes every delivery fail to connect."""
        sender = self.emulator.webhooks
        if url is not None:
            sender.url = url
        if secret is not None:
            sender.secret = secret
        if down is not None:
            sender.down = down

    def redeliver(self, delivery_id: int) -> Delivery:
        new = self.emulator.webhooks.redeliver(delivery_id)
        self.wait_for_deliveries()
        return next(d for d in self.deliveries if d.id == new["id"])

    # -- installations and repositories --------------------------------------------------
    def install(
        self,
        account: str,
        *,
        installation_id: int | None = None,
        repositories: list[str] | None = None,
        account_type: str = "Organization",
    ) -> int:
        """Install the app on ``account`` (all its repos, or ``repositories``); sends
        `installation` `created`. Returns the installation id."""
        emu = self.emulator
        ident = installation_id or emu.store.next_id("installation")
        emu.add_installation(ident, account, account_type, repositories)
        emu.webhooks.emit_installation(ident, "created")
        return ident

    def create_repo(self, spec: Mapping[str, Any]) -> None:
        """Create a repository from a seed entry (``full_name``, ``files``, ``ci``, ...)."""
        self.emulator.create_repo(RepoSeed.model_validate(dict(spec)))

    def add_repositories(self, installation_id: int, repositories: list[str]) -> None:
        """Add repositories to a selected-repositories installation; sends
        `installation_repositories` `added`."""
        emu = self.emulator
        inst = emu.installation(installation_id)
        with emu.lock:
            current = inst["repositories"]
            if current is None:
                raise ValueError("the installation already covers all repositories")
            inst["repositories"] = [*current, *(r for r in repositories if r not in current)]
        emu.webhooks.emit_installation_repositories(installation_id, list(repositories), [])

    # -- acting as people -----------------------------------------------------------------
    def push_commit(
        self,
        repo: str,
        branch: str,
        files: Mapping[str, str | bytes | None],
        message: str = "Edit by a human",
        author: str = "octocat",
    ) -> str:
        """Commit ``files`` (None deletes a path) on ``branch`` as ``author``; returns the sha."""
        return self.emulator.commit_files(repo, branch, files, message, author=author)

    def comment(self, repo: str, number: int, body: str, user: str = "octocat") -> int:
        """Comment on an issue or PR as ``user``; returns the comment id."""
        from bot.emulator.api_pulls import create_comment

        return int(create_comment(self.emulator, repo, number, body, user)["id"])

    def open_pull(
        self,
        repo: str,
        head: str,
        base: str | None = None,
        title: str = "Change",
        body: str | None = None,
        user: str = "octocat",
    ) -> int:
        from bot.emulator.api_pulls import create_pull

        base = base or self.emulator.repo_rec(repo)["default_branch"]
        pr = create_pull(
            self.emulator, repo, title=title, head=head, base=base, body=body, user=user
        )
        return int(pr["number"])

    def merge(
        self,
        repo: str,
        number: int,
        *,
        by: str = "octocat",
        method: str = "merge",
        enforce_rules: bool = False,
    ) -> str:
        """Merge a PR as ``by`` (branch rules are skipped unless ``enforce_rules``)."""
        pr = self.emulator.pull(repo, number)
        return self.emulator.merge_pull(pr, by=by, method=method, enforce_rules=enforce_rules)

    # -- reading state --------------------------------------------------------------------
    def pull(self, repo: str, number: int) -> dict[str, Any]:
        return dict(self.emulator.pull(repo, number))

    def pulls(self, repo: str, state: str = "all") -> list[dict[str, Any]]:
        items = self.emulator.pulls(repo).values()
        return [dict(p) for p in items if state == "all" or p["state"] == state]

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        return [
            dict(c)
            for c in self.emulator.store.data["comments"].values()
            if c["repo"] == repo and c["issue_number"] == number
        ]

    def branch_sha(self, repo: str, branch: str) -> str | None:
        return self.emulator.branch_sha(repo, branch)

    def read_file(self, repo: str, ref: str, path: str) -> bytes | None:
        git = self.emulator.git(repo)
        sha = git.resolve_object(f"{ref}:{path}")
        return git.read_blob(sha) if sha else None

    def files(self, repo: str, ref: str) -> dict[str, bytes]:
        """Every file of ``repo`` at ``ref``."""
        git = self.emulator.git(repo)
        commit = git.resolve(ref)
        if commit is None:
            raise KeyError(ref)
        flat = git.flat_tree(commit)
        objects = git.read_objects(sha for _m, _t, sha in flat.values())
        return {path: objects[sha][1] for path, (_m, _t, sha) in flat.items()}

    def commit_message(self, repo: str, sha: str) -> str:
        commit = self.emulator.git(repo).read_commit(sha)
        if commit is None:
            raise KeyError(sha)
        return commit.message
