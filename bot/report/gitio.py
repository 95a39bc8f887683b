"""Reading a consumer's trees from git for reports: a commit's tree, the work tree, evolutions.

The only module of `bot.report` that runs git (through `bot.git`). The work tree is what git would
commit (tracked plus untracked files that are not ignored), so virtualenvs and caches never count
as churn.
"""

from __future__ import annotations

import stat
from pathlib import Path

from bot.consumer import CONFIG_NAME
from bot.git import Git, GitError
from bot.tree import File, Tree, read_tree

__all__ = [
    "GitReadError",
    "evolution_commits",
    "is_git_checkout",
    "parent_of",
    "resolve",
    "tree_at",
    "work_tree",
]

_TIMEOUT_S = 300


class GitReadError(GitError):
    """git could not answer a question about a consumer checkout."""


def _git(root: Path, *args: str, input_data: bytes | None = None) -> bytes:
    git = Git(root, where=str(root), error=GitReadError, timeout=_TIMEOUT_S)
    return git.out(*args, input=input_data)


def is_git_checkout(root: Path) -> bool:
    try:
        out = _git(root, "rev-parse", "--is-inside-work-tree")
    except GitReadError:
        return False
    return out.strip() == b"true"


def _read_blobs(root: Path, shas: list[str]) -> list[bytes]:
    """The contents of ``shas`` through one `git cat-file --batch`."""
    if not shas:
        return []
    out = _git(root, "cat-file", "--batch", input_data=("\n".join(shas) + "\n").encode())
    blobs: list[bytes] = []
    pos = 0
    for sha in shas:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        if len(header) != 3 or header[1] != b"blob":
            raise GitReadError(f"{root}: object {sha} is not a blob")
        size = int(header[2])
        start = header_end + 1
        blobs.append(out[start : start + size])
        pos = start + size + 1
    return blobs


def tree_at(root: Path, ref: str | None) -> Tree:
    """Every regular file of commit ``ref`` (None: the empty tree, before the first commit)."""
    if ref is None:
        return {}
    # Relative to `root`, so a consumer in a subdirectory of a monorepo reads as its own tree.
    listing = _git(root, "ls-tree", "-r", "-z", ref)
    entries: list[tuple[str, bool, str]] = []
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, path = record.split(b"\t", 1)
        mode, kind, sha = meta.split()
        # Symlinks (120000) and submodules (160000) are not file content; leave them out.
        if kind != b"blob" or mode not in (b"100644", b"100755"):
            continue
        entries.append((path.decode("utf-8", "surrogateescape"), mode == b"100755", sha.decode()))
    blobs = _read_blobs(root, [sha for _, _, sha in entries])
    return {
        path: File(data, executable)
        for (path, executable, _), data in zip(entries, blobs, strict=True)
    }


def work_tree(root: Path) -> Tree:
    """The files git would see in ``root``: tracked and untracked-but-not-ignored.

    Outside a git checkout, every file under ``root`` except `.git`.
    """
    if not is_git_checkout(root):
        return read_tree(root)
    listing = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    tree: Tree = {}
    for raw in sorted(set(listing.split(b"\0"))):
        if not raw:
            continue
        rel = raw.decode("utf-8", "surrogateescape")
        path = root / rel
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue  # deleted in the work tree, not yet staged
        if not stat.S_ISREG(st.st_mode):
            continue
        tree[rel] = File(path.read_bytes(), bool(st.st_mode & stat.S_IXUSR))
    return tree


def evolution_commits(root: Path, count: int = 2, *, until: str | None = None) -> list[str]:
    """The newest ``count`` commits that changed `.evobot.yml`, the last evolutions first;
    with ``until`` (a commit id), only ``until`` and its ancestors."""
    start = [] if until is None else [resolve(root, until)]
    out = _git(root, "log", f"-{count}", "--format=%H", *start, "--", CONFIG_NAME)
    return out.decode().split()


def parent_of(root: Path, commit: str) -> str | None:
    """``commit``'s first parent, or None for a root commit."""
    out = _git(root, "rev-list", "--parents", "-n", "1", commit).decode().split()
    return out[1] if len(out) > 1 else None


def resolve(root: Path, ref: str) -> str:
    """The commit id ``ref`` names in ``root``."""
    if ref.startswith("-"):
        raise GitReadError(f"{ref!r} is not a git revision")
    try:
        out = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitReadError:
        raise GitReadError(f"{root}: {ref!r} names no commit") from None
    return out.decode().strip()
