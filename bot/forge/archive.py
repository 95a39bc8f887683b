"""Turn a repository tarball into a :data:`Tree`, its commit id and its Git tree id.

One tarball request reads a whole repository of any size. Git object ids are deterministic, so
the commit's tree id (needed as ``base_tree`` when writing) is computed from the archive itself
instead of costing another request, whenever the archive is known to be faithful.

The archive comes from the network, so it is read as a stream under :class:`ArchiveLimits`:
compressed bytes, uncompressed bytes, entries and the size of one file are counted while the
body arrives, and a member's size is checked from its header before any of it is read. Only
regular files, directories and symlinks are accepted; a symlink is recorded as a link (its
target text), never followed.
"""

from __future__ import annotations

import hashlib
import tarfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from bot.errors import ForgeError
from bot.tree import File, Tree

__all__ = ["ARCHIVE_LIMIT_ENV", "Archive", "ArchiveLimits", "blob_sha", "read_tarball", "tree_sha"]

_MiB = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_STEP = 256 * 1024  # decompressed bytes produced per step: memory stays bounded by limits

# Environment variables that set each limit (read by the CLI, never at import time).
ARCHIVE_LIMIT_ENV = {
    "max_compressed_bytes": "EVOBOT_ARCHIVE_MAX_COMPRESSED_BYTES",
    "max_total_bytes": "EVOBOT_ARCHIVE_MAX_BYTES",
    "max_file_bytes": "EVOBOT_ARCHIVE_MAX_FILE_BYTES",
    "max_files": "EVOBOT_ARCHIVE_MAX_FILES",
}


@dataclass(frozen=True)
class ArchiveLimits:
    """How much of a repository archive evobot reads before refusing it.

    ``max_total_bytes`` counts the whole uncompressed tar stream (headers included), so it also
    bounds the memory one archive can take.
    """

    max_compressed_bytes: int = 512 * _MiB
    max_total_bytes: int = 1024 * _MiB
    max_file_bytes: int = 100 * _MiB  # GitHub refuses pushes of larger files
    max_files: int = 100_000

    def __post_init__(self) -> None:
        for name in ARCHIVE_LIMIT_ENV:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ForgeError(f"archive limit {name} must be a positive integer, got {value!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ArchiveLimits:
        """The limits, with each one set in ``env`` (see ``ARCHIVE_LIMIT_ENV``) overriding."""
        values: dict[str, int] = {}
        for name, var in ARCHIVE_LIMIT_ENV.items():
            text = env.get(var, "").strip()
            if not text:
                continue
            try:
                values[name] = int(text.replace("_", ""))
            except ValueError:
                raise ForgeError(f"{var}={text!r}: expected a whole number of bytes") from None
            if values[name] < 1:
                raise ForgeError(f"{var}={text!r}: must be at least 1")
        return cls(**values)


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


class _Stream:
    """A file-like view of the archive body that inflates gzip itself and counts every byte.

    ``tarfile`` reads the uncompressed tar stream from here (mode ``r|``), so neither the body
    nor its content is ever held whole: the compressed and the uncompressed byte counts are
    checked as they grow.
    """

    def __init__(self, chunks: Iterable[bytes], limits: ArchiveLimits) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._limits = limits
        self._raw = b""  # compressed bytes not yet inflated
        self._out = bytearray()  # uncompressed bytes not yet read by tarfile
        self._compressed = 0
        self._total = 0
        self._gzip: bool | None = None  # decided by the first two bytes
        self._inflater = zlib.decompressobj(wbits=31)
        self._ended = False
        self.source_error: BaseException | None = None

    def _next_raw(self) -> bool:
        """Append the next body chunk to ``_raw``; False once the body has ended."""
        if self._ended:
            return False
        try:
            chunk = next(self._chunks, None)
        except BaseException as exc:  # a network error: the caller retries, it is no bad data
            self.source_error = exc
            raise
        if chunk is None:
            self._ended = True
            return False
        self._compressed += len(chunk)
        if self._compressed > self._limits.max_compressed_bytes:
            raise ForgeError(
                f"repository archive is larger than {self._limits.max_compressed_bytes} bytes "
                f"compressed (the limit, {ARCHIVE_LIMIT_ENV['max_compressed_bytes']})"
            )
        self._raw += chunk
        return True

    def _emit(self, data: bytes) -> None:
        self._total += len(data)
        if self._total > self._limits.max_total_bytes:
            raise ForgeError(
                f"repository archive unpacks to more than {self._limits.max_total_bytes} bytes "
                f"(the limit, {ARCHIVE_LIMIT_ENV['max_total_bytes']})"
            )
        self._out += data

    def _fill(self) -> bool:
        """Produce more uncompressed bytes; False at the end of the archive."""
        if self._gzip is None:
            while len(self._raw) < 2 and self._next_raw():
                pass
            self._gzip = self._raw.startswith(_GZIP_MAGIC)
        if not self._gzip:
            if not self._raw and not self._next_raw():
                return False
            data, self._raw = self._raw[:_STEP], self._raw[_STEP:]
            self._emit(data)
            return True
        while True:
            if self._inflater.eof:
                rest = self._inflater.unused_data + self._raw
                if not rest and not self._next_raw():
                    return False
                # Concatenated gzip members are one stream (gzip(1) reads them so).
                self._inflater = zlib.decompressobj(wbits=31)
                self._raw = rest or self._raw
            if not self._raw and not self._inflater.unconsumed_tail and not self._next_raw():
                raise ForgeError("repository archive ends early: the gzip stream is cut short")
            source = self._inflater.unconsumed_tail or self._raw
            if not self._inflater.unconsumed_tail:
                self._raw = b""
            data = self._inflater.decompress(source, _STEP)
            if data:
                self._emit(data)
                return True

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._out) < size) and self._fill():
            pass
        if size < 0:
            size = len(self._out)
        data = bytes(self._out[:size])
        del self._out[:size]
        return data


