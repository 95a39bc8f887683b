"""Helpers for the template tests (a module of its own: a second conftest.py would shadow the
shared one, since conftest files outside packages all import as `conftest`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from evobot_testing import build_file_tree

from bot.template import RenderLimits

# Small limits keep the limit tests fast; real renders use the defaults.
FAST_LIMITS = RenderLimits(timeout_s=2.0, memory_bytes=512 << 20)


def make_template(
    root: Path,
    files: Mapping[str, str | bytes],
    manifest: Mapping[str, Any] | None = None,
    *,
    executable: Iterable[str] = (),
) -> Path:
    """Write ``template.yml`` and ``files/<path>`` entries under ``root``; return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    data = {"name": "demo", **(manifest or {})}
    (root / "template.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    (root / "files").mkdir(exist_ok=True)
    build_file_tree(root / "files", files)
    for rel in executable:
        (root / "files" / rel).chmod(0o755)
    return root
