"""Read the fenced `console` blocks and the relative links of README.md and docs/*.md.

A block whose lines start with `$ evobot` is a runnable example unless the line before its
fence is `<!-- not-run: REASON -->` (a reason is required). The commands of a block are its
`$ ` lines, run in order by one shell, so `cd` carries over within a block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from evobot_testing import REPO_ROOT

NOT_RUN = re.compile(r"<!--\s*not-run:\s*(.*?)\s*-->")
DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class ConsoleBlock:
    path: Path
    line: int
    commands: list[str]
    not_run: str | None  # the reason, when the block is marked not runnable

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT)}:{self.line}"

    @property
    def runs_evobot(self) -> bool:
        return any(c.startswith("evobot ") or c == "evobot" for c in self.commands)


def console_blocks(path: Path) -> list[ConsoleBlock]:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[ConsoleBlock] = []
    i = 0
    while i < len(lines):
        fence = re.match(r"^(\s*)```console\s*$", lines[i])
        if not fence:
            i += 1
            continue
        indent = fence.group(1)
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = NOT_RUN.search(before)
        start = i + 1
        i += 1
        commands: list[str] = []
        while i < len(lines) and lines[i].strip() != "```":
            text = lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i]
            if text.startswith("$ "):
                commands.append(text[2:])
            i += 1
        blocks.append(ConsoleBlock(path, start, commands, marker.group(1) if marker else None))
        i += 1
    return blocks


LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every Markdown link or image that is not a URL or a bare anchor,
    outside fenced code blocks."""
    found: list[tuple[int, str]] = []
    in_fence = False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        for match in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
            target = match.group(1) or match.group(2)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            found.append((n, target))
    return found
