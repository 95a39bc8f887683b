"""The PyGithub adapter of the :class:`~bot.forge.port.Forge` port; nothing else imports ``github``.

Every request goes through :meth:`GitHubForge._call`, which paces it (per installation), decodes
rate limits, retries transient failures with bounded jittered backoff when the request is
idempotent (or checks whether a non-idempotent one happened), and turns failures into a
scrubbed :class:`~bot.errors.ForgeError`. PyGithub's own retries and sleeps are switched off so
that one injected clock governs every wait.
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

import requests
import structlog
from github import Auth, Github, GithubException
from github.Requester import Requester
from urllib3.exceptions import NewConnectionError

from bot.errors import ForgeError
from bot.forge.archive import Archive, ArchiveLimits, read_tarball
from bot.forge.auth import (
    DEFAULT_API_URL,
    AppCredentials,
    Credentials,
    InstallationTokenCache,
    TokenCredentials,
    app_jwt,
    github_host,
    register_secret,
    scrub,
)
from bot.forge.checkstate import (
    combine_commit_state,
    required_from_protection,
    required_from_rules,
    run_state,
    status_state,
    union_required,
)
from bot.forge.port import (
    CheckResult,
    Comment,
    CommitInfo,
    CommitState,
    PullRequest,
    RepoInfo,
    Snapshot,
    TreeChange,
)
from bot.forge.ratelimit import (
    HOURLY_WRITE_CEILING,
    BackoffPolicy,
    Clock,
    Pacer,
    RateLimitInfo,
    SystemClock,
    WriteBudget,
    shared_write_budget,
)
from bot.forge.retry import Fail, Failure, Reread, Retry, decide
from bot.tree import refuse_git_dir

__all__ = ["ForgeSettings", "GitHubForge"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

_HINTS = {
    401: "the credentials were refused: check the token, or the App id/private key and clock",
    403: "the App or token lacks a permission (contents, pull requests, issues: read & write)",
    404: "not found, or not visible to these credentials (is the App installed on the repo?)",
}


@dataclass(frozen=True)
class ForgeSettings:
    """Tuning for one adapter; the defaults suit github.com."""

    base_url: str = DEFAULT_API_URL
    timeout: int = 30
    per_page: int = 100
    write_interval: float = 1.0
    writes_per_hour: int = HOURLY_WRITE_CEILING
    concurrency: int = 10
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    user_agent: str = "evobot"
    archive_limits: ArchiveLimits = field(default_factory=ArchiveLimits)

    def __post_init__(self) -> None:
        if self.writes_per_hour < 1:
            raise ForgeError(
                f"writes per hour must be at least 1, got {self.writes_per_hour}",
                hint="set EVOBOT_WRITES_PER_HOUR to GitHub's 500 or less (Enterprise: its limit)",
            )
        problem = _url_problem(self.base_url)
        if problem:
            raise ForgeError(
                f"GitHub API URL {_without_userinfo(self.base_url)!r}: {problem}",
                hint="set --base-url (or EVOBOT_GITHUB_URL) to https://HOST/api/v3 (Enterprise), "
                "or leave it unset for api.github.com",
            )

    @property
    def host(self) -> str:
        """``HOST[:PORT]`` of the API, without any credentials, for messages."""
        parts = urllib.parse.urlsplit(self.base_url)
        return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def _without_userinfo(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _url_problem(url: str) -> str | None:
    """What makes ``url`` unusable as an API base URL, or None."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "expected an http:// or https:// URL"
    if not parts.hostname:
        return "names no host"
    try:
        parts.port  # noqa: B018 - parsing it is the check
    except ValueError:
        return "the port is not a number between 0 and 65535"
    return None


