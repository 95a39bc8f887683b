"""Recognising license texts (LICENSE, COPYING…) against bundled canonical texts and
distinctive phrases."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.checks.licenses._data import _data

# --------------------------------------------------------------------------------------------
# License texts


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


# A copyright statement, not a wrapped license line that happens to start with "copyright
# notice" or "copyright holders".
_COPYRIGHT_LINE = re.compile(
    r"^\W*(?:copyright\b(?!\s+(?:notice|holder|owner|law|and\b|interest|license|permission|"
    r"claim|statement|protection))|\(c\)|©|all rights reserved)",
    re.IGNORECASE,
)
_TITLE_WORDS = frozenset(
    [
        "the",
        "mit",
        "license",
        "licence",
        "bsd",
        "2",
        "3",
        "clause",
        "isc",
        "new",
        "simplified",
        "revised",
        "modified",
        "x11",
        "expat",
        "zero",
        "unlicense",
        "0bsd",
        "zlib",
        "open",
        "source",
        "initiative",
        "osi",
        "approved",
        "spdx",
        "identifier",
    ]
)


def _body_words(text: str) -> str:
    """The license body: copyright lines and title lines (``MIT License``) dropped."""
    kept = []
    for line in text.splitlines():
        if _COPYRIGHT_LINE.match(line.strip()):
            continue
        words = _words(line).split()
        if words and set(words) <= _TITLE_WORDS:
            continue
        kept.append(line)
    return _words("\n".join(kept))


@dataclass(frozen=True)
class Identified:
    """A license text recognised in a file: its family and the SPDX ids it can stand for."""

    family: str
    candidates: tuple[str, ...]
    how: str  # "text", "contained", "phrases" or "notice"


@functools.cache
def _text_index() -> tuple[tuple[str, tuple[str, ...], str], ...]:
    return tuple(
        (entry["family"], tuple(entry["candidates"]), _words(entry["text"]))
        for entry in _data()["texts"]
    )


def _contained(body: str, canonical: str) -> float:
    """How well ``canonical`` matches the best window of ``body`` that starts like it."""
    anchor = " ".join(canonical.split()[:4])
    best = 0.0
    pos = body.find(anchor)
    while pos >= 0:
        best = max(best, fuzz.ratio(body[pos : pos + len(canonical)], canonical))
        pos = body.find(anchor, pos + 1)
    return best


def identify_license_text(text: str) -> list[Identified]:
    """The licenses whose text (or notice) ``text`` holds; an empty list means unknown.

    Short permissive texts are compared with bundled canonical texts: the whole body (once
    copyright and title lines are dropped) near-identical to one of them identifies it
    (``how="text"``); a body that merely *contains* one, next to other text, is reported as
    ``how="contained"``, which says nothing about the rest. Long licenses are recognised by
    their distinctive title and version lines, and notices only when no full text of the same
    family is present (a GPL text quotes its own "or any later version" notice).
    """
    words = _words(text)
    found: list[Identified] = []
    families: set[str] = set()
    for entry in _data()["phrases"]:
        if all(_words(p) in words for p in entry["phrases"]):
            found.append(Identified(entry["family"], tuple(entry["candidates"]), "phrases"))
            families.add(entry["family"])
    body = _body_words(text)
    if body:
        scored = [
            (fuzz.ratio(body, canonical), family, candidates)
            for family, candidates, canonical in _text_index()
        ]
        score, family, candidates = max(scored)
        if score >= 95:
            found.append(Identified(family, candidates, "text"))
            families.add(family)
        else:
            for family, candidates, canonical in _text_index():
                if family not in families and _contained(body, canonical) >= 95:
                    found.append(Identified(family, candidates, "contained"))
                    families.add(family)
    for entry in _data()["notices"]:
        if entry["family"] in families:
            continue  # a full GPL text carries the "or any later version" notice as an example
        if all(_words(p) in words for p in entry["phrases"]):
            found.append(Identified(entry["family"], tuple(entry["candidates"]), "notice"))
            families.add(entry["family"])
    return found


# LICENSE, LICENCE.md, COPYING, COPYING.LESSER, LICENSE-APACHE, LICENSE.PSF, UNLICENSE...
_LICENSE_FILE = re.compile(
    r"^(?:un)?(?:licen[cs]e|copying)(?:[-_.][A-Za-z0-9]+)?(?:\.(?:txt|md|rst))?$",
    re.IGNORECASE,
)


def is_license_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if name.lower().endswith((".py", ".json", ".yml", ".yaml", ".toml", ".html", ".jinja")):
        return False
    return bool(_LICENSE_FILE.match(name))
