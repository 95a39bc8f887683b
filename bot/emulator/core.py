"""The emulator's model: repositories, users, installations, tokens, PRs, and what a push sets off.

Routes (``bot.emulator.api_*``) and the test handle both call these methods; pushes fan out to
webhooks (``bot.emulator.webhooks``) and CI (``bot.emulator.ci``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.emulator.ci import CiRunner
from bot.emulator.clock import EmulatorClock
from bot.emulator.gitstore import ZERO, GitCommandError, GitRepo, Person
from bot.emulator.limits import Counters, Faults, RateLimiter
from bot.emulator.seed import CiRule, RepoSeed, Seed, SeedError
from bot.emulator.store import StateError, Store
from bot.emulator.webhooks import WebhookSender
from bot.tree import read_tree

if TYPE_CHECKING:
    from bot.template import ResolvedTemplate

__all__ = ["ApiError", "Emulator"]

log = structlog.get_logger(__name__)

J = dict[str, Any]
TOKEN_TTL = 3600.0
CI_APP_ID = 15368


class ApiError(Exception):
    """An error answered the way GitHub answers it: status, message, optional `errors`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[J] | None = None,
        headers: Mapping[str, str] | None = None,
        doc: str = "https://docs.github.com/rest",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = dict(headers or {})
        self.doc = doc

    def body(self) -> J:
        data: J = {
            "message": self.message,
            "documentation_url": self.doc,
            "status": str(self.status),
        }
        if self.errors is not None:
            data["errors"] = self.errors
        return data


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def required_contexts(rec: J) -> list[str]:
    """Checks required on a repository's default branch: by rulesets and by classic protection."""
    contexts = list(rec.get("required_checks", []))
    contexts += [c for c in rec.get("protection_checks", []) if c not in contexts]
    return contexts


def validation_failed(resource: str, field: str, code: str = "invalid", **extra: Any) -> ApiError:
    error: J = {"resource": resource, "field": field, "code": code, **extra}
    return ApiError(422, "Validation Failed", errors=[error])