class _CallableAuth(Auth.Auth):
    """A PyGithub auth whose header value is computed per request (fresh JWT, cached token)."""

    def __init__(self, token_type: str, token: Callable[[], str]) -> None:
        self._type = token_type
        self._token = token

    def __repr__(self) -> str:
        return f"_CallableAuth({self._type}, [redacted])"

    @property
    def token_type(self) -> str:
        return self._type

    @property
    def token(self) -> str:
        return self._token()

    @property
    def _masked_token(self) -> str:
        return f"{self._type} [redacted]"


class GitHubForge:
    """The Forge port over PyGithub, for one set of credentials and any number of repositories."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        settings: ForgeSettings | None = None,
        clock: Clock | None = None,
        jwt_clock: Clock | None = None,
        rng: random.Random | None = None,
        write_budget: Callable[[str, int], WriteBudget] | None = None,
    ) -> None:
        """``write_budget(identity, writes_per_hour)`` gives the hourly budget of one identity
        (default: the process's :func:`~bot.forge.ratelimit.shared_write_budget`; the service
        passes one kept in its store to share it between processes)."""
        self.settings = settings or ForgeSettings()
        self._write_budget = write_budget or shared_write_budget
        self.clock = clock or SystemClock()
        # GitHub checks a JWT's iat/exp against real time, whatever pace ``clock`` keeps.
        self.jwt_clock = jwt_clock or SystemClock()
        self._credentials = credentials
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._lock = threading.Lock()
        self._clients: dict[int, Github] = {}
        self._pacers: dict[int, Pacer] = {}
        self._installations: dict[str, int] = {}
        self._app_client: Github | None = None
        self._tokens: InstallationTokenCache | None = None
        self.requests = 0  # repository requests: what the installation's rate limit counts
        self.auth_requests = 0  # App-level requests: installations, installation tokens
        self._thread = threading.local()
        if isinstance(credentials, AppCredentials):
            self._tokens = InstallationTokenCache(self._fetch_token, clock=self.clock)

    def __repr__(self) -> str:
        return f"GitHubForge(base_url={self.settings.base_url!r})"

    # --- plumbing ------------------------------------------------------------------------

    def _github(self, auth: Auth.Auth) -> Github:
        return Github(
            base_url=self.settings.base_url,
            auth=auth,
            timeout=self.settings.timeout,
            per_page=self.settings.per_page,
            user_agent=self.settings.user_agent,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,
        )

    @property
    def thread_requests(self) -> int:
        """Repository requests this thread made (App authentication excluded, as in
        :attr:`requests`; :attr:`auth_requests` counts those)."""
        return int(getattr(self._thread, "count", 0))

    def reset_thread_requests(self) -> None:
        self._thread.count = 0

    def pacer(self, key: int = 0) -> Pacer:
        """The pacer of one installation (key 0: plain-token credentials and App-level calls).

        Its hourly write budget is the process's one for this identity on this API, so every
        adapter and thread writing as the same installation (or token) shares it.
        """
        with self._lock:
            if key not in self._pacers:
                self._pacers[key] = Pacer(
                    self.clock,
                    write_interval=self.settings.write_interval,
                    concurrency=self.settings.concurrency,
                    hourly=self._write_budget(self._identity(key), self.settings.writes_per_hour),
                )
            return self._pacers[key]

    def _identity(self, key: int) -> str:
        """Who GitHub counts writes against: an installation, the App itself, or a token."""
        if isinstance(self._credentials, TokenCredentials):
            digest = hashlib.sha256(self._credentials.token.encode()).hexdigest()[:16]
            return f"{self.settings.base_url}#token:{digest}"
        if key:
            return f"{self.settings.base_url}#installation:{key}"
        return f"{self.settings.base_url}#app:{self._credentials.issuer}"

    def _app(self) -> Github:
        assert isinstance(self._credentials, AppCredentials)
        creds = self._credentials
        if self._app_client is None:
            self._app_client = self._github(
                _CallableAuth("Bearer", lambda: app_jwt(creds, now=self.jwt_clock.now()))
            )
        return self._app_client

    def _fetch_token(self, installation_id: int) -> tuple[str, str | None]:
        requester: Requester = self._app().requester
        data = self._call(
            "create an installation token",
            "POST",
            lambda: requester.requestJsonAndCheck(
                "POST", f"/app/installations/{installation_id}/access_tokens"
            )[1],
            key=0,
            idempotent=True,  # a second token is harmless
        )
        return str(data["token"]), data.get("expires_at")

    def installation_id(self, repo: str) -> int:
        """The App installation covering ``repo``'s owner (listed once, then cached)."""
        assert isinstance(self._credentials, AppCredentials)
        if self._credentials.installation_id is not None:
            return self._credentials.installation_id
        owner = repo.split("/")[0].lower()
        if owner in self._installations:
            return self._installations[owner]
        requester: Requester = self._app().requester
        page = 1
        while True:
            data = self._call(
                "list the App's installations",
                "GET",
                lambda p=page: requester.requestJsonAndCheck(  # type: ignore[misc]
                    "GET", "/app/installations", {"per_page": 100, "page": p}
                )[1],
                key=0,
            )
            for item in data:
                login = str(item.get("account", {}).get("login", "")).lower()
                self._installations[login] = int(item["id"])
            if owner in self._installations or len(data) < 100:
                break
            page += 1
        if owner not in self._installations:
            raise ForgeError(
                f"the GitHub App is not installed on {repo.split('/')[0]}",
                status=404,
                hint="install the App on the organisation or account, with access to the repo",
            )
        return self._installations[owner]

    def _client(self, repo: str) -> tuple[Requester, int]:
        key = 0
        if isinstance(self._credentials, AppCredentials):
            key = self.installation_id(repo)
        with self._lock:
            client = self._clients.get(key)
        if client is None:
            if isinstance(self._credentials, TokenCredentials):
                token = self._credentials.token
                client = self._github(_CallableAuth("token", lambda: token))
            else:
                tokens = self._tokens
                assert tokens is not None
                client = self._github(_CallableAuth("token", lambda: tokens.token(key)))
            with self._lock:
                self._clients[key] = client
        requester: Requester = client.requester
        return requester, key

    def git_http_header(self, repo: str) -> str:
        """An ``Authorization`` header for git over HTTPS to ``repo`` (never log it)."""
        if isinstance(self._credentials, TokenCredentials):
            token = self._credentials.token
        else:
            assert self._tokens is not None
            token = self._tokens.token(self.installation_id(repo))
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        register_secret(basic)
        return f"Authorization: Basic {basic}"

    def git_host(self) -> str:
        """The host serving git for this API (``github.com`` for ``api.github.com``)."""
        return github_host(self.settings.base_url)

    def _observe(self, key: int, headers: Mapping[str, Any] | None) -> None:
        if headers:
            self.pacer(key).observe(RateLimitInfo.from_headers(headers))

    def _call(
        self,
        op: str,
        method: str,
        fn: Callable[[], T],
        *,
        key: int,
        idempotent: bool | None = None,
        recover: Callable[[], T | None] | None = None,
    ) -> T:
        """Run one request with pacing, rate-limit waits and bounded retries.

        Each failure is described as a :class:`~bot.forge.retry.Failure` and :func:`decide`
        says what to do; this method only carries it out (sleep, re-read, raise).
        """
        policy = self.settings.backoff
        pacer = self.pacer(key)
        auth_call = not key and self._tokens is not None  # App-level: JWT, installation token
        attempt = 0
        rate_waits = 0
        while True:
            pacer.acquire(method)
            data: Any = None
            with self._lock:
                if auth_call:
                    self.auth_requests += 1
                else:
                    self.requests += 1
            if not auth_call:
                self._thread.count = getattr(self._thread, "count", 0) + 1
            try:
                return fn()
            except GithubException as exc:
                self._observe(key, exc.headers)
                data = exc.data
                failure = Failure(method, int(exc.status or 0), exc.headers, exc.data)
            except requests.HTTPError as exc:  # streamed downloads
                response = exc.response
                headers = dict(response.headers) if response is not None else {}
                self._observe(key, headers)
                status = response.status_code if response is not None else 0
                failure = Failure(method, status, headers)
            except (
                requests.Timeout,
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,  # a streamed body cut short
            ) as exc:
                failure = Failure(
                    method,
                    None,
                    answer_lost=_maybe_sent(exc),
                    what=f"{type(exc).__name__} ({self.settings.host})",
                )
            finally:
                pacer.release()
            failure = replace(
                failure,
                attempt=attempt,
                rate_waits=rate_waits,
                answer_lost=failure.answer_lost or (failure.status or 0) >= 500,
                idempotent=idempotent,
                can_reread=recover is not None,
                renewable_token=self._tokens is not None and bool(key),
            )
            decision = decide(failure, policy, now=self.clock.now(), jitter=self._rng.random())
            if isinstance(decision, Fail):
                raise self._failed(op, failure, decision, data)
            if isinstance(decision, Retry) and decision.rate_limited:
                rate_waits += 1
                log.info("forge.rate_limited", op=op, status=failure.status, wait=decision.after)
            elif isinstance(decision, Retry) and decision.renew_token:
                assert self._tokens is not None
                self._tokens.forget(key)  # revoked or expired early: one fresh token
                attempt += 1
            else:
                attempt += 1
                if isinstance(decision, Reread):
                    assert recover is not None
                    found = recover()
                    if found is not None:
                        log.info("forge.recovered", op=op)
                        return found
                log.info("forge.retry", op=op, reason=decision.reason, attempt=attempt)
            self.clock.sleep(decision.after)

    def _failed(self, op: str, failure: Failure, decision: Fail, data: Any) -> ForgeError:
        if decision.retried:
            return ForgeError(
                f"GitHub could not {op}: {decision.reason}",
                status=failure.status,
                hint="GitHub may be degraded; the command is safe to re-run",
            )
        if decision.may_have_happened:
            return ForgeError(
                f"GitHub could not {op}: {decision.reason}; not retried because it may "
                "have happened",
                status=failure.status,
                hint="check the repository, then re-run the command",
            )
        return self._error(op, failure.status or 0, data)

    def _error(self, op: str, status: int, data: Any) -> ForgeError:
        message = ""
        if isinstance(data, Mapping):
            message = str(data.get("message", ""))
            errors = data.get("errors")
            if isinstance(errors, list) and errors:
                details = [
                    str(e.get("message") or e.get("code") or e)
                    if isinstance(e, Mapping)
                    else str(e)
                    for e in errors[:3]
                ]
                message += " (" + "; ".join(details) + ")"
        text = scrub(f"GitHub could not {op}: HTTP {status}" + (f": {message}" if message else ""))
        return ForgeError(text, status=status, hint=_HINTS.get(status))

    def _json(
        self,
        repo: str,
        op: str,
        method: Literal["GET", "POST", "PATCH", "PUT", "DELETE"],
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
        recover: Callable[[], Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        requester, key = self._client(repo)
        url = f"/repos/{_quote_repo(repo)}{path}"

        def send() -> Any:
            response_headers, data = requester.requestJsonAndCheck(
                method, url, parameters=params, input=body, headers=headers
            )
            self._observe(key, response_headers)
            return data

        return self._call(op, method, send, key=key, idempotent=idempotent, recover=recover)

    # --- reading -------------------------------------------------------------------------

    def get_repository(self, repo: str) -> RepoInfo:
        data = self._json(repo, f"read {repo}", "GET", "")
        return RepoInfo(
            full_name=str(data["full_name"]),
            default_branch=str(data["default_branch"]),
            html_url=str(data.get("html_url", "")),
            private=bool(data.get("private", True)),
        )

    def read_tree(self, repo: str, ref: str | None = None) -> Snapshot:
        requester, key = self._client(repo)
        url = f"/repos/{_quote_repo(repo)}/tarball"
        if ref:
            url += "/" + urllib.parse.quote(ref, safe="")

        limits = self.settings.archive_limits

        def download() -> Archive:
            # The API answers 302 with a short-lived signed archive URL (codeload on
            # github.com). The URL carries its own token, so no Authorization header follows it.
            headers, _ = requester.requestJsonAndCheck("GET", url)
            self._observe(key, headers)
            location = headers.get("location")
            if not location:
                raise ForgeError(f"GitHub gave no archive location for {repo}", status=502)
            with requests.get(
                location, timeout=self.settings.timeout, stream=True, allow_redirects=True
            ) as response:
                response.raise_for_status()
                # Read as it arrives: the limits stop a bomb before it is downloaded whole.
                return read_tarball(response.iter_content(chunk_size=64 * 1024), limits)

        archive = self._call(f"download {repo} at {ref or 'HEAD'}", "GET", download, key=key)
        commit = archive.commit_sha
        tree_sha = archive.tree_sha
        if commit is None:
            # The archive did not name its commit: ask (one more request), and unless the
            # archive was requested at that very commit, download it again there, so that the
            # tree read is the tree of the commit the PR will be built on.
            info = self.get_commit(repo, ref or self.get_repository(repo).default_branch)
            commit, tree_sha = info.sha, info.tree_sha
            if ref != commit:
                url = f"/repos/{_quote_repo(repo)}/tarball/{commit}"
                archive = self._call(f"download {repo} at {commit[:12]}", "GET", download, key=key)
        return Snapshot(
            repo=repo,
            ref=ref or "",
            commit_sha=commit,
            tree=archive.tree,
            tree_sha=tree_sha,
            extra_paths=tuple(sorted(archive.symlinks)),
        )

    def read_file(self, repo: str, path: str, ref: str | None = None) -> bytes | None:
        try:
            data = self._json(
                repo,
                f"read {path} in {repo}",
                "GET",
                "/contents/" + urllib.parse.quote(path),
                params={"ref": ref} if ref else None,
            )
        except ForgeError as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(data, Mapping) or data.get("type") != "file":
            return None
        return base64.b64decode(str(data.get("content", "")))

    def get_commit(self, repo: str, sha: str) -> CommitInfo:
        if len(sha) in (40, 64):
            data = self._json(repo, f"read commit {sha[:12]}", "GET", f"/git/commits/{sha}")
            author = None
        else:
            # A branch name: the commits endpoint resolves refs.
            full = self._json(repo, f"read {sha}", "GET", f"/commits/{urllib.parse.quote(sha)}")
            data = dict(full["commit"], sha=full["sha"], parents=full.get("parents", []))
            author = (full.get("author") or {}).get("login")
        return CommitInfo(
            sha=str(data["sha"]),
            tree_sha=str(data["tree"]["sha"]),
            parents=tuple(str(p["sha"]) for p in data.get("parents", [])),
            message=str(data.get("message", "")),
            author_login=author,
        )

    def get_branch_sha(self, repo: str, branch: str) -> str | None:
        try:
            data = self._json(
                repo, f"read branch {branch}", "GET", f"/git/ref/heads/{urllib.parse.quote(branch)}"
            )
        except ForgeError as exc:
            if exc.status == 404:
                return None
            raise
        if isinstance(data, list):  # an ambiguous prefix match, not the branch itself
            return None
        return str(data["object"]["sha"])

    # --- writing -------------------------------------------------------------------------

    def create_blob(self, repo: str, data: bytes) -> str:
        body = {"content": base64.b64encode(data).decode(), "encoding": "base64"}
        # Blobs are content-addressed: creating one twice is harmless.
        result = self._json(repo, "create a blob", "POST", "/git/blobs", body=body, idempotent=True)
        return str(result["sha"])

    def create_tree(
        self, repo: str, base_tree: str | None, changes: Mapping[str, TreeChange]
    ) -> str:
        entries: list[dict[str, Any]] = []
        for path in sorted(changes):
            refuse_git_dir(path, source=f"a tree for {repo}")
            change = changes[path]
            entry: dict[str, Any] = {"path": path, "mode": change.mode, "type": "blob"}
            if change.delete:
                entry["sha"] = None
            elif change.sha is not None:
                entry["sha"] = change.sha
            else:
                entry["content"] = change.content or ""
            entries.append(entry)
        body: dict[str, Any] = {"tree": entries}
        if base_tree:
            body["base_tree"] = base_tree
        # Trees are content-addressed too.
        result = self._json(repo, "create a tree", "POST", "/git/trees", body=body, idempotent=True)
        return str(result["sha"])

    def create_commit(self, repo: str, message: str, tree_sha: str, parents: Sequence[str]) -> str:
        body = {"message": message, "tree": tree_sha, "parents": list(parents)}
        # A repeated commit at most leaves an unreferenced duplicate object behind.
        result = self._json(
            repo, "create a commit", "POST", "/git/commits", body=body, idempotent=True
        )
        return str(result["sha"])

    def create_branch(self, repo: str, branch: str, sha: str) -> bool:
        def recover() -> bool | None:
            current = self.get_branch_sha(repo, branch)
            if current is None:
                return None
            return current == sha

        try:
            self._json(
                repo,
                f"create branch {branch}",
                "POST",
                "/git/refs",
                body={"ref": f"refs/heads/{branch}", "sha": sha},
                recover=recover,
            )
        except ForgeError as exc:
            if exc.status == 422:
                return False
            raise
        return True

    def update_branch(self, repo: str, branch: str, sha: str, *, force: bool) -> None:
        self._json(
            repo,
            f"update branch {branch}",
            "PATCH",
            f"/git/refs/heads/{urllib.parse.quote(branch)}",
            body={"sha": sha, "force": force},
            idempotent=True,
        )

    def _pull(self, data: Mapping[str, Any]) -> PullRequest:
        head = data.get("head") or {}
        base = data.get("base") or {}
        return PullRequest(
            number=int(data["number"]),
            title=str(data.get("title") or ""),
            body=str(data.get("body") or ""),
            state="open" if data.get("state") == "open" else "closed",
            head_ref=str(head.get("ref", "")),
            head_sha=str(head.get("sha", "")),
            base_ref=str(base.get("ref", "")),
            html_url=str(data.get("html_url", "")),
            merged=bool(data.get("merged") or data.get("merged_at")),
            merge_commit_sha=data.get("merge_commit_sha"),
            labels=tuple(str(label["name"]) for label in data.get("labels") or []),
            user_login=(data.get("user") or {}).get("login"),
        )

    def _pages(self, repo: str, op: str, path: str, params: dict[str, Any]) -> list[Any]:
        items: list[Any] = []
        page = 1
        while True:
            data = self._json(
                repo, op, "GET", path, params={**params, "per_page": 100, "page": page}
            )
            items.extend(data)
            if len(data) < 100:
                return items
            page += 1

    def list_open_pulls(self, repo: str, *, head_prefix: str = "") -> list[PullRequest]:
        found = self._pages(repo, f"list pull requests of {repo}", "/pulls", {"state": "open"})
        # Only branches of the repository itself can be the bot's; forks are someone else's.
        return [
            self._pull(d)
            for d in found
            if str((d.get("head") or {}).get("ref", "")).startswith(head_prefix)
            and _same_repo(d, repo)
        ]

    def get_pull(self, repo: str, number: int) -> PullRequest:
        return self._pull(
            self._json(repo, f"read pull request #{number}", "GET", f"/pulls/{number}")
        )

    def find_pull(self, repo: str, head: str) -> PullRequest | None:
        owner = repo.split("/")[0]
        data = self._json(
            repo,
            f"find the pull request of {head}",
            "GET",
            "/pulls",
            params={"state": "all", "head": f"{owner}:{head}", "per_page": 10},
        )
        pulls = [self._pull(d) for d in data if (d.get("head") or {}).get("ref") == head]
        return max(pulls, key=lambda p: p.number) if pulls else None

    def create_pull(self, repo: str, *, title: str, body: str, head: str, base: str) -> PullRequest:
        def recover() -> PullRequest | None:
            found = self.find_pull(repo, head)
            return found if found is not None and found.state == "open" else None

        data = self._json(
            repo,
            f"open a pull request from {head}",
            "POST",
            "/pulls",
            body={"title": title, "body": body, "head": head, "base": base},
            recover=recover,
        )
        return data if isinstance(data, PullRequest) else self._pull(data)

    def update_pull(
        self,
        repo: str,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: Literal["open", "closed"] | None = None,
    ) -> None:
        fields: dict[str, Any] = {}
        if title is not None:
            fields["title"] = title
        if body is not None:
            fields["body"] = body
        if state is not None:
            fields["state"] = state
        if fields:
            self._json(
                repo,
                f"update pull request #{number}",
                "PATCH",
                f"/pulls/{number}",
                body=fields,
                idempotent=True,
            )

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None:
        # Adding a label that is already there changes nothing: safe to repeat.
        self._json(
            repo,
            f"label #{number}",
            "POST",
            f"/issues/{number}/labels",
            body={"labels": list(labels)},
            idempotent=True,
        )

    def _comment(self, data: Mapping[str, Any]) -> Comment:
        return Comment(
            id=int(data["id"]),
            body=str(data.get("body") or ""),
            user_login=(data.get("user") or {}).get("login"),
            html_url=str(data.get("html_url", "")),
        )

    def list_comments(self, repo: str, number: int) -> list[Comment]:
        return [
            self._comment(d)
            for d in self._pages(
                repo, f"list comments of #{number}", f"/issues/{number}/comments", {}
            )
        ]

    def create_comment(self, repo: str, number: int, body: str) -> Comment:
        def recover() -> Comment | None:
            for comment in reversed(self.list_comments(repo, number)):
                if comment.body == body:
                    return comment
            return None

        data = self._json(
            repo,
            f"comment on #{number}",
            "POST",
            f"/issues/{number}/comments",
            body={"body": body},
            recover=recover,
        )
        return data if isinstance(data, Comment) else self._comment(data)

    def add_reaction(self, repo: str, comment_id: int, reaction: str) -> None:
        # GitHub answers 200 with the existing reaction when it is already there.
        self._json(
            repo,
            "react to a comment",
            "POST",
            f"/issues/comments/{comment_id}/reactions",
            body={"content": reaction},
            idempotent=True,
        )

    def get_permission(self, repo: str, user: str) -> str:
        try:
            data = self._json(
                repo,
                f"read {user}'s permission",
                "GET",
                f"/collaborators/{urllib.parse.quote(user)}/permission",
            )
        except ForgeError as exc:
            if exc.status == 404:
                return "none"
            raise
        return str(data.get("permission") or "none")

    def required_checks(self, repo: str, branch: str) -> tuple[str, ...]:
        quoted = urllib.parse.quote(branch, safe="")
        try:
            rules = self._json(
                repo, f"read the rules of {branch}", "GET", f"/rules/branches/{quoted}"
            )
        except ForgeError as exc:
            if exc.status != 404:
                raise
            rules = []
        try:
            # Classic branch protection, as the branch itself reports it (no admin permission
            # needed, unlike GET .../protection).
            info = self._json(repo, f"read branch {branch}", "GET", f"/branches/{quoted}")
        except ForgeError as exc:
            if exc.status != 404:
                raise
            info = {}
        return union_required(required_from_rules(rules), required_from_protection(info))

    def commit_state(self, repo: str, sha: str, *, branch: str | None = None) -> CommitState:
        required = self.required_checks(repo, branch) if branch else ()
        runs = self._json(
            repo,
            f"read check runs of {sha[:12]}",
            "GET",
            f"/commits/{sha}/check-runs",
            params={"per_page": 100},
        )
        status = self._json(
            repo,
            f"read the status of {sha[:12]}",
            "GET",
            f"/commits/{sha}/status",
            params={"per_page": 100},
        )
        checks: list[CheckResult] = []
        ordered = sorted(
            runs.get("check_runs") or [],
            key=lambda r: (str(r.get("started_at") or ""), int(r.get("id") or 0)),
            reverse=True,
        )
        for run in ordered:
            checks.append(
                CheckResult(
                    name=str(run.get("name", "")),
                    kind="check_run",
                    state=run_state(run.get("status"), run.get("conclusion")),
                    url=run.get("html_url") or run.get("details_url"),
                    conclusion=run.get("conclusion"),
                )
            )
        for item in status.get("statuses") or []:
            checks.append(
                CheckResult(
                    name=str(item.get("context", "")),
                    kind="status",
                    state=status_state(item.get("state")),
                    url=item.get("target_url"),
                    conclusion=item.get("state"),
                )
            )
        return combine_commit_state(sha, checks, required)

    def app_json(
        self,
        method: Literal["GET", "POST"],
        path: str,
        params: dict[str, Any] | None = None,
        *,
        installation_id: int | None = None,
        op: str | None = None,
    ) -> tuple[Any, dict[str, str]]:
        """One request outside any repository (``/app/...``, ``/installation/...``): as the App
        (JWT), or with ``installation_id`` as that installation, through the same pacing,
        retries and scrubbing as every other call. The JSON answer and the response headers.

        Only for requests that are safe to repeat (reads, and asking for a redelivery).
        """
        if not isinstance(self._credentials, AppCredentials) or self._tokens is None:
            raise ForgeError(
                f"{method} {path} needs GitHub App credentials",
                hint="set EVOBOT_APP_ID (or EVOBOT_CLIENT_ID) and EVOBOT_PRIVATE_KEY_FILE",
            )
        tokens = self._tokens
        key = installation_id or 0
        if installation_id is None:
            requester: Requester = self._app().requester
        else:
            with self._lock:
                client = self._clients.get(key)
            if client is None:
                client = self._github(_CallableAuth("token", lambda: tokens.token(key)))
                with self._lock:
                    client = self._clients.setdefault(key, client)
            requester = client.requester

        def send() -> tuple[Any, dict[str, str]]:
            headers, data = requester.requestJsonAndCheck(method, path, parameters=params)
            self._observe(key, headers)
            return data, {str(k): str(v) for k, v in (headers or {}).items()}

        return self._call(op or f"{method} {path}", method, send, key=key, idempotent=True)


def _maybe_sent(exc: requests.RequestException) -> bool:
    """Whether a failed request may have reached GitHub (its answer lost on the way back).

    A connect timeout or a refused connection never sent the request; a read timeout or a
    connection dropped mid-answer may have come after GitHub carried it out.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ReadTimeout):
        return True
    reason: Any = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return not isinstance(reason, NewConnectionError)


def _quote_repo(repo: str) -> str:
    parts = repo.split("/")
    if len(parts) != 2 or not all(parts):
        raise ForgeError(f"expected a repository as OWNER/NAME, got {repo!r}")
    return "/".join(urllib.parse.quote(p, safe="") for p in parts)


def _same_repo(data: Mapping[str, Any], repo: str) -> bool:
    head_repo = (data.get("head") or {}).get("repo") or {}
    name = head_repo.get("full_name")
    return name is None or str(name).lower() == repo.lower()
