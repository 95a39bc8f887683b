"""Repositories: records and git stores, who may do what, pushes and what they set off.

A push moves a ref, then fans out: the push webhook, `synchronize` on open pull requests whose
head moved, and CI for the new commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from bot.emulator.accounts import Accounts
from bot.emulator.errors import ApiError, not_found
from bot.emulator.gitstore import ZERO, GitRepo
from bot.emulator.seed import CiRule
from bot.emulator.state import CodeloadGrant, J

__all__ = ["Repositories"]


class Repositories(Accounts):
    """Repository records and their git stores, collaborators, pushes, checks and tarballs."""

    # -- repositories ---------------------------------------------------------------------
    def repo_rec(self, full_name: str) -> J:
        rec = self.store.data["repos"].get(full_name)
        if rec is None:
            raise not_found()
        return rec  # type: ignore[no-any-return]

    def has_repo(self, full_name: str) -> bool:
        return full_name in self.store.data["repos"]

    def git(self, full_name: str) -> GitRepo:
        repo = self._git.get(full_name)
        if repo is None:
            self.repo_rec(full_name)
            repo = GitRepo(self.repos_root / f"{full_name}.git")
            self._git[full_name] = repo
        return repo

    def git_url(self, full_name: str) -> str:
        return f"{self.base_url}/{full_name}.git"

    def branch_sha(self, full_name: str, branch: str) -> str | None:
        return self.git(full_name).ref(f"refs/heads/{branch}")

    def association(self, full_name: str, login: str) -> str:
        rec = self.repo_rec(full_name)
        if login == rec["owner"]:
            return "OWNER"
        if login in rec.get("collaborators", {}):
            return "COLLABORATOR"
        return "NONE"

    def permission(self, full_name: str, login: str) -> str:
        rec = self.repo_rec(full_name)
        if login == rec["owner"]:
            return "admin"
        perm: str = rec.get("collaborators", {}).get(login, "none")
        return perm

    # -- pushes ---------------------------------------------------------------------------
    def move_ref(
        self,
        full_name: str,
        ref: str,
        new: str | None,
        *,
        pusher: str,
        force: bool = True,
        expect_old: str | None = None,
    ) -> tuple[str, str]:
        """Create, move or (``new=None``) delete a ref; emits push, synchronize and CI."""
        repo = self.git(full_name)
        with repo.ref_lock:
            old = repo.ref(ref)
            if expect_old is not None and old != expect_old:
                raise ApiError(409, "Reference update conflict")
            if new is None:
                if old is None:
                    raise ApiError(422, "Reference does not exist")
                repo.delete_ref(ref)
            else:
                if not force and old is not None and not repo.is_ancestor(old, new):
                    raise ApiError(422, "Update is not a fast forward")
                repo.update_ref(ref, new, old or ZERO)
        self.after_push(full_name, ref, old or ZERO, new or ZERO, pusher=pusher)
        return old or ZERO, new or ZERO

    def after_push(self, full_name: str, ref: str, before: str, after: str, *, pusher: str) -> None:
        if before == after:
            return
        rec = self.repo_rec(full_name)
        rec["pushed_at"] = rec["updated_at"] = self.clock.iso()
        self.webhooks.emit_push(full_name, ref, before, after, pusher)
        if ref.startswith("refs/heads/") and after != ZERO:
            branch = ref.removeprefix("refs/heads/")
            for pr in list(self.store.data["pulls"].get(full_name, {}).values()):
                if pr["state"] == "open" and pr["head_ref"] == branch:
                    pr["head_sha"] = after
                    pr["updated_at"] = self.clock.iso()
                    self.webhooks.emit_pull_request(pr, "synchronize", pusher, before=before)
            self.ci.schedule(full_name, after, branch, before)
        self.store.dirty = True

    def commit_files(
        self,
        full_name: str,
        branch: str,
        files: Mapping[str, str | bytes | None],
        message: str,
        *,
        author: str,
    ) -> str:
        """Commit ``files`` (None deletes) on ``branch`` as ``author`` and push it."""
        repo = self.git(full_name)
        default = self.repo_rec(full_name)["default_branch"]
        # A new branch starts from the default branch, as a person's would.
        parent = repo.ref(f"refs/heads/{branch}") or repo.ref(f"refs/heads/{default}")
        flat = repo.flat_tree(parent) if parent else {}
        for rel, content in files.items():
            if content is None:
                flat.pop(rel, None)
            else:
                data = content.encode() if isinstance(content, str) else content
                mode = flat.get(rel, ("100644", "", ""))[0]
                flat[rel] = (mode, "blob", repo.write_blob(data))
        commit = repo.commit_tree(
            repo.write_flat_tree(flat), [parent] if parent else [], message, self.person(author)
        )
        self.move_ref(full_name, f"refs/heads/{branch}", commit, pusher=author)
        return commit

    def mark_verified(self, full_name: str, sha: str) -> None:
        with self.lock:
            verified: list[str] = self.repo_rec(full_name).setdefault("verified", [])
            verified.append(sha)

    def next_number(self, full_name: str) -> int:
        with self.lock:
            rec = self.repo_rec(full_name)
            number: int = rec["next_number"]
            rec["next_number"] = number + 1
            return number

    # -- checks ---------------------------------------------------------------------------
    def check_state(self, full_name: str, sha: str, context: str) -> str:
        """success | failure | pending for one named check run or status context."""
        runs = sorted(
            (
                r
                for r in self.store.data["check_runs"].values()
                if r["repo"] == full_name and r["head_sha"] == sha and r["name"] == context
            ),
            key=lambda r: int(r["id"]),
        )
        if runs:
            run = runs[-1]
            if run["status"] != "completed":
                return "pending"
            ok = run["conclusion"] in ("success", "neutral", "skipped")
            return "success" if ok else "failure"
        latest: J | None = None
        for status in self.store.data["statuses"].values():
            matches = status["repo"] == full_name and status["sha"] == sha
            newer = latest is None or status["id"] > latest["id"]
            if matches and status["context"] == context and newer:
                latest = status
        if latest is None:
            return "pending"
        return (
            "success"
            if latest["state"] == "success"
            else ("pending" if latest["state"] == "pending" else "failure")
        )

    def ci_rule(self, full_name: str) -> CiRule | None:
        rule = self.repo_rec(full_name).get("ci")
        if rule is not None:
            return CiRule.model_validate(rule)
        return self.seed.ci

    def set_ci(self, full_name: str, rule: CiRule | Mapping[str, Any] | None) -> None:
        parsed = CiRule.model_validate(rule) if isinstance(rule, Mapping) else rule
        with self.lock:
            self.repo_rec(full_name)["ci"] = parsed.model_dump() if parsed else None

    # -- tarballs -------------------------------------------------------------------------
    def codeload_url(self, full_name: str, sha: str) -> str:
        key = secrets.token_urlsafe(24)
        with self.lock:
            now = self.clock.now()
            self.codeload = {k: v for k, v in self.codeload.items() if v[2] > now}
            # GitHub's archive links last five minutes of real time: an accelerated clock must
            # not shrink that below the time a download takes on a loaded machine.
            life = max(300.0, 60.0 * getattr(self.clock, "speed", 1.0))
            self.codeload[key] = CodeloadGrant(full_name, sha, now + life)
        return f"{self.base_url}/_codeload/{full_name}/legacy.tar.gz/{sha}?token={key}"
