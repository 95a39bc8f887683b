"""Pull requests: refreshing their heads, diff statistics, mergeability and real merges."""

from __future__ import annotations

from typing import TypedDict

from bot.emulator.errors import ApiError, not_found, required_contexts, validation_failed
from bot.emulator.repos import Repositories
from bot.emulator.state import J

__all__ = ["PullStats", "Pulls"]


class PullStats(TypedDict):
    """What GitHub computes for a pull request from its base and head commits."""

    mergeable: bool
    mergeable_state: str
    commits: int
    additions: int
    deletions: int
    changed_files: int
    merge_base: str


class Pulls(Repositories):
    """Pull request records, their statistics and merges."""

    _stats_cache: dict[tuple[str, str, str], PullStats]

    # -- pull requests --------------------------------------------------------------------
    def pulls(self, full_name: str) -> dict[str, J]:
        return self.store.data["pulls"].setdefault(full_name, {})  # type: ignore[no-any-return]

    def pull(self, full_name: str, number: int) -> J:
        self.repo_rec(full_name)
        pr = self.pulls(full_name).get(str(number))
        if pr is None:
            raise not_found()
        self.refresh_pull(pr)
        return pr

    def refresh_pull(self, pr: J) -> None:
        if pr["state"] != "open":
            return
        base = self.branch_sha(pr["repo"], pr["base_ref"])
        if base:
            pr["base_sha"] = base
        head = self.branch_sha(pr["repo"], pr["head_ref"])
        if head:
            pr["head_sha"] = head

    def pull_stats(self, pr: J) -> PullStats:
        key = (pr["repo"], pr["base_sha"], pr["head_sha"])
        cached = self._stats_cache.get(key)
        if cached is not None:
            return cached
        repo = self.git(pr["repo"])
        base = repo.merge_base(pr["base_sha"], pr["head_sha"]) or pr["base_sha"]
        files = repo.diff(base, pr["head_sha"])
        commits = len(repo.rev_list(f"{base}..{pr['head_sha']}"))
        _tree, clean = repo.merge_trees(pr["base_sha"], pr["head_sha"])
        stats: PullStats = {
            "mergeable": clean,
            "mergeable_state": "clean" if clean else "dirty",
            "commits": commits,
            "additions": sum(f[4] for f in files),
            "deletions": sum(f[5] for f in files),
            "changed_files": len(files),
            "merge_base": base,
        }
        self._stats_cache[key] = stats
        return stats

    def mergeable_state(self, pr: J, stats: PullStats) -> str:
        """GitHub's `mergeable_state`: dirty (conflicts), blocked (required checks not green
        on a PR into the default branch), clean; `unknown` once closed."""
        if pr["state"] != "open":
            return "unknown"
        if not stats["mergeable"]:
            return "dirty"
        rec = self.repo_rec(pr["repo"])
        if pr["base_ref"] == rec["default_branch"] and any(
            self.check_state(pr["repo"], pr["head_sha"], c) != "success"
            for c in required_contexts(rec)
        ):
            return "blocked"
        return "clean"

    def merge_pull(
        self,
        pr: J,
        *,
        by: str,
        method: str = "merge",
        title: str | None = None,
        message: str | None = None,
        sha: str | None = None,
        enforce_rules: bool = True,
    ) -> str:
        full_name = pr["repo"]
        repo = self.git(full_name)
        if pr["state"] != "open":
            raise ApiError(405, "Pull Request is not mergeable")
        if sha and sha != pr["head_sha"]:
            raise ApiError(409, "Head branch was modified. Review and try the merge again.")
        if method not in ("merge", "squash"):
            raise validation_failed("PullRequest", "merge_method", "invalid", value=method)
        if enforce_rules:
            rec = self.repo_rec(full_name)
            if pr["base_ref"] == rec["default_branch"]:
                for context in required_contexts(rec):
                    if self.check_state(full_name, pr["head_sha"], context) != "success":
                        raise ApiError(
                            405,
                            "Repository rule violations found\n\n"
                            f'Required status check "{context}" is expected.',
                        )
        stats = self.pull_stats(pr)
        if not stats["mergeable"]:
            raise ApiError(405, "Pull Request is not mergeable")
        with repo.ref_lock:
            base_tip = repo.ref(f"refs/heads/{pr['base_ref']}")
            if base_tip is None:
                raise ApiError(422, "Base branch was deleted")
            tree, clean = repo.merge_trees(base_tip, pr["head_sha"])
            if not clean:
                raise ApiError(405, "Pull Request is not mergeable")
            person = self.person(by) if by != self.bot_login else self.bot_person()
            if method == "squash":
                text = f"{title or pr['title']} (#{pr['number']})\n\n{message or ''}".rstrip()
                commit = repo.commit_tree(tree, [base_tip], text + "\n", person)
            else:
                head_label = f"{full_name.split('/')[0]}/{pr['head_ref']}"
                text = title or f"Merge pull request #{pr['number']} from {head_label}"
                text += f"\n\n{message if message is not None else pr['title']}"
                commit = repo.commit_tree(tree, [base_tip, pr["head_sha"]], text + "\n", person)
            self.mark_verified(full_name, commit)
            repo.update_ref(f"refs/heads/{pr['base_ref']}", commit, base_tip)
        now = self.clock.iso()
        pr.update(
            state="closed",
            merged_at=now,
            closed_at=now,
            updated_at=now,
            merge_commit_sha=commit,
            merged_by=by,
            base_sha=base_tip,
        )
        self.webhooks.emit_pull_request(pr, "closed", by)
        self.after_push(full_name, f"refs/heads/{pr['base_ref']}", base_tip, commit, pusher=by)
        return commit
