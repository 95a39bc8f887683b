"""The transport under the PyGithub adapter: credentials, pacing, retries and request counting.

Every request goes through :meth:`GitHubTransport._call`, which paces it (per installation),
decodes rate limits, carries out :func:`bot.forge.retry.decide`'s decision after a failure
(wait and retry with bounded backoff, re-read to see whether a lost write happened, or fail) and
turns failures into a scrubbed :class:`~bot.errors.ForgeError`. PyGithub's own retries and
sleeps are switched off so that one injected clock governs every wait. The endpoint methods of
the :class:`~bot.forge.port.Forge` port are in :mod:`bot.forge.github`.
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

import requests
import structlog
from github import Auth, Github, GithubException
from github.Requester import Requester
from urllib3.exceptions import NewConnectionError

from bot.errors import ForgeError
from bot.forge.archive import ArchiveLimits
from bot.forge.auth import (
    DEFAULT_API_URL,
    GIT_TOKEN_LIFE,
    AppCredentials,
    Credentials,
    InstallationTokenCache,
    TokenCredentials,
    app_jwt,
    github_host,
    register_secret,
    scrub,
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

__all__ = ["ForgeSettings", "GitHubTransport", "quote_repo"]

log = structlog.get_logger(__name__)

# The bot's own login per API URL and credentials: asked once per process (see bot_login).
_LOGINS: dict[str, str | None] = {}
_LOGINS_LOCK = threading.Lock()

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
    bot_login: str | None = None  # the PRs' author when GitHub cannot say (EVOBOT_BOT_LOGIN)

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

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], *, base_url: str | None = None, write_interval: float = 1.0
    ) -> ForgeSettings:
        """Settings from ``--base-url``/``--write-interval`` and the environment:
        ``EVOBOT_GITHUB_URL``, ``EVOBOT_WRITES_PER_HOUR`` (default: GitHub's 500),
        ``EVOBOT_RETRY_BACKOFF`` (seconds before the first retry, doubling up to 30 times that;
        default 1, 0 retries at once), ``EVOBOT_BOT_LOGIN`` (the login of the bot's PRs, for a
        token GitHub will not name: Actions' ``GITHUB_TOKEN`` opens them as
        ``github-actions[bot]``) and the ``EVOBOT_ARCHIVE_*`` limits."""
        url = base_url or env.get("EVOBOT_GITHUB_URL", "").strip() or DEFAULT_API_URL
        return cls(
            base_url=url.rstrip("/"),
            write_interval=write_interval,
            writes_per_hour=_writes_per_hour(env),
            backoff=_backoff(env),
            archive_limits=ArchiveLimits.from_env(env),
            bot_login=env.get("EVOBOT_BOT_LOGIN", "").strip() or None,
        )

    @property
    def host(self) -> str:
        """``HOST[:PORT]`` of the API, without any credentials, for messages."""
        parts = urllib.parse.urlsplit(self.base_url)
        return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def _writes_per_hour(env: Mapping[str, str]) -> int:
    """``EVOBOT_WRITES_PER_HOUR`` (default: GitHub's 500), refused unless a positive integer."""
    text = env.get("EVOBOT_WRITES_PER_HOUR", "").strip()
    if not text:
        return HOURLY_WRITE_CEILING
    if not text.isdigit() or int(text) < 1:
        raise ForgeError(
            f"EVOBOT_WRITES_PER_HOUR={text!r} is not a positive whole number",
            hint="GitHub allows 500 content-creating requests an hour; set that or less",
        )
    return int(text)


def _backoff(env: Mapping[str, str]) -> BackoffPolicy:
    """``EVOBOT_RETRY_BACKOFF``: seconds before the first retry of a failed request, doubling
    up to 30 times that (default 1 s, up to 30 s); 0 retries at once."""
    text = env.get("EVOBOT_RETRY_BACKOFF", "").strip()
    if not text:
        return BackoffPolicy()
    try:
        base = float(text)
    except ValueError:
        base = -1.0
    if not 0.0 <= base <= 60.0:  # also refuses nan
        raise ForgeError(
            f"EVOBOT_RETRY_BACKOFF={text!r} is not a number of seconds between 0 and 60",
            hint="leave it unset for the default: 1 s before the first retry, doubling up to 30 s",
        )
    return BackoffPolicy(base=base, cap=base * 30.0)


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


class GitHubTransport:
    """Requests to one GitHub API for one set of credentials, any number of repositories."""

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
        return f"{type(self).__name__}(base_url={self.settings.base_url!r})"

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
            # Git cannot renew a token mid-fetch: hand it one that outlives the command.
            token = self._tokens.token(self.installation_id(repo), lasting=GIT_TOKEN_LIFE)
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        register_secret(basic)
        return f"Authorization: Basic {basic}"

    def bot_login(self) -> str | None:
        """The login on the PRs these credentials open, asked once per process and cached.

        An App's is ``<slug>[bot]`` (``GET /app``, an App-level request with the JWT); a plain
        token's is its user's (``GET /user``). GitHub answers 403 to ``GET /user`` for an
        installation token (Actions' ``GITHUB_TOKEN``): then ``EVOBOT_BOT_LOGIN``, else None.
        """
        if self.settings.bot_login:
            return self.settings.bot_login
        key = self._login_key()
        with _LOGINS_LOCK:
            if key in _LOGINS:
                return _LOGINS[key]
        login = self._ask_login()
        with _LOGINS_LOCK:
            _LOGINS[key] = login
        return login

    def _login_key(self) -> str:
        """The API URL and a digest of the credentials (an App's id and key, or the token)."""
        creds = self._credentials
        if isinstance(creds, AppCredentials):
            secret = f"app:{creds.issuer}\0{creds.private_key}"
        else:
            secret = f"token:{creds.token}"
        return f"{self.settings.base_url}#{hashlib.sha256(secret.encode()).hexdigest()[:16]}"

    def _ask_login(self) -> str | None:
        if isinstance(self._credentials, AppCredentials):
            app_requester: Requester = self._app().requester
            data = self._call(
                "read the App",
                "GET",
                lambda: app_requester.requestJsonAndCheck("GET", "/app")[1],
                key=0,
            )
            return f"{data['slug']}[bot]"
        requester, key = self._client("")
        try:
            data = self._call(
                "read the token's user",
                "GET",
                lambda: requester.requestJsonAndCheck("GET", "/user")[1],
                key=key,
            )
        except ForgeError as exc:
            if exc.status != 403:
                raise
            log.warning(
                "forge.bot_login_unknown",
                reason="GitHub does not name an installation token's user; set EVOBOT_BOT_LOGIN",
            )
            return None
        return str(data["login"])

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
        url = f"/repos/{quote_repo(repo)}{path}"

        def send() -> Any:
            response_headers, data = requester.requestJsonAndCheck(
                method, url, parameters=params, input=body, headers=headers
            )
            self._observe(key, response_headers)
            return data

        return self._call(op, method, send, key=key, idempotent=idempotent, recover=recover)

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


def quote_repo(repo: str) -> str:
    parts = repo.split("/")
    if len(parts) != 2 or not all(parts):
        raise ForgeError(f"expected a repository as OWNER/NAME, got {repo!r}")
    return "/".join(urllib.parse.quote(p, safe="") for p in parts)