class Emulator:
    """All state of one emulated GitHub, behind one lock for non-git data."""

    def __init__(
        self,
        seed: Seed,
        state_dir: Path,
        *,
        base_url: str,
        clock: EmulatorClock | None = None,
    ) -> None:
        self.seed = seed
        self.state_dir = state_dir
        self.base_url = base_url.rstrip("/")
        self.api_url = f"{self.base_url}/api/v3"
        self.host = urlsplit(self.base_url).netloc
        self.clock = clock or EmulatorClock(speed=seed.clock_speed)
        # Separate streams, so background work (webhook ids) never shifts the fault sequence.
        self.rng = random.Random(seed.random_seed)  # noqa: S311 - reproducible fault injection
        self.id_rng = random.Random(seed.random_seed + 1)  # noqa: S311 - delivery/request ids
        if state_dir.exists() and not state_dir.is_dir():
            raise StateError(f"{state_dir}: the emulator's state directory is a file")
        self.store = Store(state_dir / "state.json")
        self.repos_root = state_dir / "repos"
        self.repos_root.mkdir(parents=True, exist_ok=True)
        self._git: dict[str, GitRepo] = {}
        self._stats_cache: dict[tuple[str, str, str], J] = {}
        self.limiter = RateLimiter(self.clock, seed.limits)
        self.faults = Faults(seed.faults, self.rng)
        self.counters = Counters()
        self.codeload: dict[str, tuple[str, str, float]] = {}
        self.lock = self.store.lock
        self._private_key_pem, self.public_key_pem = self._load_key(seed, state_dir)
        self.app: J = {
            "id": seed.app.id,
            "slug": seed.app.slug,
            "client_id": seed.app.client_id,
            "name": seed.app.name,
            "owner": seed.app.owner,
            "description": "Keeps generated services in step with their templates.",
            "created_at": self.clock.iso(),
            "permissions": {
                "checks": "write",
                "contents": "write",
                "issues": "write",
                "metadata": "read",
                "pull_requests": "write",
                "statuses": "write",
            },
            "events": [
                "check_run",
                "check_suite",
                "issue_comment",
                "pull_request",
                "push",
                "status",
            ],
        }
        self.ci_app: J = {
            "id": CI_APP_ID,
            "slug": "emulator-ci",
            "name": "Emulator CI",
            "owner": "emulator",
            "description": "Runs each repository's configured check on every pushed commit.",
            "created_at": self.clock.iso(),
            "permissions": {"checks": "write", "contents": "read", "metadata": "read"},
            "events": ["push"],
        }
        self.apps: dict[int, J] = {self.app["id"]: self.app, CI_APP_ID: self.ci_app}
        self.bot_login = f"{self.app['slug']}[bot]"
        self.ci_sender = f"{self.ci_app['slug']}[bot]"
        self.webhooks = WebhookSender(self)
        self.ci = CiRunner(self)
        self._save_lock = threading.Lock()
        self._stop_saving = threading.Event()
        self._template_stack: contextlib.ExitStack | None = None
        self._open_templates: dict[tuple[str, str | None, str | None], ResolvedTemplate] = {}
        self._seed_everything()

    # -- keys -----------------------------------------------------------------------------
    @staticmethod
    def _load_key(seed: Seed, state_dir: Path) -> tuple[bytes, bytes]:
        generated = state_dir / "app-private-key.pem"
        if seed.app.private_key:
            pem = seed.app.private_key.encode()
        elif seed.app.private_key_path:
            try:
                pem = seed.app.private_key_path.read_bytes()
            except OSError as exc:
                raise SeedError(
                    f"cannot read the app's private key {seed.app.private_key_path}: {exc.strerror}"
                ) from exc
        elif generated.exists():
            pem = generated.read_bytes()
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            state_dir.mkdir(parents=True, exist_ok=True)
            generated.touch(mode=0o600)
            generated.write_bytes(pem)
        try:
            loaded = serialization.load_pem_private_key(pem, password=None)
        except ValueError as exc:
            raise SeedError("the app's private key is not a PEM RSA private key") from exc
        public = loaded.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem, public

    @property
    def private_key_pem(self) -> str:
        return self._private_key_pem.decode()

    # -- users ----------------------------------------------------------------------------
    def ensure_user(self, login: str, type_: str = "User") -> J:
        with self.lock:
            users: dict[str, J] = self.store.data["users"]
            if login not in users:
                ident = self.app["id"] if login == self.bot_login else self.store.next_id("user")
                users[login] = {"login": login, "id": ident, "type": type_}
            return users[login]

    def user(self, login: str) -> J:
        users: dict[str, J] = self.store.data["users"]
        return users.get(login) or self.ensure_user(login)

    def person(self, login: str) -> Person:
        user = self.user(login)
        return Person(login, f"{user['id']}+{login}@users.noreply.github.com", self.clock.now())

    def user_for_email(self, email: str) -> J | None:
        from bot.emulator.shapes import user_json

        match = re.fullmatch(r"(?:\d+\+)?([^@]+)@users\.noreply\.github\.com", email)
        if match and match.group(1) in self.store.data["users"]:
            return user_json(self, match.group(1))
        return None

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

    def create_repo(self, spec: RepoSeed) -> None:
        owner_type = self.seed.users.get(spec.owner, "Organization")
        self.ensure_user(spec.owner, owner_type)
        for login in spec.collaborators:
            self.ensure_user(login)
        now = self.clock.iso()
        with self.lock:
            self.store.data["repos"][spec.full_name] = {
                "id": self.store.next_id("repo"),
                "owner": spec.owner,
                "name": spec.name,
                "full_name": spec.full_name,
                "private": spec.private,
                "default_branch": spec.default_branch,
                "description": spec.description,
                "created_at": now,
                "updated_at": now,
                "pushed_at": now,
                "ci": spec.ci.model_dump() if spec.ci else None,
                "required_checks": list(spec.required_checks),
                "protection_checks": list(spec.protection_checks),
                "collaborators": dict(spec.collaborators),
                "next_number": 1,
                "labels": {},
                "verified": [],
            }
        path = self.repos_root / f"{spec.full_name}.git"
        if path.exists():
            shutil.rmtree(path)
        repo = GitRepo.init(path, spec.default_branch)
        self._git[spec.full_name] = repo
        if spec.from_git:
            try:
                repo.git("fetch", "-q", str(spec.from_git.resolve()), "+refs/*:refs/*")
            except GitCommandError as exc:
                raise SeedError(
                    f"{spec.full_name}: from_git {spec.from_git}: git cannot fetch from it: "
                    f"{' / '.join(exc.stderr.strip().splitlines()[:2])}"
                ) from None
            if not repo.ref(f"refs/heads/{spec.default_branch}"):
                heads = repo.refs("refs/heads/")
                if heads:
                    repo.update_ref(f"refs/heads/{spec.default_branch}", next(iter(heads.values())))
        files: dict[str, tuple[bytes, bool]] = {}
        if spec.from_dir:
            if not spec.from_dir.is_dir():
                raise SeedError(f"{spec.full_name}: from_dir {spec.from_dir} is not a directory")
            for rel, f in read_tree(spec.from_dir).items():
                files[rel] = (f.data, f.executable)
        if spec.render:
            files.update(self._render_files(spec))
        for rel, text in spec.files.items():
            files[rel] = (text.encode(), rel in spec.executable)
        author = Person("evobot seed", "seed@emulator.invalid", self.clock.now())
        if files:
            parent = repo.ref(f"refs/heads/{spec.default_branch}")
            flat = repo.flat_tree(parent) if parent else {}
            for rel, (data, exe) in files.items():
                flat[rel] = ("100755" if exe else "100644", "blob", repo.write_blob(data))
            commit = repo.commit_tree(
                repo.write_flat_tree(flat), [parent] if parent else [], "Initial commit", author
            )
            repo.update_ref(f"refs/heads/{spec.default_branch}", commit)
        for step in spec.commits:
            parent = repo.ref(f"refs/heads/{spec.default_branch}")
            flat = repo.flat_tree(parent) if parent else {}
            for rel in step.delete:
                flat.pop(rel, None)
            for rel, text in step.files.items():
                flat[rel] = ("100644", "blob", repo.write_blob(text.encode()))
            commit = repo.commit_tree(
                repo.write_flat_tree(flat), [parent] if parent else [], step.message, author
            )
            repo.update_ref(f"refs/heads/{spec.default_branch}", commit)
            if step.tag:
                repo.update_ref(f"refs/tags/{step.tag}", commit)
        head = repo.ref(f"refs/heads/{spec.default_branch}")
        for tag in spec.tags:
            if head is None:
                raise SeedError(f"{spec.full_name}: cannot tag {tag}, the repository is empty")
            repo.update_ref(f"refs/tags/{tag}", head)
        if spec.from_git:
            repo.set_head(spec.default_branch)

    def _render_files(self, spec: RepoSeed) -> dict[str, tuple[bytes, bool]]:
        from bot.template import open_template

        render = spec.render
        assert render is not None
        key = (render.template, render.ref, render.subdir)
        tpl = self._open_templates.get(key) if self._template_stack is not None else None
        if tpl is None:
            source = str(self.repos_root / f"{render.template}.git")
            opened = open_template(source, subdir=render.subdir, vcs_ref=render.ref)
            if self._template_stack is not None:
                # Seeding: keep each template version open for every consumer rendered from it.
                tpl = self._template_stack.enter_context(opened)
                self._open_templates[key] = tpl
            else:
                with opened as tpl:
                    return self._render_with(tpl, spec)
        return self._render_with(tpl, spec)

    def _render_with(self, tpl: ResolvedTemplate, spec: RepoSeed) -> dict[str, tuple[bytes, bool]]:
        from bot.consumer import ConsumerConfig, RolloutSettings, TemplateVersion
        from bot.consumer import dump_consumer_config as dump
        from bot.template import render_template, resolve_answers

        render = spec.render
        assert render is not None
        answers = resolve_answers(tpl.manifest, render.answers)
        tree = render_template(tpl, answers.values)
        config = ConsumerConfig(
            template=self.git_url(render.template),
            template_subdir=render.subdir,
            version=TemplateVersion(ref=tpl.ref, commit=tpl.commit),
            answers=answers.values,
            rollout=RolloutSettings.model_validate({"ring": render.ring}),
        )
        files = {rel: (f.data, f.executable) for rel, f in tree.items()}
        files[".evobot.yml"] = (dump(config).encode(), False)
        return files

    def _seed_everything(self) -> None:
        if self.store.loaded_from_disk:  # resume: the repositories are already on disk
            return
        self.ensure_user(self.bot_login, "Bot")
        self.ensure_user(self.ci_sender, "Bot")
        self.ensure_user(self.app["owner"], "Organization")
        for login, type_ in self.seed.users.items():
            self.ensure_user(login, type_)
        with contextlib.ExitStack() as stack:
            self._template_stack = stack
            try:
                for spec in self.seed.repos:
                    self.create_repo(spec)
            finally:
                self._template_stack = None
                self._open_templates.clear()
        for inst in self.seed.installations:
            self.add_installation(inst.id, inst.account, inst.account_type, inst.repositories)
        self.save()

    def save(self) -> None:
        with self._save_lock:
            self.store.save()

    def start_saver(self, interval: float = 2.0) -> None:
        """Save changed state every ``interval`` seconds from a daemon thread."""

        def run() -> None:
            while not self._stop_saving.wait(interval):
                if self.store.dirty:
                    self.store.dirty = False
                    try:
                        with self._save_lock:
                            self.store.save(include_deliveries=False)
                    except (OSError, RuntimeError):  # try again on the next tick
                        log.exception("saving the emulator state failed")
                        self.store.dirty = True

        self._stop_saving.clear()
        threading.Thread(target=run, name="emulator-saver", daemon=True).start()

    # -- installations and tokens ---------------------------------------------------------
    def add_installation(
        self,
        ident: int,
        account: str,
        account_type: str = "Organization",
        repositories: list[str] | None = None,
    ) -> J:
        self.ensure_user(account, account_type)
        with self.lock:
            inst = {
                "id": ident,
                "account": account,
                "account_type": account_type,
                "repositories": repositories,
                "created_at": self.clock.iso(),
            }
            self.store.data["installations"][str(ident)] = inst
        return inst

    def installation(self, ident: int) -> J:
        inst = self.store.data["installations"].get(str(ident))
        if inst is None:
            raise not_found()
        return inst  # type: ignore[no-any-return]

    def installation_repos(self, ident: int) -> list[str]:
        inst = self.installation(ident)
        if inst["repositories"] is not None:
            return [n for n in inst["repositories"] if self.has_repo(n)]
        return sorted(
            n for n, r in self.store.data["repos"].items() if r["owner"] == inst["account"]
        )

    def installation_for_repo(self, full_name: str) -> int | None:
        for key in self.store.data["installations"]:
            if full_name in self.installation_repos(int(key)):
                return int(key)
        return None

    def installation_id(self, owner: str) -> int:
        for key, inst in self.store.data["installations"].items():
            if inst["account"] == owner:
                return int(key)
        raise KeyError(f"no installation for {owner}")

    def mint_token(
        self, installation_id: int, *, repositories: list[str] | None = None
    ) -> tuple[str, float]:
        """A new installation token (only its sha256 is kept) and its emulated expiry."""
        self.installation(installation_id)
        token = "ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36]
        expires = self.clock.now() + TOKEN_TTL
        with self.lock:
            self.store.data["tokens"][_hash(token)] = {
                "installation_id": installation_id,
                "expires_at": expires,
                "repositories": repositories,
            }
        return token, expires

    def token_info(self, token: str) -> tuple[int, frozenset[str] | None] | None:
        """``(installation id, repository scope)`` of a live token, or None."""
        rec = self.store.data["tokens"].get(_hash(token))
        if rec is None or "installation_id" not in rec or rec["expires_at"] <= self.clock.now():
            return None
        repos = rec.get("repositories")
        return int(rec["installation_id"]), (frozenset(repos) if repos is not None else None)

    def mint_user_token(self, login: str) -> str:
        """A personal token acting as ``login`` (a human in tests: comments, pushes, merges)."""
        self.ensure_user(login)
        token = "ghp_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36]
        with self.lock:
            self.store.data["tokens"][_hash(token)] = {"user": login}
        return token

    def token_user(self, token: str) -> str | None:
        rec = self.store.data["tokens"].get(_hash(token))
        return rec.get("user") if rec else None

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

    def pull_stats(self, pr: J) -> J:
        key = (pr["repo"], pr["base_sha"], pr["head_sha"])
        cached = self._stats_cache.get(key)
        if cached is not None:
            return cached
        repo = self.git(pr["repo"])
        base = repo.merge_base(pr["base_sha"], pr["head_sha"]) or pr["base_sha"]
        files = repo.diff(base, pr["head_sha"])
        commits = len(repo.rev_list(f"{base}..{pr['head_sha']}"))
        _tree, clean = repo.merge_trees(pr["base_sha"], pr["head_sha"])
        stats = {
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

    def mergeable_state(self, pr: J, stats: J) -> str:
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

    def bot_person(self) -> Person:
        return Person(
            self.bot_login,
            f"{self.app['id']}+{self.bot_login}@users.noreply.github.com",
            self.clock.now(),
        )

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
            self.codeload[key] = (full_name, sha, now + 300)
        return f"{self.base_url}/_codeload/{full_name}/legacy.tar.gz/{sha}?token={key}"

    def close(self) -> None:
        self._stop_saving.set()
        self.ci.stop()
        self.webhooks.stop()
        self.save()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def run_in_checkout(repo: GitRepo, sha: str, command: str, timeout: float) -> tuple[int, str]:
    """Extract ``sha`` to a temporary directory and run ``command`` there with a shell."""
    with tempfile.TemporaryDirectory(prefix="evobot-emu-ci-") as tmp:
        archive = repo.git("archive", "--format=tar", sha).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        # The seed's own CI command, run by a shell like a workflow's `run:` step, in its own
        # process group so a timeout stops everything it started.
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=tmp,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return -1, f"timed out after {timeout:g}s"
        return proc.returncode, output.decode(errors="replace")
