"""Webhook deliveries: GitHub-shaped payloads, HMAC-SHA256 signing, a delivery log, redelivery.

Deliveries go out from one background thread, in order, so API calls never wait on the
receiver. Like GitHub, a failed delivery is logged and never retried on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import structlog

from bot.emulator import shapes
from bot.emulator.gitstore import ZERO
from bot.forge.webhook import sign as webhook_signature

if TYPE_CHECKING:
    from bot.emulator.core import Emulator

__all__ = ["WebhookSender", "sign"]

log = structlog.get_logger(__name__)

J = dict[str, Any]
HOOK_ID = 424242
USER_AGENT = "GitHub-Hookshot/emulator"


def sign(secret: str | bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``: computed by the very code
    that verifies it (:func:`bot.forge.webhook.sign`), so sender and receiver cannot drift."""
    return webhook_signature(body, secret)


def _webhook_user(emu: Emulator, login: str) -> J:
    return shapes.user_json(emu, login)


def _webhook_app(data: J) -> J:
    """Webhook payloads show an app without the REST-only fields."""
    return {k: v for k, v in data.items() if k not in ("client_id", "installations_count")}


def webhook_repo(emu: Emulator, full_name: str, *, push: bool = False) -> J:
    """The `repository` object of webhook payloads (push events use epoch integers)."""
    data = shapes.repo_json(emu, full_name)
    for key in (
        "permissions",
        "allow_squash_merge",
        "allow_merge_commit",
        "allow_rebase_merge",
        "allow_auto_merge",
        "delete_branch_on_merge",
        "network_count",
        "subscribers_count",
    ):
        data.pop(key, None)
    data["custom_properties"] = {}
    if push:
        rec = emu.repo_rec(full_name)
        data["created_at"] = _epoch(rec["created_at"])
        data["pushed_at"] = _epoch(rec["pushed_at"])
        data["stargazers"] = 0
        data["master_branch"] = rec["default_branch"]
        owner = emu.user(rec["owner"])
        if owner["type"] == "Organization":
            data["organization"] = rec["owner"]
        data["owner"] = {
            "name": rec["owner"],
            "email": None,
            **_webhook_user(emu, rec["owner"]),
        }
    return data


