"""Evolve one consumer: render the template at its recorded commit and at the target version,
apply the migrations crossed, and three-way merge the difference into the consumer's files.

A run over a fleet passes one `SharedWork`, so renders and merges that consumers have in common
are computed once for all of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import structlog

from bot.consumer import CONFIG_NAME, ConsumerConfig, TemplateVersion, dump_consumer_config
from bot.errors import EvobotError, MergeError, TemplateSourceError
from bot.evolution.merge import (
    DEFAULT_MEMO_BYTES,
    ByteLRU,
    FileOutcome,
    FileStatus,
    MergeMemo,
    merge_trees,
)
from bot.evolution.migrations import MigrationPlan, plan_migrations
from bot.template import ResolvedTemplate, open_template, render_template, resolve_answers
from bot.tree import File, Tree, refuse_git_dir

__all__ = ["Evolution", "SharedWork", "evolve_consumer"]

log = structlog.get_logger(__name__)

# Per-file bookkeeping (path string, File, dict slot) counted against the render bound.
_FILE_OVERHEAD = 200


def _tree_bytes(tree: Tree) -> int:
    return sum(len(p) + len(f.data) + _FILE_OVERHEAD for p, f in tree.items())


def _render_key(template: ResolvedTemplate, answers: Mapping[str, Any]) -> str | None:
    """A digest of everything a render reads, or None when the answers are not plain data.

    A git template's files are fixed by its commit and subdirectory; a plain directory's only
    while it is not edited, so its path joins its content digest in the key.
    """
    try:
        data = json.dumps(
            {
                "source": template.source,
                "subdir": template.subdir,
                "root": None if template.is_git else str(template.root),
                "ref": template.ref,
                "commit": template.commit,
                "is_git": template.is_git,
                "describe": template.describe,
                "manifest": template.manifest.model_dump(mode="json"),
                "answers": dict(answers),
            },
            sort_keys=True,
            allow_nan=False,
        )
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(data.encode()).hexdigest()


@dataclass
class SharedWork:
    """Renders and merges one run over many consumers computes once and reuses.

    Keyed by digests of their inputs and bounded in memory (least recently used dropped
    first), so a result is only ever reused where it is the very same computation. Make one
    per run and let it go afterwards: a long-lived process must not keep it (a plain-directory
    template may change), and forked workers each hold their own copy.
    """

    merges: MergeMemo = field(default_factory=MergeMemo)
    max_render_bytes: int = DEFAULT_MEMO_BYTES
    render_runs: int = 0
    render_reused: int = 0
    _renders: ByteLRU[Tree] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._renders = ByteLRU(self.max_render_bytes, _tree_bytes)

    def render(self, template: ResolvedTemplate, answers: Mapping[str, Any]) -> Tree:
        """``render_template(template, answers)``, computed once for equal inputs."""
        key = _render_key(template, answers)
        if key is not None:
            known = self._renders.get(key)
            if known is not None:
                self.render_reused += 1
                return dict(known)
        tree = render_template(template, answers)
        self.render_runs += 1
        if key is not None:
            self._renders.put(key, dict(tree))
        return tree

    def counts(self) -> dict[str, int]:
        """How much was computed and how much reused so far (for reports)."""
        return {
            "renders_run": self.render_runs,
            "renders_reused": self.render_reused,
            "merges_run": self.merges.runs,
            "merges_reused": self.merges.reused,
        }


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
    shared: SharedWork | None = None,
) -> Evolution:
    """Evolve the consumer tree ``ours`` (with its ``config``) to ``vcs_ref`` (default newest).

    The result holds the consumer's complete tree afterwards, `.evobot.yml` updated with the new
    version and answers. When the target is the recorded commit nothing changes. ``shared``
    (one run over a fleet) reuses renders and merges other consumers of the run computed.
    """
    current = dict(ours)

    def render(template: ResolvedTemplate, answers: Mapping[str, Any]) -> Tree:
        if shared is None:
            return render_template(template, answers)
        return shared.render(template, answers)

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
            rendered = render(target, _answers(target, config.answers, "recorded"))
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
            base_tree = render(base, _answers(base, config.answers, "recorded"))
            from_ref = config.version.ref or base.ref
        plan = plan_migrations(target.manifest.migrations, from_ref, target.ref, config.answers)
        new_answers = _answers(target, plan.answers, "target")
        new_tree = render(target, new_answers)

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
        memo=shared.merges if shared is not None else None,
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
