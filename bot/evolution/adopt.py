"""An evolution recorded in the consumer's own format: copier's or cruft's answers file
regenerated (never merged, as those tools do) and no `.evobot.yml`. `evobot update` and the
pipeline's `evolve_pr` both write a copier or cruft consumer this way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.consumer import CONFIG_NAME
from bot.consumer_formats import FoundConfig, adopted_tree
from bot.evolution.evolve import Evolution
from bot.evolution.merge import FileOutcome, FileStatus
from bot.tree import File

__all__ = ["in_own_format"]


def in_own_format(
    evolution: Evolution, found: FoundConfig, ours: Mapping[str, File], vcs_ref: str | None
) -> Evolution:
    """``evolution`` with the consumer's settings kept in ``found``'s format.

    An evobot consumer's evolution is returned as it is. Otherwise, unless the version stays,
    the tree loses `.evobot.yml` and gets the regenerated answers file and the changed paths
    are recomputed against ``ours``; the answers file is never listed as a conflict, and the
    file outcomes say it was regenerated.
    """
    if found.format == "evobot":
        return evolution
    if evolution.to_version.commit == evolution.from_version.commit:
        tree, changed = evolution.tree, evolution.changed_paths
    else:
        tree = adopted_tree(
            found,
            evolution.tree,
            evolution.new_tree,
            commit=evolution.to_version.commit,
            describe=evolution.template.describe,
            checkout=vcs_ref,
            answers=evolution.config.answers,
        )
        changed = tuple(sorted(p for p, f in tree.items() if ours.get(p) != f))
    files = [o for o in evolution.files if o.path not in (CONFIG_NAME, found.path)]
    if found.path in changed:
        version = evolution.to_version.ref or evolution.to_version.commit[:12]
        files.append(
            FileOutcome(
                found.path,
                FileStatus.UPDATED,
                f"regenerated for {version} (never merged, as {found.format} does)",
            )
        )
    return replace(
        evolution,
        tree=tree,
        changed_paths=changed,
        conflicts=tuple(c for c in evolution.conflicts if c != found.path),
        files=tuple(sorted(files, key=lambda o: o.path)),
    )
