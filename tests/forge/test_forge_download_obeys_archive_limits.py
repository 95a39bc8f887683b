"""The adapter reads a consumer's archive through the configured limits: a repository over them
is refused with a message naming the limit and its setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from forge_helpers import emulated, make_forge

from bot.errors import ForgeError
from bot.forge.archive import ArchiveLimits


def test_a_file_over_the_limit_stops_the_download(tmp_path: Path) -> None:
    with emulated(tmp_path / "emu") as (emu, forge):
        assert forge.read_tree("acme/svc1").tree  # within the default limits
        small = make_forge(emu, archive_limits=ArchiveLimits(max_file_bytes=8))
        with pytest.raises(ForgeError, match=r"more than 8 .*EVOBOT_ARCHIVE_MAX_FILE_BYTES"):
            small.read_tree("acme/svc1")
