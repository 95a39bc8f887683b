"""GitHub's JSON shapes filled with the emulator's real data: users, repos, commits, PRs, checks."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from bot.emulator.gitstore import Person, RawCommit

if TYPE_CHECKING:
    from bot.emulator.core import Emulator

__all__ = [
    "check_run_json",
    "check_suite_json",
    "comment_json",
    "commit_json",
    "git_commit_json",
    "integration_json",
    "label_json",
    "node_id",
    "pull_json",
    "repo_json",
    "status_json",
    "user_json",
]

J = dict[str, Any]


def node_id(kind: str, ident: int | str) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode().rstrip("=")


def user_json(emu: Emulator, login: str) -> J:
    user = emu.user(login)
    api = emu.api_url
    return {
        "login": login,
        "id": user["id"],
        "node_id": node_id(user["type"], user["id"]),
        "avatar_url": f"{emu.base_url}/avatars/u/{user['id']}?v=4",
        "gravatar_id": "",
        "url": f"{api}/users/{login}",
        "html_url": f"{emu.base_url}/{login}",
        "followers_url": f"{api}/users/{login}/followers",
        "following_url": f"{api}/users/{login}/following{{/other_user}}",
        "gists_url": f"{api}/users/{login}/gists{{/gist_id}}",
        "starred_url": f"{api}/users/{login}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/users/{login}/subscriptions",
        "organizations_url": f"{api}/users/{login}/orgs",
        "repos_url": f"{api}/users/{login}/repos",
        "events_url": f"{api}/users/{login}/events{{/privacy}}",
        "received_events_url": f"{api}/users/{login}/received_events",
        "type": user["type"],
        "site_admin": False,
    }


_REPO_URLS = {
    "forks_url": "/forks",
    "keys_url": "/keys{/key_id}",
    "collaborators_url": "/collaborators{/collaborator}",
    "teams_url": "/teams",
    "hooks_url": "/hooks",
    "issue_events_url": "/issues/events{/number}",
    "events_url": "/events",
    "assignees_url": "/assignees{/user}",
    "branches_url": "/branches{/branch}",
    "tags_url": "/tags",
    "blobs_url": "/git/blobs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "trees_url": "/git/trees{/sha}",
    "statuses_url": "/statuses/{sha}",
    "languages_url": "/languages",
    "stargazers_url": "/stargazers",
    "contributors_url": "/contributors",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "commits_url": "/commits{/sha}",
    "git_commits_url": "/git/commits{/sha}",
    "comments_url": "/comments{/number}",
    "issue_comment_url": "/issues/comments{/number}",
    "contents_url": "/contents/{+path}",
    "compare_url": "/compare/{base}...{head}",
    "merges_url": "/merges",
    "archive_url": "/{archive_format}{/ref}",
    "downloads_url": "/downloads",
    "issues_url": "/issues{/number}",
    "pulls_url": "/pulls{/number}",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "labels_url": "/labels{/name}",
    "releases_url": "/releases{/id}",
    "deployments_url": "/deployments",
}


def repo_json(emu: Emulator, full_name: str, *, minimal: bool = False) -> J:
    """`full-repository` (or `minimal-repository` with ``minimal``)."""
    rec = emu.repo_rec(full_name)
    api_repo = f"{emu.api_url}/repos/{full_name}"
    html = f"{emu.base_url}/{full_name}"
    data: J = {
        "id": rec["id"],
        "node_id": node_id("Repository", rec["id"]),
        "name": rec["name"],
        "full_name": full_name,
        "private": rec["private"],
        "owner": user_json(emu, rec["owner"]),
        "html_url": html,
        "description": rec.get("description"),
        "fork": False,
        "url": api_repo,
    }
    for key, suffix in _REPO_URLS.items():
        data[key] = api_repo + suffix
    if minimal:
        return data
    count = sum(
        1 for p in emu.store.data["pulls"].get(full_name, {}).values() if p["state"] == "open"
    )
    data.update(
        {
            "created_at": rec["created_at"],
            "updated_at": rec["updated_at"],
            "pushed_at": rec["pushed_at"],
            "git_url": f"git://{emu.host}/{full_name}.git",
            "ssh_url": f"git@{emu.host}:{full_name}.git",
            "clone_url": f"{emu.base_url}/{full_name}.git",
            "svn_url": html,
            "homepage": None,
            "size": 1,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": False,
            "has_downloads": True,
            "has_wiki": False,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": count,
            "license": None,
            "allow_forking": True,
            "is_template": rec.get("is_template", False),
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private" if rec["private"] else "public",
            "forks": 0,
            "open_issues": count,
            "watchers": 0,
            "default_branch": rec["default_branch"],
            "permissions": {
                "admin": False,
                "maintain": False,
                "push": True,
                "triage": True,
                "pull": True,
            },
            "allow_squash_merge": True,
            "allow_merge_commit": True,
            "allow_rebase_merge": True,
            "allow_auto_merge": False,
            "delete_branch_on_merge": False,
            "network_count": 0,
            "subscribers_count": 0,
        }
    )
    return data


def integration_json(emu: Emulator, app: J) -> J:
    return {
        "id": app["id"],
        "slug": app["slug"],
        "client_id": app.get("client_id", f"Iv1.{app['id']:016x}"),
        "node_id": node_id("Integration", app["id"]),
        "owner": user_json(emu, app["owner"]),
        "name": app["name"],
        "description": app.get("description", ""),
        "external_url": emu.base_url,
        "html_url": f"{emu.base_url}/apps/{app['slug']}",
        "created_at": app["created_at"],
        "updated_at": app["created_at"],
        "permissions": dict(app["permissions"]),
        "events": list(app["events"]),
        "installations_count": len(emu.store.data["installations"]),
    }


def _person_json(emu: Emulator, person: Person) -> J:
    return {"name": person.name, "email": person.email, "date": emu.clock.iso(person.date)}


def git_commit_json(emu: Emulator, full_name: str, commit: RawCommit) -> J:
    """`git-commit` (the Git Data API's view of a commit)."""
    api_repo = f"{emu.api_url}/repos/{full_name}"
    verified = commit.sha in emu.repo_rec(full_name).get("verified", [])
    return {
        "sha": commit.sha,
        "node_id": node_id("Commit", commit.sha),
        "url": f"{api_repo}/git/commits/{commit.sha}",
        "html_url": f"{emu.base_url}/{full_name}/commit/{commit.sha}",
        "author": _person_json(emu, commit.author),
        "committer": _person_json(emu, commit.committer),
        "tree": {"sha": commit.tree, "url": f"{api_repo}/git/trees/{commit.tree}"},
        "message": commit.message,
        "parents": [
            {
                "sha": p,
                "url": f"{api_repo}/git/commits/{p}",
                "html_url": f"{emu.base_url}/{full_name}/commit/{p}",
            }
            for p in commit.parents
        ],
        "verification": {
            "verified": verified,
            "reason": "valid" if verified else "unsigned",
            "signature": "-----BEGIN PGP SIGNATURE-----\nemulated\n-----END PGP SIGNATURE-----"
            if verified
            else None,
            "payload": None,
            "verified_at": emu.clock.iso(commit.committer.date) if verified else None,
        },
    }


def commit_json(emu: Emulator, full_name: str, commit: RawCommit) -> J:
    """`commit` (the REST commits view: the git commit plus GitHub users)."""
    api_repo = f"{emu.api_url}/repos/{full_name}"
    inner = git_commit_json(emu, full_name, commit)
    for key in ("sha", "node_id", "html_url", "parents"):
        inner.pop(key)
    inner["comment_count"] = 0
    return {
        "url": f"{api_repo}/commits/{commit.sha}",
        "sha": commit.sha,
        "node_id": node_id("Commit", commit.sha),
        "html_url": f"{emu.base_url}/{full_name}/commit/{commit.sha}",
        "comments_url": f"{api_repo}/commits/{commit.sha}/comments",
        "commit": inner,
        "author": emu.user_for_email(commit.author.email),
        "committer": emu.user_for_email(commit.committer.email),
        "parents": [
            {
                "sha": p,
                "url": f"{api_repo}/commits/{p}",
                "html_url": f"{emu.base_url}/{full_name}/commit/{p}",
            }
            for p in commit.parents
        ],
    }


def label_json(emu: Emulator, full_name: str, label: J) -> J:
    return {
        "id": label["id"],
        "node_id": node_id("Label", label["id"]),
        "url": f"{emu.api_url}/repos/{full_name}/labels/{label['name']}",
        "name": label["name"],
        "description": label.get("description"),
        "color": label.get("color", "ededed"),
        "default": False,
    }


def _branch_json(emu: Emulator, full_name: str, ref: str, sha: str) -> J:
    owner = full_name.split("/")[0]
    return {
        "label": f"{owner}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user_json(emu, owner),
        "repo": repo_json(emu, full_name),
    }


def pull_json(emu: Emulator, pr: J, *, simple: bool = False) -> J:
    """`pull-request` (or `pull-request-simple` for lists)."""
    full_name = pr["repo"]
    api_repo = f"{emu.api_url}/repos/{full_name}"
    html = f"{emu.base_url}/{full_name}/pull/{pr['number']}"
    number = pr["number"]
    labels = emu.repo_rec(full_name)["labels"]
    data: J = {
        "url": f"{api_repo}/pulls/{number}",
        "id": pr["id"],
        "node_id": node_id("PullRequest", pr["id"]),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": f"{api_repo}/issues/{number}",
        "commits_url": f"{api_repo}/pulls/{number}/commits",
        "review_comments_url": f"{api_repo}/pulls/{number}/comments",
        "review_comment_url": f"{api_repo}/pulls/comments{{/number}}",
        "comments_url": f"{api_repo}/issues/{number}/comments",
        "statuses_url": f"{api_repo}/statuses/{pr['head_sha']}",
        "number": number,
        "state": pr["state"],
        "locked": False,
        "title": pr["title"],
        "user": user_json(emu, pr["user"]),
        "body": pr["body"],
        "labels": [label_json(emu, full_name, labels[n]) for n in pr["labels"] if n in labels],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": pr["created_at"],
        "updated_at": pr["updated_at"],
        "closed_at": pr["closed_at"],
        "merged_at": pr["merged_at"],
        "merge_commit_sha": pr["merge_commit_sha"],
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": _branch_json(emu, full_name, pr["head_ref"], pr["head_sha"]),
        "base": _branch_json(emu, full_name, pr["base_ref"], pr["base_sha"]),
        "_links": {
            "self": {"href": f"{api_repo}/pulls/{number}"},
            "html": {"href": html},
            "issue": {"href": f"{api_repo}/issues/{number}"},
            "comments": {"href": f"{api_repo}/issues/{number}/comments"},
            "review_comments": {"href": f"{api_repo}/pulls/{number}/comments"},
            "review_comment": {"href": f"{api_repo}/pulls/comments{{/number}}"},
            "commits": {"href": f"{api_repo}/pulls/{number}/commits"},
            "statuses": {"href": f"{api_repo}/statuses/{pr['head_sha']}"},
        },
        "author_association": "NONE",
        "auto_merge": None,
        "draft": pr.get("draft", False),
    }
    if simple:
        return data
    stats = emu.pull_stats(pr)
    data.update(
        {
            "merged": pr["merged_at"] is not None,
            "mergeable": stats["mergeable"],
            "rebaseable": stats["mergeable"],
            "mergeable_state": emu.mergeable_state(pr, stats),
            "merged_by": user_json(emu, pr["merged_by"]) if pr.get("merged_by") else None,
            "comments": sum(
                1
                for c in emu.store.data["comments"].values()
                if c["repo"] == full_name and c["issue_number"] == number
            ),
            "review_comments": 0,
            "maintainer_can_modify": pr.get("maintainer_can_modify", False),
            "commits": stats["commits"],
            "additions": stats["additions"],
            "deletions": stats["deletions"],
            "changed_files": stats["changed_files"],
        }
    )
    return data


def reactions_rollup(emu: Emulator, url: str, subject: str) -> J:
    counts = dict.fromkeys(
        ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"), 0
    )
    for r in emu.store.data["reactions"].values():
        if r["subject"] == subject:
            counts[r["content"]] += 1
    return {"url": url, "total_count": sum(counts.values()), **counts}


def comment_json(emu: Emulator, comment: J) -> J:
    full_name = comment["repo"]
    api_repo = f"{emu.api_url}/repos/{full_name}"
    url = f"{api_repo}/issues/comments/{comment['id']}"
    return {
        "id": comment["id"],
        "node_id": node_id("IssueComment", comment["id"]),
        "url": url,
        "html_url": f"{emu.base_url}/{full_name}/pull/{comment['issue_number']}"
        f"#issuecomment-{comment['id']}",
        "body": comment["body"],
        "user": user_json(emu, comment["user"]),
        "created_at": comment["created_at"],
        "updated_at": comment["updated_at"],
        "issue_url": f"{api_repo}/issues/{comment['issue_number']}",
        "author_association": emu.association(full_name, comment["user"]),
        "performed_via_github_app": None,
        "reactions": reactions_rollup(emu, f"{url}/reactions", f"comment:{comment['id']}"),
    }


def reaction_json(emu: Emulator, reaction: J) -> J:
    return {
        "id": reaction["id"],
        "node_id": node_id("Reaction", reaction["id"]),
        "user": user_json(emu, reaction["user"]),
        "content": reaction["content"],
        "created_at": reaction["created_at"],
    }


def _simple_commit(emu: Emulator, full_name: str, sha: str) -> J:
    commit = emu.git(full_name).read_commit(sha)
    if commit is None:
        raise KeyError(sha)
    return {
        "id": sha,
        "tree_id": commit.tree,
        "message": commit.message,
        "timestamp": emu.clock.iso(commit.committer.date),
        "author": {"name": commit.author.name, "email": commit.author.email},
        "committer": {"name": commit.committer.name, "email": commit.committer.email},
    }


def _pr_refs(emu: Emulator, full_name: str, sha: str) -> list[J]:
    api_repo = f"{emu.api_url}/repos/{full_name}"
    repo_ref = {"id": emu.repo_rec(full_name)["id"], "url": api_repo, "name": full_name}
    result = []
    for pr in emu.store.data["pulls"].get(full_name, {}).values():
        if pr["state"] == "open" and pr["head_sha"] == sha:
            result.append(
                {
                    "id": pr["id"],
                    "number": pr["number"],
                    "url": f"{api_repo}/pulls/{pr['number']}",
                    "head": {"ref": pr["head_ref"], "sha": pr["head_sha"], "repo": repo_ref},
                    "base": {"ref": pr["base_ref"], "sha": pr["base_sha"], "repo": repo_ref},
                }
            )
    return result


def check_suite_json(emu: Emulator, suite: J) -> J:
    full_name = suite["repo"]
    api_repo = f"{emu.api_url}/repos/{full_name}"
    runs = [r for r in emu.store.data["check_runs"].values() if r["suite_id"] == suite["id"]]
    return {
        "id": suite["id"],
        "node_id": node_id("CheckSuite", suite["id"]),
        "head_branch": suite["head_branch"],
        "head_sha": suite["head_sha"],
        "status": suite["status"],
        "conclusion": suite["conclusion"],
        "url": f"{api_repo}/check-suites/{suite['id']}",
        "before": suite["before"],
        "after": suite["head_sha"],
        "pull_requests": _pr_refs(emu, full_name, suite["head_sha"]),
        "app": integration_json(emu, emu.apps[suite["app_id"]]),
        "repository": repo_json(emu, full_name, minimal=True),
        "created_at": suite["created_at"],
        "updated_at": suite["updated_at"],
        "head_commit": _simple_commit(emu, full_name, suite["head_sha"]),
        "latest_check_runs_count": len(runs),
        "check_runs_url": f"{api_repo}/check-suites/{suite['id']}/check-runs",
        "rerequestable": True,
        "runs_rerequestable": True,
    }


def check_run_json(emu: Emulator, run: J) -> J:
    full_name = run["repo"]
    api_repo = f"{emu.api_url}/repos/{full_name}"
    html = f"{emu.base_url}/{full_name}/runs/{run['id']}"
    return {
        "id": run["id"],
        "head_sha": run["head_sha"],
        "node_id": node_id("CheckRun", run["id"]),
        "external_id": run.get("external_id") or "",
        "url": f"{api_repo}/check-runs/{run['id']}",
        "html_url": html,
        "details_url": run.get("details_url") or html,
        "status": run["status"],
        "conclusion": run["conclusion"],
        "started_at": run["started_at"],
        "completed_at": run["completed_at"],
        "output": {
            "title": run["output"].get("title"),
            "summary": run["output"].get("summary"),
            "text": run["output"].get("text"),
            "annotations_count": 0,
            "annotations_url": f"{api_repo}/check-runs/{run['id']}/annotations",
        },
        "name": run["name"],
        "check_suite": {"id": run["suite_id"]},
        "app": integration_json(emu, emu.apps[run["app_id"]]),
        "pull_requests": _pr_refs(emu, full_name, run["head_sha"]),
    }


def status_json(emu: Emulator, status: J) -> J:
    creator = user_json(emu, status["creator"])
    return {
        "url": f"{emu.api_url}/repos/{status['repo']}/statuses/{status['sha']}",
        "avatar_url": creator["avatar_url"],
        "id": status["id"],
        "node_id": node_id("StatusContext", status["id"]),
        "state": status["state"],
        "description": status["description"],
        "target_url": status["target_url"],
        "context": status["context"],
        "created_at": status["created_at"],
        "updated_at": status["updated_at"],
        "creator": creator,
    }
