"""What every render shares, whatever kind of template: the walk over the template's files and
the checks on the paths it renders (confined names, no file/directory clash, no two paths that
are one on macOS or Windows) and on the answers (plain data)."""

from __future__ import annotations

import json
import os
import stat
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from bot.errors import RenderError
from bot.globs import matches_any
from bot.tree import Tree

__all__ = [
    "JINJA_SUFFIX",
    "Entry",
    "answers_json",
    "check_no_case_collision",
    "check_no_file_dir_clash",
    "check_part",
    "has_jinja",
    "inside",
    "walk_template",
]

JINJA_SUFFIX = ".jinja"


@dataclass(frozen=True)
class Entry:
    """One template file: its path under files_dir, its location on disk, its mode."""

    rel: str
    path: Path
    executable: bool

    @property
    def is_jinja(self) -> bool:
        return self.rel.endswith(JINJA_SUFFIX)


def has_jinja(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def walk_template(template_root: Path, files_root: Path, exclude: list[str]) -> Iterator[Entry]:
    real_root = os.path.realpath(template_root)
    label = files_root.relative_to(template_root).as_posix()

    def walk(
        directory: Path, rel_parts: tuple[str, ...], visited: frozenset[str]
    ) -> Iterator[Entry]:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            parts = (*rel_parts, entry.name)
            rel = "/".join(parts)
            if matches_any(exclude, rel):
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                target = os.path.realpath(path)
                if not inside(target, real_root):
                    raise RenderError(
                        f"{label}/{rel}: symlink points outside the template; refusing to follow it"
                    )
                if not Path(target).exists():
                    raise RenderError(f"{label}/{rel}: broken symlink")
            if entry.is_dir():
                real = os.path.realpath(path)
                if real in visited:
                    raise RenderError(f"{label}/{rel}: symlink loop")
                yield from walk(path, parts, visited | {real})
            elif entry.is_file():
                mode = path.stat().st_mode
                yield Entry(rel, path, bool(mode & stat.S_IXUSR))

    yield from walk(files_root, (), frozenset({os.path.realpath(files_root)}))


def check_part(part: str, source: str) -> None:
    if "/" in part or "\\" in part or "\0" in part:
        raise RenderError(
            f"{source}: a name renders to {part!r}, which contains a path separator or NUL"
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in part):
        raise RenderError(
            f"{source}: a name renders to {part!r}, which contains a control character"
        )
    if part in ("..", ".") or PurePosixPath(part).is_absolute():
        raise RenderError(f"{source}: a name renders to {part!r}, which would leave its directory")


def answers_json(answers: Mapping[str, Any]) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(json.dumps(dict(answers), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise RenderError(
            f"answers must be plain data (str, numbers, bools, lists): {exc}"
        ) from None
    return data


def check_no_file_dir_clash(tree: Tree) -> None:
    dirs = {"/".join(p.split("/")[:n]) for p in tree for n in range(1, p.count("/") + 1)}
    clash = sorted(dirs & tree.keys())
    if clash:
        raise RenderError(f"{clash[0]}: rendered both as a file and as a directory")


def _fold_char(c: str) -> str:
    # Simple (one-to-one) case folding, as NTFS and APFS compare: `ß` stays apart from `ss`.
    for folded in (c.casefold(), c.lower()):
        if len(folded) == 1:
            return folded
    return c


def _folded(name: str) -> str:
    """``name`` as a case-insensitive, normalisation-insensitive file system compares it."""
    decomposed = unicodedata.normalize("NFD", name)
    return unicodedata.normalize("NFC", "".join(_fold_char(c) for c in decomposed))


def check_no_case_collision(sources: Mapping[str, str]) -> None:
    """Refuse two paths (files or directories) that macOS and Windows would see as one.

    ``sources`` maps each output path to the template file it came from, for the message.
    """
    seen: dict[str, str] = {}
    for out in sorted(sources):
        parts = out.split("/")
        for n in range(1, len(parts) + 1):
            name = "/".join(parts[:n])
            first = seen.setdefault(_folded(name), name)
            if first == name:
                continue
            holder = next(p for p in sorted(sources) if p == first or p.startswith(first + "/"))
            raise RenderError(
                f"{sources[holder]} renders to {holder}, and {sources[out]} to {out}: "
                f"the names {first!r} and {name!r} differ only in letter case or Unicode "
                "normalisation, so they are one path on macOS and Windows checkouts",
                hint="rename one of them, or set `allow_case_collisions: true` in template.yml "
                "if every consumer is checked out on a case-sensitive file system",
            )
