"""The license scan's bundled data, the SPDX licensing it parses with, and its version."""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from license_expression import Licensing, get_spdx_licensing

HEADER_BYTES = 8192
DEFAULT_LICENSE_FILES = (
    ".evobot/licenses.yml",
    ".evobot/licenses.yaml",
    ".evobot/licenses.json",
    "licenses.yml",
    "licenses.yaml",
    "licenses.json",
    "pip-licenses.json",
)
# Bumped by hand when the logic changes; the bundled data is digested into the version too.
_ENGINE_REVISION = "2"


@functools.cache
def _data() -> dict[str, Any]:
    raw = resources.files("bot.checks").joinpath("data/licenses.json").read_bytes()
    data: dict[str, Any] = json.loads(raw)
    return data


@functools.cache
def _licensing() -> Licensing:
    return get_spdx_licensing()


def _version() -> str:
    """A digest of the bundled data, the source of every module of this package and the SPDX
    license list in use: changing any of them invalidates the cached verdicts."""
    h = hashlib.sha256(_ENGINE_REVISION.encode())
    h.update(resources.files("bot.checks").joinpath("data/licenses.json").read_bytes())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        h.update(source.name.encode() + b"\0" + source.read_bytes())
    # Which ids are valid SPDX comes from license-expression's bundled license list.
    h.update(metadata.version("license-expression").encode())
    return "1." + h.hexdigest()[:12]