_REFUSED_KINDS = {
    tarfile.LNKTYPE: "a hard link",
    tarfile.CHRTYPE: "a character device",
    tarfile.BLKTYPE: "a block device",
    tarfile.FIFOTYPE: "a FIFO",
}


def _member_path(name: str) -> str | None:
    """The path of a member below the archive's top directory (None for the top itself)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ForgeError(f"repository archive holds a path that is not UTF-8: {name!r}") from None
    if name.startswith("/") or ".." in name.split("/"):
        raise ForgeError(f"repository archive holds an unsafe path {name!r}")
    parts = name.split("/", 1)
    if len(parts) < 2 or not parts[1].strip("/"):
        return None
    rel = parts[1].rstrip("/")
    pieces = rel.split("/")
    if any(p in ("", ".") for p in pieces) or any(ord(c) < 0x20 for c in rel):
        raise ForgeError(f"repository archive holds an unsafe path {name!r}")
    if any(p.lower() == ".git" for p in pieces):
        raise ForgeError(f"repository archive holds a path inside a .git directory: {name!r}")
    return rel


def read_tarball(data: bytes | Iterable[bytes], limits: ArchiveLimits | None = None) -> Archive:
    """Parse a GitHub-style tarball (one top directory, pax ``comment`` = commit id).

    ``data`` is the whole body or its chunks as they arrive (gzip-compressed or plain tar).
    Raises :class:`~bot.errors.ForgeError` naming the limit or the member at fault. The tree id
    is left unknown when the archive may differ from the commit: a submodule (an empty
    directory), or ``export-ignore``/``export-subst`` in ``.gitattributes``.
    """
    limits = limits or ArchiveLimits()
    stream = _Stream([data] if isinstance(data, bytes | bytearray) else data, limits)
    tree: Tree = {}
    symlinks: dict[str, str] = {}
    dirs: set[str] = set()
    file_bytes = 0
    count = 0
    try:
        # Stream mode only ever calls read(); the stub's protocol also lists seek/write.
        with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
            for member in tar:
                count += 1
                if count > limits.max_files:
                    raise ForgeError(
                        f"repository archive holds more than {limits.max_files} entries "
                        f"(the limit, {ARCHIVE_LIMIT_ENV['max_files']})"
                    )
                rel = _member_path(member.name)
                if rel is None:
                    continue
                if rel in tree or rel in symlinks or rel in dirs:
                    raise ForgeError(f"repository archive holds {rel!r} more than once")
                if member.isdir():
                    dirs.add(rel)
                elif member.issym():
                    target = member.linkname
                    if not target or "\0" in target or not _is_utf8(target):
                        raise ForgeError(f"repository archive holds a bad symlink at {rel!r}")
                    symlinks[rel] = target  # recorded as a link, never followed
                elif member.isreg():
                    if member.size > limits.max_file_bytes:
                        raise ForgeError(
                            f"repository archive holds {rel!r} of {member.size} bytes, more than"
                            f" {limits.max_file_bytes} (the limit, "
                            f"{ARCHIVE_LIMIT_ENV['max_file_bytes']})"
                        )
                    file_bytes += member.size
                    if file_bytes > limits.max_total_bytes:
                        raise ForgeError(
                            f"repository archive unpacks to more than {limits.max_total_bytes} "
                            f"bytes (the limit, {ARCHIVE_LIMIT_ENV['max_total_bytes']})"
                        )
                    handle = tar.extractfile(member)
                    content = handle.read() if handle is not None else b""
                    tree[rel] = File(content, bool(member.mode & 0o100))
                else:
                    kind = _REFUSED_KINDS.get(member.type, "neither a file, a directory nor a link")
                    raise ForgeError(f"repository archive holds {rel!r}, which is {kind}")
            commit = tar.pax_headers.get("comment")
    except ForgeError:
        raise
    except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError, UnicodeError) as exc:
        if exc is stream.source_error:
            raise
        raise ForgeError(f"repository archive is not a readable tarball: {exc}") from None
    _refuse_clashes([*tree, *symlinks], dirs)
    faithful = True
    occupied = {p.rsplit("/", i)[0] for p in (*tree, *symlinks) for i in range(p.count("/") + 1)}
    if dirs - occupied:
        faithful = False  # an empty directory is a submodule; its commit id is not archived
    attributes = [f.data for p, f in tree.items() if p.rsplit("/", 1)[-1] == ".gitattributes"]
    if any(b"export-ignore" in a or b"export-subst" in a for a in attributes):
        faithful = False
    if commit is not None and (len(commit) not in (40, 64) or not _is_hex(commit)):
        commit = None
    sha = tree_sha(tree, symlinks) if faithful and commit else None
    return Archive(commit_sha=commit, tree=tree, symlinks=symlinks, tree_sha=sha)


def _refuse_clashes(leaves: list[str], dirs: set[str]) -> None:
    """Refuse an archive where one path is both a file (or link) and a directory."""
    parents = {p.rsplit("/", i)[0] for p in leaves for i in range(1, p.count("/") + 1)}
    for path in sorted(parents.intersection(leaves) | dirs.intersection(leaves)):
        raise ForgeError(f"repository archive holds {path!r} as both a file and a directory")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text.lower())
