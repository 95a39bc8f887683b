"""Evolve one consumer: render the template at its recorded commit and at the target version,
apply the migrations crossed, and three-way merge the difference into the consumer's files.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import structlog

from bot.consumer import CONFIG_NAME, ConsumerConfig, TemplateVersion, dump_consumer_config
from bot.errors import EvobotError, MergeError, TemplateSourceError
from bot.evolution.merge import FileOutcome, FileStatus, merge_trees
from bot.evolution.migrations import MigrationPlan, plan_migrations
from bot.template import ResolvedTemplate, open_template, render_template, resolve_answers
from bot.tree import File, Tree, refuse_git_dir

__all__ = ["Evolution", "evolve_consumer"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Evolution:
    """Everything one evolution decided, computed in memory; nothing is written yet."""

    from_version: TemplateVersion
    to_version: TemplateVersion
    template: ResolvedTemplate
    config: ConsumerConfig
    base_tree: Tree
    new_tree: Tree
    tree: Tree
    deleted: tuple[str, ...]
    files: tuple[FileOutcome, ...]
    conflicts: tuple[str, ...]
    changed_paths: tuple[str, ...] = ()
    migrations: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """False when applying this evolution would not change a byte of the consumer."""
        return bool(self.changed_paths or self.deleted)

    @property
    def written(self) -> Tree:
        """Only the files whose content or mode differ from the consumer's current ones."""
        return {p: self.tree[p] for p in self.changed_paths}


def _label(template: ResolvedTemplate) -> str:
    return f"template {template.ref or template.commit[:12]}"


def _answers(template: ResolvedTemplate, given: Mapping[str, Any], which: str) -> dict[str, Any]:
    try:
        answer_set = resolve_answers(template.manifest, given)
    except EvobotError as exc:
        raise type(exc)(
            f"answers recorded in {CONFIG_NAME} do not fit the {which} template "
            f"({template.ref or template.commit[:12]}): {exc.message}",
            # Never the hint for `render` (--data): answers here come from the file.
            hint=f"edit the answers in {CONFIG_NAME} and run `evobot update` again",
        ) from None
    return dict(answer_set.values)


def _delete_candidates(
    deletes: Sequence[str], ours: Mapping[str, File], base: Tree, new: Tree
) -> Tree:
    """Consumer files a migration deletes that the old render never produced.

    They join the merge's base as if the template had rendered them exactly so, which makes
    the merge delete them; files the old render did produce are handled by the merge itself.
    """
    extra: Tree = {}
    for target in deletes:
        for path, f in ours.items():
            under = path == target or path.startswith(target + "/")
            if under and path not in base and path not in new:
                extra[path] = f
    return extra


def _describe_migrations(plan: MigrationPlan) -> str:
    if plan.applied:
        return "migrations applied: " + ", ".join(plan.applied)
    return plan.note or "no migrations crossed"


def evolve_consumer(
    ours: Mapping[str, File],
    config: ConsumerConfig,
    *,
    vcs_ref: str | None = None,
    conflict_style: Literal["inline", "rej"] = "inline",
    git_http_headers: Sequence[str] = (),
    cache_dir: Path | None = None,
) -> Evolution:
    """Evolve the consumer tree ``ours`` (with its ``config``) to ``vcs_ref`` (default newest).

    The result holds the consumer's complete tree afterwards, `.evobot.yml` updated with the new
    version and answers. When the target is the recorded commit nothing changes.
    """
    current = dict(ours)
    files_only = {p: f for p, f in current.items() if p != CONFIG_NAME}

    @contextmanager
    def opened(ref: str | None, recorded: str = "`template:`") -> Iterator[ResolvedTemplate]:
        with ExitStack() as stack:
            try:
                template = stack.enter_context(
                    open_template(
                        config.template,
                        subdir=config.template_subdir,
                        vcs_ref=ref,
                        git_http_headers=git_http_headers,
                        cache_dir=cache_dir,
                    )
                )
            except TemplateSourceError as exc:
                # The person did not type this source or commit: say where it comes from.
                raise TemplateSourceError(
                    f"{exc.message} (from {recorded} in the consumer's {CONFIG_NAME})",
                    hint=exc.hint,
                ) from None
            yield template

    with opened(vcs_ref) as target:
        to_version = TemplateVersion(ref=target.ref, commit=target.commit)
        if target.commit == config.version.commit:
            rendered = render_template(target, _answers(target, config.answers, "recorded"))
            log.info("evolve.up_to_date", commit=target.commit)
            return Evolution(
                from_version=config.version,
                to_version=to_version,
                template=target,
                config=config,
                base_tree=rendered,
                new_tree=rendered,
                tree=current,
                deleted=(),
                files=(),
                conflicts=(),
                notes=(f"already at {target.ref or target.commit[:12]}; nothing to do",),
            )
        if not target.is_git:
            raise MergeError(
                f"{config.template}: the template is a plain directory whose content changed "
                f"since {config.version.commit[:12]}; its old version cannot be recovered",
                hint="keep templates in git and tag their versions, so evolution can find the base",
            )
        with opened(config.version.commit, "`version.commit`, the version last applied,") as base:
            base_tree = render_template(base, _answers(base, config.answers, "recorded"))
            from_ref = config.version.ref or base.ref
        plan = plan_migrations(target.manifest.migrations, from_ref, target.ref, config.answers)
        new_answers = _answers(target, plan.answers, "target")
        new_tree = render_template(target, new_answers)

    merge_base = {**base_tree, **_delete_candidates(plan.deletes, files_only, base_tree, new_tree)}
    merged = merge_trees(
        merge_base,
        new_tree,
        files_only,
        protect=config.protect,
        skip_if_exists=target.manifest.skip_if_exists,
        renames=plan.renames,
        conflict_style=conflict_style,
        template_label=_label(target),
    )

    new_config = config.model_copy(update={"version": to_version, "answers": new_answers})
    old_config_file = current.get(CONFIG_NAME)
    config_file = File(
        dump_consumer_config(new_config).encode(),
        old_config_file.executable if old_config_file else False,
    )
    tree = dict(merged.tree)
    tree[CONFIG_NAME] = config_file
    notes = [_describe_migrations(plan)]
    dropped = sorted(set(plan.answers) - set(new_answers))
    if dropped:
        notes.append("answers no longer asked by the template dropped: " + ", ".join(dropped))
    config_outcome = FileOutcome(
        CONFIG_NAME,
        FileStatus.UNCHANGED if old_config_file == config_file else FileStatus.UPDATED,
        f"{config.version.ref or config.version.commit[:12]} -> "
        f"{to_version.ref or to_version.commit[:12]}; {notes[0]}",
    )
    files = tuple(sorted((*merged.files, config_outcome), key=lambda o: o.path))
    changed_paths = tuple(sorted(p for p, f in tree.items() if current.get(p) != f))
    for path in (*changed_paths, *merged.deleted):
        # Renders refuse such paths already; renames and `.rej` files are checked here too.
        refuse_git_dir(path, source=f"evolving to {_label(target)}")
    log.info(
        "evolve.merged",
        from_commit=config.version.commit,
        to_commit=to_version.commit,
        changed=len(changed_paths),
        deleted=len(merged.deleted),
        conflicts=len(merged.conflicts),
    )
    return Evolution(
        from_version=config.version,
        to_version=to_version,
        template=target,
        config=new_config,
        base_tree=base_tree,
        new_tree=new_tree,
        tree=tree,
        deleted=merged.deleted,
        files=files,
        conflicts=merged.conflicts,
        changed_paths=changed_paths,
        migrations=plan.applied,
        notes=tuple(notes),
    )
