"""Fuzz: random bytes and random small archives (escaping names, .git, long names, links of
every kind) give the tarball reader an Archive or an EvobotError: never a traceback, never a
hang."""

from __future__ import annotations

import tarfile

from archive_support import Member, gzip_bytes, tar_bytes
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.errors import EvobotError
from bot.forge.archive import Archive, ArchiveLimits, read_tarball

LIMITS = ArchiveLimits(max_total_bytes=2_000_000, max_file_bytes=100_000, max_files=50)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_piece = st.one_of(
    st.sampled_from(["..", ".", "", ".git", ".GIT", "/", "a", "b", "x" * 120, "\x01", "é"]),
    st.text(min_size=1, max_size=12),
)
names = st.lists(_piece, min_size=1, max_size=5).map("/".join)
kinds = st.sampled_from(
    [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE]
)
members = st.builds(
    Member, name=names, data=st.binary(max_size=64), kind=kinds, linkname=names | st.just("")
)


def _read(data: bytes) -> None:
    try:
        result = read_tarball(data, LIMITS)
    except EvobotError as exc:
        assert exc.message
    else:
        assert isinstance(result, Archive)


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _read(data)
    _read(gzip_bytes(data))


@FUZZ
@given(
    st.lists(members, max_size=8),
    st.sampled_from(["acme-svc-0123456/", "", "../", "/abs/"]),
    st.booleans(),
)
def test_random_archives(entries: list[Member], top: str, gz: bool) -> None:
    try:
        data = tar_bytes(entries, top=top, gz=gz)
    except (ValueError, UnicodeError, tarfile.TarError):
        assume(False)  # a name tarfile itself cannot write
        raise
    _read(data)


@FUZZ
@given(st.lists(members, min_size=1, max_size=4), st.data())
def test_truncated_and_flipped_archives(entries: list[Member], data: st.DataObject) -> None:
    try:
        raw = tar_bytes(entries, gz=False)
    except (ValueError, UnicodeError, tarfile.TarError):
        assume(False)
        raise
    cut = data.draw(st.integers(0, len(raw)))
    _read(raw[:cut])
    _read(gzip_bytes(raw)[: cut // 4])
    at = data.draw(st.integers(0, len(raw) - 1))
    flipped = bytearray(raw)
    flipped[at] ^= data.draw(st.integers(1, 255))
    _read(bytes(flipped))
