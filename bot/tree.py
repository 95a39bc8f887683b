"""In-memory file trees: the data every part of evobot passes around.

A tree maps POSIX relative paths (``"src/app/main.py"``, never ``./`` or ``..``) to
:class:`File` values. Rendering produces trees, evolution merges them, checks and reports read
them, and the forge adapter turns them into Git trees. Only :func:`read_tree` and
:func:`write_tree` touch the disk.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import NoReturn

from bot.errors import ReadError, RenderError, WriteError

__all__ = [
    "File",
    "Tree",
    "digest",
    "is_binary",
    "raise_read_error",
    "read_tree",
    "safe_relpath",
    "write_tree",
]


@dataclass(frozen=True, slots=True)
class File:
    """One file's bytes and whether it is executable (the only mode bit Git keeps)."""

    data: bytes
    executable: bool = False

    @property
    def mode(self) -> str:
        """The Git file mode string (``100755`` or ``100644``)."""
        return "100755" if self.executable else "100644"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


Tree = dict[str, File]


def digest(tree: Mapping[str, File]) -> str:
    """A sha256 over every path, mode and content of ``tree``, independent of insertion order."""
    h = hashlib.sha256()
    for path in sorted(tree):
        f = tree[path]
        h.update(path.encode())
        h.update(b"\0" + f.mode.encode() + b"\0")
        h.update(f.sha256.encode())
        h.update(b"\n")
    return h.hexdigest()


def is_binary(data: bytes) -> bool:
    """Git's own heuristic: a NUL byte in the first 8000 bytes makes a file binary."""
    return b"\0" in data[:8000]


def safe_relpath(path: str) -> str:
    """Normalise ``path`` to a POSIX relative path, refusing anything that could escape a root."""
    if not path or "\0" in path or "\\" in path:
        raise RenderError(f"unsafe path {path!r}: empty, or contains NUL or a backslash")
    pure = PurePosixPath(path)
    if pure.is_absolute() or any(part in ("..", "") for part in pure.parts):
        raise RenderError(f"unsafe path {path!r}: absolute or climbs out with '..'")
    parts = [p for p in pure.parts if p != "."]
    if not parts:
        raise RenderError(f"unsafe path {path!r}: names no file")
    return "/".join(parts)


def read_tree(root: Path, *, exclude_dirs: Iterable[str] = (".git",)) -> Tree:
    """Read every regular file under ``root``; symlinks that leave ``root`` are refused."""
    excluded = set(exclude_dirs)
    root = root.resolve()
    tree: Tree = {}
    # os.walk skips a directory it cannot list unless told otherwise: a silently missing
    # subtree would be rendered, evolved or deleted as if it did not exist.
    for dirpath, dirnames, filenames in os.walk(root, onerror=raise_read_error):
        dirnames[:] = sorted(d for d in dirnames if d not in excluded)
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                target = full.resolve()
                if not target.is_relative_to(root):
                    raise RenderError(f"{rel}: symlink points outside the tree, to {target}")
            try:
                st = full.stat()
                if not stat.S_ISREG(st.st_mode):
                    continue
                tree[rel] = File(full.read_bytes(), bool(st.st_mode & stat.S_IXUSR))
            except OSError as exc:
                raise_read_error(exc)
    return tree


def raise_read_error(exc: OSError) -> NoReturn:
    """Raise ``exc`` (a failed read or directory listing) as a ReadError naming its path."""
    where = exc.filename if exc.filename is not None else "(unknown path)"
    raise ReadError(f"{where}: cannot read: {exc.strerror or exc}") from None


def write_tree(root: Path, tree: Mapping[str, File], *, delete: Iterable[str] = ()) -> None:
    """Write ``tree`` under ``root`` (creating directories) and remove the ``delete`` paths.

    All or nothing: every path is checked to resolve inside ``root`` and to be free for a file
    (no directory in its place, no file where a directory must go), and every file is staged
    next to its destination, before any existing file changes; a failure leaves ``root`` as it
    was and raises :class:`~bot.errors.WriteError` (or :class:`~bot.errors.RenderError` for a
    path that would escape).
    """
    root = root.absolute()
    if root.exists() and not root.is_dir():
        raise WriteError(f"{root}: exists and is not a directory")
    root = root.resolve()
    targets: list[tuple[str, Path, File]] = []
    for rel, f in sorted(tree.items()):
        dest = (root / safe_relpath(rel)).resolve()
        if not dest.is_relative_to(root):
            raise RenderError(f"{rel}: resolves outside {root}")
        targets.append((rel, dest, f))
    removals: list[tuple[str, Path]] = []
    for rel in delete:
        dest = (root / safe_relpath(rel)).resolve()
        if not dest.is_relative_to(root):
            raise RenderError(f"{rel}: resolves outside {root}")
        removals.append((rel, dest))
    _refuse_occupied(root, targets, removals)
    created: list[Path] = []
    staged: list[tuple[Path, Path]] = []
    where = root
    try:
        for _rel, dest, f in targets:
            where = dest
            _make_dirs(dest.parent, created)
            tmp = dest.with_name(f".{dest.name}.evobot-tmp")
            staged.append((tmp, dest))
            tmp.write_bytes(f.data)
            tmp.chmod(0o755 if f.executable else 0o644)
    except OSError as exc:
        _discard(staged, created)
        failed = Path(exc.filename) if isinstance(exc.filename, str) else where
        if failed.name.endswith(".evobot-tmp"):
            failed = where
        raise WriteError(
            f"{failed}: cannot write: {exc.strerror or exc}; nothing under {root} was changed"
        ) from None
    for tmp, dest in staged:
        tmp.replace(dest)  # a rename within one directory: it replaces a symlink, too
    for _rel, dest in removals:
        if dest.exists() or dest.is_symlink():
            dest.unlink()
            parent = dest.parent
            while parent != root and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent


def _refuse_occupied(
    root: Path, targets: list[tuple[str, Path, File]], removals: list[tuple[str, Path]]
) -> None:
    """Refuse, before anything is written, paths whose place is taken by the wrong kind."""
    checked: set[Path] = set()
    for above in (root, *root.parents):
        checked.add(above)
        if above.is_dir():
            break
        if above.exists():
            raise WriteError(f"{above}: is a file, so the directory {root} cannot be created")
    for rel, dest, _f in targets:
        if dest.is_dir():
            raise WriteError(f"{dest}: is a directory, so {rel} cannot be written there")
        parent = dest.parent
        while parent not in checked and parent != parent.parent:
            checked.add(parent)
            if parent.is_dir():
                break
            if parent.exists() or parent.is_symlink():
                raise WriteError(
                    f"{parent}: is a file, but {rel} needs it to be a directory",
                    hint="move or delete it, then run the command again",
                )
            parent = parent.parent
    for rel, dest in removals:
        if dest.is_dir() and not dest.is_symlink():
            raise WriteError(f"{dest}: is a directory, so {rel} cannot be deleted as a file")


def _make_dirs(directory: Path, made: list[Path]) -> None:
    """Create ``directory`` and its missing parents, appending each one made to ``made``."""
    missing: list[Path] = []
    while not directory.is_dir():
        missing.append(directory)
        directory = directory.parent
    for d in reversed(missing):
        d.mkdir()
        made.append(d)


def _discard(staged: list[tuple[Path, Path]], created: list[Path]) -> None:
    """Undo a failed write: remove the staged files, then the directories made for them."""
    for tmp, _dest in staged:
        tmp.unlink(missing_ok=True)
    for d in reversed(created):
        # Only directories this write made, and only while empty: never anyone else's files.
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()
