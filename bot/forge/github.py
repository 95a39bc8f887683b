"""The PyGithub adapter of the :class:`~bot.forge.port.Forge` port: one method per endpoint.

Each method builds one request (or the few its docstring in the port names) and reads the answer
into the port's small types; :class:`~bot.forge.github_transport.GitHubTransport` sends it
(pacing, rate limits, retries, re-reads after a lost write answer, counting). Only this module
and the transport import ``github`` (PyGithub).
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import requests

from bot.errors import ForgeError
from bot.forge.archive import Archive, read_tarball
from bot.forge.auth import AppCredentials
from bot.forge.checkstate import (
    combine_commit_state,
    required_from_protection,
    required_from_rules,
    run_state,
    status_state,
    union_required,
)
from bot.forge.github_transport import ForgeSettings, GitHubTransport, quote_repo
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
from bot.tree import refuse_git_dir

__all__ = ["ForgeSettings", "GitHubForge"]


class GitHubForge(GitHubTransport):
    """The Forge port over PyGithub, for one set of credentials and any number of repositories."""

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
        url = f"/repos/{quote_repo(repo)}/tarball"
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
                url = f"/repos/{quote_repo(repo)}/tarball/{commit}"
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
            mergeable=data.get("mergeable"),
            additions=int(data.get("additions") or 0),
            deletions=int(data.get("deletions") or 0),
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

    def merge_pull(self, repo: str, number: int, *, sha: str) -> str | None:
        def recover() -> str | None:
            pull = self.get_pull(repo, number)
            return pull.merge_commit_sha if pull.merged and pull.head_sha == sha else None

        try:
            data = self._json(
                repo,
                f"merge pull request #{number}",
                "PUT",
                f"/pulls/{number}/merge",
                body={"sha": sha, "merge_method": "merge"},
                recover=recover,
            )
        except ForgeError as exc:
            if exc.status in (405, 409):
                return None
            raise
        if isinstance(data, str):
            return data
        return str(data["sha"]) if isinstance(data, Mapping) and data.get("merged") else None

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

    # --- rollouts ------------------------------------------------------------------------

    def list_app_repositories(self) -> list[str]:
        if not isinstance(self._credentials, AppCredentials):
            raise ForgeError(
                "listing the App's repositories needs GitHub App credentials, not a token",
                hint="set the App's id and private key, or list the consumers from the store",
            )
        app = self._app().requester
        accounts: list[str] = []
        page = 1
        while True:
            data = self._call(
                "list the App's installations",
                "GET",
                lambda p=page: app.requestJsonAndCheck(  # type: ignore[misc]
                    "GET", "/app/installations", {"per_page": 100, "page": p}
                )[1],
                key=0,
            )
            for item in data:
                login = str((item.get("account") or {}).get("login", "")).lower()
                # The same cache installation_id() fills: the owner's requests use this one.
                self._installations[login] = int(item["id"])
                accounts.append(login)
            if len(data) < 100:
                break
            page += 1
        names: set[str] = set()
        for login in accounts:
            requester, key = self._client(f"{login}/-")
            page = 1
            while True:
                found = self._call(
                    f"list the repositories the App can see on {login}",
                    "GET",
                    lambda p=page, r=requester: r.requestJsonAndCheck(  # type: ignore[misc]
                        "GET", "/installation/repositories", {"per_page": 100, "page": p}
                    )[1],
                    key=key,
                )
                repos = found.get("repositories") or [] if isinstance(found, Mapping) else []
                names.update(str(r["full_name"]) for r in repos)
                if len(repos) < 100:
                    break
                page += 1
        return sorted(names)

    def list_commit_comments(self, repo: str, sha: str) -> list[Comment]:
        return [
            self._comment(d)
            for d in self._pages(
                repo, f"list comments of commit {sha[:12]}", f"/commits/{sha}/comments", {}
            )
        ]

    def create_commit_comment(self, repo: str, sha: str, body: str) -> Comment:
        def recover() -> Comment | None:
            for comment in reversed(self.list_commit_comments(repo, sha)):
                if comment.body == body:
                    return comment
            return None

        data = self._json(
            repo,
            f"comment on commit {sha[:12]}",
            "POST",
            f"/commits/{sha}/comments",
            body={"body": body},
            recover=recover,
        )
        return data if isinstance(data, Comment) else self._comment(data)

    def _issue(self, data: Mapping[str, Any]) -> Issue:
        return Issue(
            number=int(data["number"]),
            title=str(data.get("title") or ""),
            body=str(data.get("body") or ""),
            state="open" if data.get("state") == "open" else "closed",
            html_url=str(data.get("html_url", "")),
            user_login=(data.get("user") or {}).get("login"),
        )

    def list_issues(self, repo: str, *, creator: str | None = None) -> list[Issue]:
        params: dict[str, Any] = {"state": "all"}
        if creator:
            params["creator"] = creator
        found = self._pages(repo, f"list issues of {repo}", "/issues", params)
        return [self._issue(d) for d in found if "pull_request" not in d]

    def create_issue(self, repo: str, *, title: str, body: str) -> Issue:
        def recover() -> Issue | None:
            for issue in self.list_issues(repo):
                if issue.title == title and issue.body == body:
                    return issue
            return None

        data = self._json(
            repo,
            f"open issue {title!r}",
            "POST",
            "/issues",
            body={"title": title, "body": body},
            recover=recover,
        )
        return data if isinstance(data, Issue) else self._issue(data)

    def update_issue(self, repo: str, number: int, *, body: str) -> None:
        self._json(
            repo,
            f"update issue #{number}",
            "PATCH",
            f"/issues/{number}",
            body={"body": body},
            idempotent=True,
        )

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
        body: dict[str, Any] = {
            "state": state,
            "context": context,
            "description": description[:140],  # GitHub's limit
        }
        if target_url:
            body["target_url"] = target_url
        # The latest status of a context wins, so sending it twice is harmless.
        self._json(
            repo,
            f"set the {context} status of {sha[:12]}",
            "POST",
            f"/statuses/{sha}",
            body=body,
            idempotent=True,
        )


def _same_repo(data: Mapping[str, Any], repo: str) -> bool:
    head_repo = (data.get("head") or {}).get("repo") or {}
    name = head_repo.get("full_name")
    return name is None or str(name).lower() == repo.lower()
