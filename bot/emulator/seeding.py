"""Seeding: repositories created from the seed, from a directory, a git repository, files and
commits, or rendered from a template (with `.evobot.yml`) like a real consumer.
"""

from __future__ import annotations

import contextlib
import shutil
from typing import TYPE_CHECKING

from bot.emulator.gitstore import GitCommandError, GitRepo, Person
from bot.emulator.repos import Repositories
from bot.emulator.seed import RepoSeed, SeedError
from bot.tree import read_tree

if TYPE_CHECKING:
    from bot.template import ResolvedTemplate

__all__ = ["Seeding"]


class Seeding(Repositories):
    """Creates the seed's users, repositories and installations on a fresh state directory."""

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
