"""Hostile tarballs built in memory: members of any kind and name, and gzip bombs that are
compressed lazily, so a "3 GB" member costs a few megabytes and is never held whole."""

from __future__ import annotations

import io
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes = b""
    kind: bytes = tarfile.REGTYPE
    linkname: str = ""
    size: int | None = None  # a header size different from len(data)


def tar_bytes(members: list[Member], *, top: str = "acme-svc-0123456/", gz: bool = True) -> bytes:
    """A GitHub-style archive: a pax ``comment`` naming the commit, members under ``top``."""
    buf = io.BytesIO()
    with tarfile.open(
        fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"comment": COMMIT}
    ) as tar:
        for m in members:
            info = tarfile.TarInfo(top + m.name if top else m.name)
            info.type = m.kind
            info.linkname = m.linkname
            info.mode = 0o644
            if m.kind == tarfile.REGTYPE:
                info.size = len(m.data)
                tar.addfile(info, io.BytesIO(m.data))
            else:
                tar.addfile(info)
    raw = buf.getvalue()
    return gzip_bytes(raw) if gz else raw


def gzip_bytes(raw: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return c.compress(raw) + c.flush()


def bomb(member_bytes: int, *, top: str = "acme-svc-0123456/") -> Iterator[bytes]:
    """A .tar.gz holding one ``member_bytes`` file of zeros, compressed as it is consumed."""
    info = tarfile.TarInfo(top + "zeros.bin")
    info.size = member_bytes
    head = tarfile.TarInfo.create_pax_global_header({"comment": COMMIT})
    head += info.tobuf(tarfile.PAX_FORMAT)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    yield c.compress(head)
    block = bytes(1024 * 1024)
    left = member_bytes + (-member_bytes % 512) + 1024  # content, padding, two end blocks
    while left > 0:
        n = min(left, len(block))
        out = c.compress(block[:n])
        left -= n
        if out:
            yield out
    yield c.flush()
