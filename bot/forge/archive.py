"""Turn a repository tarball into a :data:`Tree`, its commit id and its Git tree id.

One tarball request reads a whole repository of any size. Git object ids are deterministic, so
the commit's tree id (needed as ``base_tree`` when writing) is computed from the archive itself
instead of costing another request, whenever the archive is known to be faithful.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import dataclass

from bot.errors import ForgeError
from bot.tree import File, Tree

__all__ = ["Archive", "blob_sha", "read_tarball", "tree_sha"]

# Archives larger than this are refused rather than read into memory.
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Archive:
    commit_sha: str | None
    tree: Tree
    symlinks: dict[str, str]
    tree_sha: str | None


def blob_sha(data: bytes) -> str:
    """Git's blob id of ``data``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _tree_object(entries: list[tuple[str, str, str]]) -> str:
    # Git sorts tree entries by name, comparing a directory as if its name ended with "/".
    def key(entry: tuple[str, str, str]) -> bytes:
        mode, name, _ = entry
        return name.encode() + (b"/" if mode == "40000" else b"")

    body = b"".join(
        mode.encode() + b" " + name.encode() + b"\0" + bytes.fromhex(sha)
        for mode, name, sha in sorted(entries, key=key)
    )
    return hashlib.sha1(b"tree %d\0" % len(body) + body, usedforsecurity=False).hexdigest()


def tree_sha(tree: Tree, symlinks: dict[str, str] | None = None) -> str:
    """The Git tree id of ``tree`` (plus ``symlinks``: path -> target), as ``git write-tree``."""
    leaves: dict[str, tuple[str, str]] = {}
    for path, f in tree.items():
        leaves[path] = (f.mode, blob_sha(f.data))
    for path, target in (symlinks or {}).items():
        leaves[path] = ("120000", blob_sha(target.encode()))

    def build(prefix: str, paths: list[str]) -> str:
        entries: list[tuple[str, str, str]] = []
        subdirs: dict[str, list[str]] = {}
        for rel in paths:
            head, sep, rest = rel.partition("/")
            if sep:
                subdirs.setdefault(head, []).append(rest)
            else:
                mode, sha = leaves[prefix + rel]
                entries.append((mode, rel, sha))
        for name, children in subdirs.items():
            entries.append(("40000", name, build(f"{prefix}{name}/", children)))
        return _tree_object(entries)

    return build("", sorted(leaves))


def read_tarball(data: bytes) -> Archive:
    """Parse a GitHub-style tarball (one top directory, pax ``comment`` = commit id).

    The tree id is left unknown when the archive may differ from the commit: a submodule
    (an empty directory), or ``export-ignore``/``export-subst`` in ``.gitattributes``.
    """
    if len(data) > MAX_ARCHIVE_BYTES:
        raise ForgeError(f"repository archive is larger than {MAX_ARCHIVE_BYTES} bytes")
    tree: Tree = {}
    symlinks: dict[str, str] = {}
    dirs: set[str] = set()
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            members = tar.getmembers()
            commit = tar.pax_headers.get("comment")
            for member in members:
                parts = member.name.split("/", 1)
                if len(parts) < 2 or not parts[1].strip("/"):
                    continue
                rel = parts[1].rstrip("/")
                if ".." in rel.split("/") or rel.startswith("/"):
                    raise ForgeError(f"repository archive holds an unsafe path {rel!r}")
                if member.isdir():
                    dirs.add(rel)
                elif member.issym():
                    symlinks[rel] = member.linkname
                elif member.isfile():
                    handle = tar.extractfile(member)
                    content = handle.read() if handle is not None else b""
                    tree[rel] = File(content, bool(member.mode & 0o100))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ForgeError(f"repository archive is not a readable tarball: {exc}") from None
    faithful = True
    occupied = {p.rsplit("/", i)[0] for p in (*tree, *symlinks) for i in range(p.count("/") + 1)}
    if dirs - occupied:
        faithful = False  # an empty directory is a submodule; its commit id is not archived
    attributes = [f.data for p, f in tree.items() if p.rsplit("/", 1)[-1] == ".gitattributes"]
    if any(b"export-ignore" in a or b"export-subst" in a for a in attributes):
        faithful = False
    sha = tree_sha(tree, symlinks) if faithful and commit else None
    if commit is not None and (len(commit) not in (40, 64) or not _is_hex(commit)):
        commit = None
        sha = None
    return Archive(commit_sha=commit, tree=tree, symlinks=symlinks, tree_sha=sha)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text.lower())
