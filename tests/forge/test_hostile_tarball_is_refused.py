"""A hostile repository archive is refused while it streams in, with a message naming the limit
or the member, and memory stays bounded: bombs, too many entries, links and escaping paths."""

from __future__ import annotations

import random
import tarfile
import time
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest
from archive_support import COMMIT, Member, bomb, gzip_bytes, tar_bytes

from bot.errors import ForgeError
from bot.forge.archive import ArchiveLimits, read_tarball

GB = 1024**3


def test_a_3_gb_member_in_a_small_gzip_fails_fast_with_bounded_memory() -> None:
    consumed = 0

    def counted(chunks: Iterator[bytes]) -> Iterator[bytes]:
        nonlocal consumed
        for chunk in chunks:
            consumed += len(chunk)
            yield chunk

    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ForgeError) as caught:
            read_tarball(counted(bomb(3 * GB)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "'zeros.bin' of 3221225472 bytes" in caught.value.message
    assert "EVOBOT_ARCHIVE_MAX_FILE_BYTES" in caught.value.message
    assert peak < 32 * 1024 * 1024
    assert consumed < 1024 * 1024  # refused from the member's header, not after reading it
    assert time.monotonic() - started < 5


def test_the_compressed_size_limit_is_checked_while_the_body_arrives() -> None:
    pulled = 0

    def endless() -> Iterator[bytes]:  # a member of noise that never ends, gzip-compressed
        nonlocal pulled
        noise = random.Random(7)
        c = zlib.compressobj(1, zlib.DEFLATED, 31)
        member = tarfile.TarInfo("acme-svc-0123456/noise")
        member.size = 2**40
        yield c.compress(member.tobuf(tarfile.PAX_FORMAT))
        while True:
            out = c.compress(noise.randbytes(65536))
            if out:
                pulled += 1
                yield out

    with pytest.raises(ForgeError, match="larger than 100000 bytes compressed"):
        huge = 2**50
        limits = ArchiveLimits(
            max_compressed_bytes=100_000, max_total_bytes=huge, max_file_bytes=huge
        )
        read_tarball(endless(), limits)
    assert pulled <= 3


def test_the_uncompressed_size_limit_counts_headers_too() -> None:
    # A pax header is read whole by tarfile, so its size is only bounded by the stream count.
    raw = tarfile.TarInfo.create_pax_global_header({"comment": COMMIT, "x": "a" * 20_000_000})
    with pytest.raises(ForgeError, match="unpacks to more than 4194304 bytes"):
        read_tarball(gzip_bytes(raw), ArchiveLimits(max_total_bytes=4 * 1024 * 1024))


def test_files_adding_up_past_the_total_limit_are_refused_before_being_read() -> None:
    data = tar_bytes([Member(f"f{i}", bytes(600)) for i in range(4)])
    with pytest.raises(ForgeError, match="unpacks to more than 2000 bytes"):
        read_tarball(data, ArchiveLimits(max_total_bytes=2000, max_file_bytes=1000))
    read_tarball(data, ArchiveLimits(max_total_bytes=100_000, max_file_bytes=1000))


def test_one_file_above_the_file_limit_is_refused_by_name() -> None:
    data = tar_bytes([Member("ok.txt", b"x" * 10), Member("big/blob.bin", b"x" * 11)])
    with pytest.raises(ForgeError, match=r"'big/blob.bin' of 11 bytes, more than 10"):
        read_tarball(data, ArchiveLimits(max_file_bytes=10))


def test_too_many_entries_are_refused() -> None:
    data = tar_bytes([Member(f"f{i}.txt", b"") for i in range(20)])
    with pytest.raises(ForgeError, match=r"more than 10 entries.*EVOBOT_ARCHIVE_MAX_FILES"):
        read_tarball(data, ArchiveLimits(max_files=10))


@pytest.mark.parametrize(
    ("name", "top"),
    [
        ("../../etc/cron.d/x", "acme-svc-0123456/"),
        ("/etc/passwd", ""),
        ("a/../../x", "acme-svc-0123456/"),
        ("src//x", "acme-svc-0123456/"),
        (".git/hooks/post-checkout", "acme-svc-0123456/"),
        ("sub/.GIT/config", "acme-svc-0123456/"),
    ],
)
def test_a_member_path_that_escapes_or_enters_git_is_refused(name: str, top: str) -> None:
    with pytest.raises(ForgeError, match="repository archive holds"):
        read_tarball(tar_bytes([Member(name, b"x")], top=top))


def test_a_hard_link_is_refused_by_name() -> None:
    data = tar_bytes([Member("a", b"x"), Member("h", kind=tarfile.LNKTYPE, linkname="/etc/shadow")])
    with pytest.raises(ForgeError, match="'h', which is a hard link"):
        read_tarball(data)


@pytest.mark.parametrize(
    ("kind", "what"),
    [(tarfile.FIFOTYPE, "a FIFO"), (tarfile.CHRTYPE, "a character device")],
)
def test_special_files_are_refused_by_name(kind: bytes, what: str) -> None:
    with pytest.raises(ForgeError, match=f"'dev/x', which is {what}"):
        read_tarball(tar_bytes([Member("dev/x", kind=kind)]))


def test_a_symlink_pointing_outside_is_recorded_as_a_link_never_followed() -> None:
    data = tar_bytes(
        [Member("README", b"hi"), Member("passwd", kind=tarfile.SYMTYPE, linkname="/etc/passwd")]
    )
    archive = read_tarball(data)
    assert archive.symlinks == {"passwd": "/etc/passwd"}
    assert set(archive.tree) == {"README"}  # no content was read through the link


def test_a_path_that_is_both_file_and_directory_is_refused() -> None:
    data = tar_bytes([Member("a", b"x"), Member("a/b", b"y")])
    with pytest.raises(ForgeError, match="'a' as both a file and a directory"):
        read_tarball(data)


def test_a_repeated_path_is_refused() -> None:
    with pytest.raises(ForgeError, match="'a' more than once"):
        read_tarball(tar_bytes([Member("a", b"x"), Member("a", b"y")]))


def test_a_truncated_archive_is_refused() -> None:
    data = tar_bytes([Member("a", b"x" * 5000)])
    with pytest.raises(ForgeError, match="repository archive"):
        read_tarball(data[: len(data) // 2])


def test_limits_come_from_the_environment() -> None:
    limits = ArchiveLimits.from_env(
        {"EVOBOT_ARCHIVE_MAX_FILES": "5", "EVOBOT_ARCHIVE_MAX_FILE_BYTES": "1_000"}
    )
    assert (limits.max_files, limits.max_file_bytes) == (5, 1000)
    assert limits.max_total_bytes == ArchiveLimits().max_total_bytes
    with pytest.raises(ForgeError, match="EVOBOT_ARCHIVE_MAX_BYTES='lots'"):
        ArchiveLimits.from_env({"EVOBOT_ARCHIVE_MAX_BYTES": "lots"})
    with pytest.raises(ForgeError, match="must be at least 1"):
        ArchiveLimits.from_env({"EVOBOT_ARCHIVE_MAX_FILES": "0"})


def test_a_plain_uncompressed_tar_is_read_too() -> None:
    archive = read_tarball(tar_bytes([Member("a.txt", b"hi")], gz=False))
    assert archive.tree["a.txt"].data == b"hi"
    assert archive.commit_sha == COMMIT