def _epoch(iso: str) -> int:
    return int(time.mktime(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone)


class WebhookSender:
    """Builds, signs, records and sends webhook deliveries."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.url = emu.seed.webhook.url
        self.secret = emu.seed.webhook.secret
        self.timeout = emu.seed.webhook.timeout
        self.down = False
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._pending = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client(timeout=self.timeout, trust_env=False)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="emulator-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None
        self._client.close()

    def wait(self, timeout: float = 30.0) -> None:
        """Block until every queued delivery was attempted."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self._pending} webhook deliveries still pending")
                self._cond.wait(left)

    # -- the log --------------------------------------------------------------------------
    @property
    def deliveries(self) -> list[J]:
        return self.emu.store.data["deliveries"]  # type: ignore[no-any-return]

    def get(self, delivery_id: int) -> J | None:
        for d in self.deliveries:
            if d["id"] == delivery_id:
                return d
        return None

    def emit(self, event: str, payload: J, *, full_name: str | None = None) -> J | None:
        """Record a delivery of ``event`` and queue it; None when no installation covers it."""
        emu = self.emu
        inst_id = payload.get("installation", {}).get("id")
        if inst_id is None:
            return None
        body = json.dumps(payload, separators=(",", ":")).encode()
        guid = str(uuid.UUID(int=emu.id_rng.getrandbits(128), version=4))
        repo_id = emu.repo_rec(full_name)["id"] if full_name else None
        delivery = self._record(event, payload.get("action"), body, guid, inst_id, repo_id, False)
        self._enqueue(delivery["id"])
        return delivery

    def redeliver(self, delivery_id: int) -> J:
        original = self.get(delivery_id)
        if original is None:
            raise KeyError(delivery_id)
        delivery = self._record(
            original["event"],
            original["action"],
            original["body"].encode(),
            original["guid"],
            original["installation_id"],
            original["repository_id"],
            True,
        )
        self._enqueue(delivery["id"])
        return delivery

    def _record(
        self,
        event: str,
        action: str | None,
        body: bytes,
        guid: str,
        inst_id: int,
        repo_id: int | None,
        redelivery: bool,
    ) -> J:
        emu = self.emu
        headers = {
            "Accept": "*/*",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-GitHub-Delivery": guid,
            "X-GitHub-Event": event,
            "X-GitHub-Hook-ID": str(HOOK_ID),
            "X-GitHub-Hook-Installation-Target-ID": str(emu.app["id"]),
            "X-GitHub-Hook-Installation-Target-Type": "integration",
        }
        if self.secret:
            headers["X-Hub-Signature-256"] = sign(self.secret, body)
            headers["X-Hub-Signature"] = (
                "sha1=" + hmac.new(self.secret.encode(), body, hashlib.sha1).hexdigest()
            )
        delivery = {
            "id": emu.store.next_id("delivery"),
            "guid": guid,
            "event": event,
            "action": action,
            "installation_id": inst_id,
            "repository_id": repo_id,
            "redelivery": redelivery,
            "delivered_at": emu.clock.iso(),
            "duration": 0.0,
            "status": "Pending",
            "status_code": 0,
            "url": self.url or "",
            "request_headers": headers,
            "body": body.decode(),
            "response_headers": {},
            "response_body": None,
        }
        with emu.lock:
            self.deliveries.append(delivery)
        return delivery

    def _enqueue(self, delivery_id: int) -> None:
        with self._cond:
            self._pending += 1
        self._queue.put(delivery_id)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            delivery = self.get(item)
            try:
                if delivery is not None:
                    self._send(delivery)
            except Exception:  # the worker must survive; the delivery records the failure
                log.exception("webhook delivery crashed", delivery=item)
                if delivery is not None:
                    delivery.update(status="emulator error", status_code=0)
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    def _send(self, delivery: J) -> None:
        start = time.monotonic()
        if not self.url:
            delivery.update(status="No webhook URL configured", status_code=0)
            return
        if self.down:
            delivery.update(status="failed to connect to host", status_code=0, duration=0.0)
            return
        try:
            response = self._client.post(
                self.url, content=delivery["body"].encode(), headers=delivery["request_headers"]
            )
        except httpx.HTTPError as exc:
            status = (
                "timed out"
                if isinstance(exc, httpx.TimeoutException)
                else ("failed to connect to host")
            )
            delivery.update(status=status, status_code=0)
        else:
            ok = 200 <= response.status_code < 300
            delivery.update(
                status="OK" if ok else f"Invalid HTTP Response: {response.status_code}",
                status_code=response.status_code,
                response_headers=dict(response.headers),
                response_body=response.text[:10_000],
            )
        delivery["duration"] = round(time.monotonic() - start, 3)

    # -- payloads -------------------------------------------------------------------------
    def _common(self, full_name: str, sender: str, *, push: bool = False) -> J | None:
        emu = self.emu
        inst_id = emu.installation_for_repo(full_name)
        if inst_id is None:
            return None
        data: J = {
            "repository": webhook_repo(emu, full_name, push=push),
            "sender": _webhook_user(emu, sender),
            "installation": {"id": inst_id, "node_id": shapes.node_id("Installation", inst_id)},
        }
        owner = emu.repo_rec(full_name)["owner"]
        if emu.user(owner)["type"] == "Organization":
            data["organization"] = _org_json(emu, owner)
        return data

    def emit_push(self, full_name: str, ref: str, before: str, after: str, pusher: str) -> None:
        emu = self.emu
        common = self._common(full_name, pusher, push=True)
        if common is None:
            return
        repo = emu.git(full_name)
        if after != ZERO and ref.startswith("refs/heads/"):
            spec = after if before == ZERO else f"{before}..{after}"
            shas = repo.rev_list(spec, limit=20)
        else:
            shas = []
        commits = [self._push_commit(full_name, sha) for sha in shas]
        head_sha = repo.resolve(after) if after != ZERO else None  # annotated tags peel
        head = self._push_commit(full_name, head_sha) if head_sha else None
        branch_sha = emu.git(full_name).ref(ref) if before != ZERO and after != ZERO else None
        forced = bool(
            branch_sha and ref.startswith("refs/heads/") and not repo.is_ancestor(before, after)
        )
        pusher_user = emu.user(pusher)
        payload: J = {
            "ref": ref,
            "before": before,
            "after": after,
            "created": before == ZERO,
            "deleted": after == ZERO,
            "forced": forced,
            "base_ref": None,
            "compare": f"{emu.base_url}/{full_name}/compare/{before[:12]}...{after[:12]}",
            "commits": commits,
            "head_commit": head,
            "pusher": {
                "name": pusher,
                "email": f"{pusher_user['id']}+{pusher}@users.noreply.github.com",
            },
            **common,
        }
        self.emit("push", payload, full_name=full_name)

    def _push_commit(self, full_name: str, sha: str) -> J:
        emu = self.emu
        repo = emu.git(full_name)
        commit = repo.read_commit(sha)
        assert commit is not None
        parent = commit.parents[0] if commit.parents else None
        changes = (
            repo.diff(parent, sha)
            if parent
            else [
                ("A", e.path, "", e.sha, 0, 0)
                for e in repo.ls_tree(commit.tree, recursive=True)
                if e.type == "blob"
            ]
        )

        def person(p: Any) -> J:
            data: J = {"name": p.name, "email": p.email}
            user = emu.user_for_email(p.email)
            if user:
                data["username"] = user["login"]
            return data

        return {
            "id": sha,
            "tree_id": commit.tree,
            "distinct": True,
            "message": commit.message,
            "timestamp": emu.clock.iso(commit.committer.date).replace("Z", "+00:00"),
            "url": f"{emu.base_url}/{full_name}/commit/{sha}",
            "author": person(commit.author),
            "committer": person(commit.committer),
            "added": [c[1] for c in changes if c[0] == "A"],
            "removed": [c[1] for c in changes if c[0] == "D"],
            "modified": [c[1] for c in changes if c[0] not in ("A", "D")],
        }

    def emit_pull_request(
        self,
        pr: J,
        action: str,
        sender: str,
        *,
        before: str | None = None,
        changes: J | None = None,
    ) -> None:
        emu = self.emu
        common = self._common(pr["repo"], sender)
        if common is None:
            return
        payload: J = {
            "action": action,
            "number": pr["number"],
            "pull_request": webhook_pull(emu, pr),
            **common,
        }
        if action == "synchronize":
            payload["before"] = before or ZERO
            payload["after"] = pr["head_sha"]
        if action == "edited":
            payload["changes"] = changes or {}
        self.emit("pull_request", payload, full_name=pr["repo"])

    def emit_issue_comment(self, comment: J, action: str, sender: str) -> None:
        emu = self.emu
        common = self._common(comment["repo"], sender)
        if common is None:
            return
        payload: J = {
            "action": action,
            "issue": issue_json(emu, comment["repo"], comment["issue_number"]),
            "comment": shapes.comment_json(emu, comment),
            **common,
        }
        if action == "edited":
            payload["changes"] = {"body": {"from": comment.get("previous_body", "")}}
        self.emit("issue_comment", payload, full_name=comment["repo"])

    def emit_check_suite(self, suite: J, action: str) -> None:
        emu = self.emu
        common = self._common(suite["repo"], emu.ci_sender)
        if common is None:
            return
        data = shapes.check_suite_json(emu, suite)
        data.pop("repository", None)
        data["app"] = _webhook_app(data["app"])
        payload = {"action": action, "check_suite": data, **common}
        self.emit("check_suite", payload, full_name=suite["repo"])

    def emit_check_run(self, run: J, action: str, sender: str) -> None:
        emu = self.emu
        common = self._common(run["repo"], sender)
        if common is None:
            return
        data = shapes.check_run_json(emu, run)
        data["app"] = _webhook_app(data["app"])
        suite = emu.store.data["check_suites"][str(run["suite_id"])]
        data["check_suite"] = shapes.check_suite_json(emu, suite)
        data["check_suite"]["app"] = _webhook_app(data["check_suite"]["app"])
        for key in (
            "repository",
            "head_commit",
            "latest_check_runs_count",
            "check_runs_url",
            "rerequestable",
            "runs_rerequestable",
        ):
            data["check_suite"].pop(key, None)
        payload = {"action": action, "check_run": data, **common}
        self.emit("check_run", payload, full_name=run["repo"])

    def emit_status(self, status: J) -> None:
        emu = self.emu
        full_name = status["repo"]
        common = self._common(full_name, status["creator"])
        if common is None:
            return
        repo = emu.git(full_name)
        commit = repo.read_commit(status["sha"])
        assert commit is not None
        branches = [
            {
                "name": ref.removeprefix("refs/heads/"),
                "commit": {
                    "sha": sha,
                    "url": f"{emu.api_url}/repos/{full_name}/commits/{sha}",
                },
                "protected": False,
            }
            for ref, sha in repo.refs("refs/heads/").items()
            if sha == status["sha"]
        ]
        commit_data = shapes.commit_json(emu, full_name, commit)
        # The webhook schema's verification object has no `verified_at`.
        commit_data["commit"]["verification"].pop("verified_at", None)
        payload: J = {
            "id": status["id"],
            "sha": status["sha"],
            "name": full_name,
            "target_url": status["target_url"],
            "avatar_url": None,
            "context": status["context"],
            "description": status["description"],
            "state": status["state"],
            "commit": commit_data,
            "branches": branches,
            "created_at": status["created_at"],
            "updated_at": status["updated_at"],
            **common,
        }
        self.emit("status", payload, full_name=full_name)

    def emit_installation(self, inst_id: int, action: str) -> None:
        emu = self.emu
        payload: J = {
            "action": action,
            "installation": installation_json(emu, inst_id),
            "repositories": [_repo_lite(emu, n) for n in emu.installation_repos(inst_id)],
            "sender": _webhook_user(emu, emu.installation(inst_id)["account"]),
        }
        self.emit("installation", payload)

    def emit_installation_repositories(
        self, inst_id: int, added: list[str], removed: list[str]
    ) -> None:
        emu = self.emu
        inst = emu.installation(inst_id)
        payload = {
            "action": "added" if added else "removed",
            "installation": installation_json(emu, inst_id),
            "repository_selection": "all" if inst["repositories"] is None else "selected",
            "repositories_added": [_repo_lite(emu, n) for n in added],
            "repositories_removed": [_repo_lite(emu, n) for n in removed],
            "requester": None,
            "sender": _webhook_user(emu, inst["account"]),
        }
        self.emit("installation_repositories", payload)


