"""In-memory file trees: the data every part of evobot passes around.

A tree maps POSIX relative paths (``"src/app/main.py"``, never ``./`` or ``..``) to
:class:`File` values. Rendering produces trees, evolution merges them, checks and reports read
them, and the forge adapter turns them into Git trees. Only :func:`read_tree`,
:func:`read_regular_file` and :func:`write_tree` touch the disk.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import NoReturn

from bot.errors import EvobotError, ReadError, RenderError, WriteError

__all__ = [
    "File",
    "NotRegularFileError",
    "Tree",
    "digest",
    "file_kind",
    "git_dir_rule",
    "is_binary",
    "raise_read_error",
    "read_regular_file",
    "read_tree",
    "refuse_git_dir",
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


# Code points HFS+ ignores in names, so `.g\u200cit` is `.git` on a Mac (git's utf8.c).
_HFS_IGNORED = frozenset(
    "\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u206a\u206b\u206c\u206d\u206e\u206f\ufeff"
)


def _ascii_lower(text: str) -> str | None:
    """``text`` in lower case when it is ASCII (git folds only ASCII letters), else None."""
    return text.lower() if text.isascii() else None


def _ntfs_dotgit(name: str) -> str | None:
    """git's ``is_ntfs_dotgit``: `.git` or its 8.3 short name `git~1`, in any letter case,
    then nothing but dots and spaces (which NTFS drops) up to the end or a `:stream`."""
    for stem in (".git", "git~1"):
        if _ascii_lower(name[: len(stem)]) != stem:
            continue
        rest, colon, _stream = name[len(stem) :].partition(":")
        if rest.strip(". "):
            continue
        if stem == "git~1":
            return "git~1 is the NTFS 8.3 short name of .git"
        if rest or colon:
            return "trailing dots, spaces or an NTFS alternate stream leave .git on Windows"
        return ".git in any letter case"
    return None


def _hfs_dotgit(name: str) -> bool:
    """git's ``is_hfs_dotgit``: `.git` in any letter case once HFS+'s ignored code points go."""
    return _ascii_lower("".join(c for c in name if c not in _HFS_IGNORED)) == ".git"


def git_dir_rule(path: str) -> str | None:
    """Why git would treat a component of ``path`` as its own `.git` directory, or None.

    The rules of git's ``verify_path`` with ``core.protectNTFS`` and ``core.protectHFS`` on (as
    git applies them on every platform when it checks out or adds a path): a component that is
    `.git` in any letter case; `.git` followed by dots, spaces or an NTFS alternate data stream
    (`.git.`, `.git `, `.git::$INDEX_ALLOCATION`); the 8.3 short name `git~1` likewise; and
    `.git` with HFS+-ignored code points inside (`.g\u200cit`). Components are split on `/` and
    on `\\` (a separator on Windows). The answer is a phrase naming the component and the rule.
    Symbolic links, which git also refuses as `.gitmodules`, never occur: trees hold files only.
    """
    for component in path.replace("\\", "/").split("/"):
        rule = _ntfs_dotgit(component)
        if rule is None and _hfs_dotgit(component):
            rule = "HFS+ ignores the invisible code points in it, leaving .git"
        if rule is not None:
            return f"component {component!r} is git's own directory ({rule})"
    return None


def refuse_git_dir(
    path: str, *, source: str | None = None, error: type[EvobotError] = RenderError
) -> None:
    """Raise ``error`` when ``path`` would put a file into git's own directory.

    ``source`` names where the path came from (a template file, a config key); the message
    names the path and the rule, so a person sees what was refused and why.
    """
    rule = git_dir_rule(path)
    if rule is not None:
        where = f"{source}: " if source else ""
        raise error(
            f"{where}refusing the path {path!r}: {rule}; "
            "writing there would change the repository's git configuration or hooks"
        )


def file_kind(mode: int) -> str:
    """What a ``st_mode`` is, in words, for messages (``"a FIFO"``, ``"a directory"``)."""
    for test, name in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISLNK, "a symlink"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


class NotRegularFileError(Exception):
    """Raised by :func:`read_regular_file`; ``kind`` says what the path is instead."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(f"{path}: is {kind}")
        self.path = path
        self.kind = kind


def read_regular_file(path: Path) -> tuple[bytes, bool]:
    """The bytes of ``path`` and whether it is executable, only if it is a regular file itself.

    Never follows a symlink (not even the last component) and never blocks on a FIFO or device:
    anything but a regular file raises :class:`NotRegularFileError` naming what it is, and
    nothing of a link's target is read or reported. A missing file raises FileNotFoundError.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            raise NotRegularFileError(path, "a symlink") from None
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO nobody writes to
            raise NotRegularFileError(path, file_kind(os.lstat(path).st_mode)) from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFileError(path, file_kind(st.st_mode))
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        return handle.read(), bool(st.st_mode & stat.S_IXUSR)


def read_tree(root: Path, *, exclude_dirs: Iterable[str] = (".git",)) -> Tree:
    """Read every file under ``root`` as the regular file it is.

    A symlink is read as the file it points to only when that file is a regular file inside
    ``root``; one pointing outside is refused and a dangling one skipped. A FIFO, socket or
    device is refused by name (reading it could block forever). Raises
    :class:`~bot.errors.RenderError`.
    """
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
            source = full
            if full.is_symlink():
                target = full.resolve()
                if not target.is_relative_to(root):
                    raise RenderError(f"{rel}: symlink points outside the tree, to {target}")
                if not target.exists():
                    continue  # dangling: there is no content to read
                if target.is_dir():
                    continue
                source = target
            try:
                data, executable = read_regular_file(source)
            except NotRegularFileError as exc:
                shown = rel if source == full else f"{rel} (through a symlink)"
                raise RenderError(
                    f"{root / rel}: is {exc.kind}; only regular files and symlinks are read",
                    hint=f"remove {shown} or move it out of {root}",
                ) from None
            except OSError as exc:
                raise_read_error(exc)
            tree[rel] = File(data, executable)
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
    path that would escape, or land in git's own directory: see :func:`git_dir_rule`).
    """
    root = root.absolute()
    if root.exists() and not root.is_dir():
        raise WriteError(f"{root}: exists and is not a directory")
    root = root.resolve()
    targets: list[tuple[str, Path, File]] = []
    for rel, f in sorted(tree.items()):
        targets.append((rel, _confined(root, rel), f))
    removals: list[tuple[str, Path]] = []
    for rel in delete:
        removals.append((rel, _confined(root, rel)))
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


def _confined(root: Path, rel: str) -> Path:
    """Where ``rel`` lands under ``root``: inside it, and never in git's own directory.

    Checked on the path as given and on where it resolves, so a symlinked directory in the
    work tree cannot lead a write into `.git/` either.
    """
    refuse_git_dir(rel)
    try:
        os.fsencode(rel)
    except UnicodeEncodeError as exc:
        raise RenderError(f"{rel!r}: cannot be a file name here: {exc.reason}") from None
    dest = (root / safe_relpath(rel)).resolve()
    if not dest.is_relative_to(root):
        raise RenderError(f"{rel}: resolves outside {root}")
    refuse_git_dir(dest.relative_to(root).as_posix(), source=f"{rel} (through a symlink)")
    return dest


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
