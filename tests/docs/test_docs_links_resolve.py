"""Every relative link and image in README.md and docs/*.md points at a file that exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from docs_support import DOCS, relative_links
from evobot_testing import REPO_ROOT


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_relative_link_resolves(doc: Path) -> None:
    broken = []
    for line, target in relative_links(doc):
        resolved = (doc.parent / target.split("#", 1)[0]).resolve()
        if resolved.exists():
            continue
        broken.append(f"{doc.name}:{line}: {target}")
    assert not broken, "links to nothing:\n" + "\n".join(broken)


def test_the_link_reader_sees_links_and_skips_code(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text(
        "[a](a.md) ![img](pic.png) [web](https://x.org) [anchor](#top) `[no](code.md)`\n"
        "```\n[no](fenced.md)\n```\n[b](sub/b.md#part)\n"
    )
    assert relative_links(doc) == [(1, "a.md"), (1, "pic.png"), (5, "sub/b.md#part")]