def _repo_lite(emu: Emulator, full_name: str) -> J:
    rec = emu.repo_rec(full_name)
    return {
        "id": rec["id"],
        "node_id": shapes.node_id("Repository", rec["id"]),
        "name": rec["name"],
        "full_name": full_name,
        "private": rec["private"],
    }


def _org_json(emu: Emulator, login: str) -> J:
    user = emu.user(login)
    api = f"{emu.api_url}/orgs/{login}"
    return {
        "login": login,
        "id": user["id"],
        "node_id": shapes.node_id("Organization", user["id"]),
        "url": api,
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events",
        "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues",
        "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": f"{emu.base_url}/avatars/u/{user['id']}?v=4",
        "description": None,
    }


def installation_json(emu: Emulator, inst_id: int, *, rest: bool = False) -> J:
    """`installation` as webhook payloads show it, or (``rest``) as the REST API does.

    GitHub's OpenAPI description types the REST account as simple-user *and* enterprise, so
    the REST view also carries the enterprise fields.
    """
    inst = emu.installation(inst_id)
    account = emu.user(inst["account"])
    account_json = shapes.user_json(emu, inst["account"])
    if rest:
        account_json.update(
            name=inst["account"],
            slug=inst["account"].lower(),
            created_at=inst["created_at"],
            updated_at=inst["created_at"],
            description=None,
            website_url=None,
        )
    return {
        "id": inst_id,
        "account": account_json,
        "repository_selection": "all" if inst["repositories"] is None else "selected",
        "access_tokens_url": f"{emu.api_url}/app/installations/{inst_id}/access_tokens",
        "repositories_url": f"{emu.api_url}/installation/repositories",
        "html_url": f"{emu.base_url}/organizations/{inst['account']}/settings/installations/"
        f"{inst_id}",
        "app_id": emu.app["id"],
        "app_slug": emu.app["slug"],
        "target_id": account["id"],
        "target_type": account["type"] if account["type"] != "Bot" else "User",
        "permissions": dict(emu.app["permissions"]),
        "events": list(emu.app["events"]),
        "created_at": inst["created_at"],
        "updated_at": inst["created_at"],
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def webhook_pull(emu: Emulator, pr: J) -> J:
    data = shapes.pull_json(emu, pr)
    for side in ("head", "base"):
        data[side]["repo"] = webhook_repo(emu, pr["repo"])
    data["merged"] = pr["merged_at"] is not None
    return data


def issue_json(emu: Emulator, full_name: str, number: int) -> J:
    """The `issue` object for an issue comment (PRs carry a `pull_request` link)."""
    api_repo = f"{emu.api_url}/repos/{full_name}"
    pr = emu.pulls(full_name).get(str(number))
    issue = emu.store.data.setdefault("issues", {}).get(f"{full_name}#{number}")
    source = pr or issue
    if source is None:
        raise KeyError(number)
    labels = emu.repo_rec(full_name)["labels"]
    html = f"{emu.base_url}/{full_name}/{'pull' if pr else 'issues'}/{number}"
    data: J = {
        "url": f"{api_repo}/issues/{number}",
        "repository_url": api_repo,
        "labels_url": f"{api_repo}/issues/{number}/labels{{/name}}",
        "comments_url": f"{api_repo}/issues/{number}/comments",
        "events_url": f"{api_repo}/issues/{number}/events",
        "html_url": html,
        "id": source["id"],
        "node_id": shapes.node_id("Issue", source["id"]),
        "number": number,
        "title": source["title"],
        "user": shapes.user_json(emu, source["user"]),
        "labels": [
            shapes.label_json(emu, full_name, labels[n]) for n in source["labels"] if n in labels
        ],
        "state": source["state"],
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": sum(
            1
            for c in emu.store.data["comments"].values()
            if c["repo"] == full_name and c["issue_number"] == number
        ),
        "created_at": source["created_at"],
        "updated_at": source["updated_at"],
        "closed_at": source["closed_at"],
        "author_association": emu.association(full_name, source["user"]),
        "active_lock_reason": None,
        "body": source["body"],
        "reactions": shapes.reactions_rollup(
            emu, f"{api_repo}/issues/{number}/reactions", f"issue:{full_name}#{number}"
        ),
        "timeline_url": f"{api_repo}/issues/{number}/timeline",
        "performed_via_github_app": None,
        "state_reason": None,
    }
    if pr:
        data["draft"] = bool(pr.get("draft", False))
        data["pull_request"] = {
            "url": f"{api_repo}/pulls/{number}",
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "merged_at": pr["merged_at"],
        }
    return data
