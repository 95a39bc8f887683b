"""Bounded YAML and JSON parsing for every document evobot reads from people, templates and repos.

A document is refused, with a one-line reason, before it can exhaust the stack, memory or time:
it may not be larger than a byte limit, nested deeper than a level limit (counted without
recursion, before anything is built), use more than a few aliases, or expand through aliases
(billion laughs) or refer to itself. YAML is read with PyYAML's safe loader only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Any

import yaml

from bot.errors import EvobotError

__all__ = [
    "JSON_LIMITS",
    "YAML_LIMITS",
    "DocumentError",
    "Limits",
    "ParseError",
    "load_json",
    "load_yaml",
    "parse_json",
    "parse_yaml",
]

_MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How large, how deep and how self-referential a document may be."""

    max_bytes: int
    max_depth: int = 100
    max_aliases: int = 1000

    @property
    def max_expanded(self) -> int:
        """The size (roughly in bytes: values plus characters) aliases may expand a document to.

        A document without aliases never comes close; billion laughs goes far beyond it.
        """
        return 8 * self.max_bytes


# The pure-Python YAML constructor reads about 0.5 MiB a second: 1 MiB bounds the time a
# hostile `.evobot.yml` can cost. Provenance files list every output file, so JSON gets more.
YAML_LIMITS = Limits(max_bytes=_MIB)
JSON_LIMITS = Limits(max_bytes=16 * _MIB)


class DocumentError(ValueError):
    """A document refused by a limit or unreadable as YAML/JSON; the text names the problem only
    (no source), e.g. ``nested deeper than 100 levels``."""


class ParseError(EvobotError):
    """A YAML or JSON document that is malformed or beyond evobot's limits."""


def _size(data: str | bytes) -> int:
    return len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))


def _check_size(data: str | bytes, limits: Limits) -> None:
    if _size(data) > limits.max_bytes:
        raise DocumentError(f"larger than {limits.max_bytes} bytes")


if TYPE_CHECKING:
    _Base = yaml.SafeLoader
else:  # libyaml's parser when PyYAML has it; the constructor is Python either way
    _Base = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader

# Longer integers are refused: Python's own limit for decimal ones, and base-60 ones (`1:2:3`,
# YAML 1.1) are built by a loop that is quadratic in their length.
_MAX_INT_CHARS = 4300


class _SafeLoader(_Base):
    """PyYAML's safe loader, refusing integers too long to build quickly."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        if len(node.value) > _MAX_INT_CHARS:
            raise yaml.constructor.ConstructorError(
                None, None, f"an integer longer than {_MAX_INT_CHARS} characters", node.start_mark
            )
        return super().construct_yaml_int(node)


_SafeLoader.add_constructor("tag:yaml.org,2002:int", _SafeLoader.construct_yaml_int)
_EventLoader: Any = _Base  # the stubs leave its event methods untyped


@dataclass
class _Frame:
    """An open collection while scanning events: its anchor, where its size started, and the
    deepest level reached inside it."""

    anchor: str | None
    start: int
    deepest: int


def _scan_yaml_events(data: str | bytes, limits: Limits) -> None:
    """Walk the parser's events (flat, no recursion) and refuse depth, alias and expansion
    beyond ``limits`` before the composer, which recurses, ever sees the document."""
    loader = _EventLoader(data)
    stack: list[_Frame] = []
    anchored: dict[str, tuple[int, int]] = {}  # anchor -> (expanded size, levels of nesting)
    aliases = 0
    expanded = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > limits.max_aliases:
                    raise DocumentError(f"too many aliases (more than {limits.max_aliases})")
                if any(frame.anchor == event.anchor for frame in stack):
                    raise DocumentError(f"alias *{event.anchor} refers to its own anchor")
                if event.anchor not in anchored:
                    continue  # undefined: the composer says so with a line number
                size, height = anchored[event.anchor]
                expanded += size
                if expanded > limits.max_expanded:
                    raise DocumentError(
                        "too many aliases: expanded, the document would be larger than "
                        f"{limits.max_expanded} bytes"
                    )
                depth = len(stack) + height
                if depth > limits.max_depth:
                    raise DocumentError(f"nested deeper than {limits.max_depth} levels")
                if stack:
                    stack[-1].deepest = max(stack[-1].deepest, depth)
            elif isinstance(event, yaml.ScalarEvent):
                expanded += 1 + len(event.value)
                if event.anchor is not None:
                    anchored[event.anchor] = (1 + len(event.value), 0)
            elif isinstance(event, yaml.CollectionStartEvent):
                expanded += 1
                depth = len(stack) + 1
                if depth > limits.max_depth:
                    raise DocumentError(f"nested deeper than {limits.max_depth} levels")
                stack.append(_Frame(event.anchor, expanded - 1, depth))
            elif isinstance(event, yaml.CollectionEndEvent) and stack:
                frame = stack.pop()
                if frame.anchor is not None:
                    height = frame.deepest - len(stack)
                    anchored[frame.anchor] = (expanded - frame.start, height)
                if stack:
                    stack[-1].deepest = max(stack[-1].deepest, frame.deepest)
            if expanded > limits.max_expanded:
                raise DocumentError(
                    "too many aliases: expanded, the document would be larger than "
                    f"{limits.max_expanded} bytes"
                )
    finally:
        loader.dispose()


def parse_yaml(data: str | bytes, *, limits: Limits = YAML_LIMITS) -> Any:
    """One YAML document (safe tags only) within ``limits``; DocumentError when not."""
    _check_size(data, limits)
    try:
        _scan_yaml_events(data, limits)
        return yaml.load(data, Loader=_SafeLoader)  # noqa: S506 - the safe loader
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in str(exc):  # libyaml's own limit (1000), beyond ours
            raise DocumentError(f"nested deeper than {limits.max_depth} levels") from None
        raise DocumentError(f"not valid YAML: {_one_paragraph(str(exc))}") from None
    except (ValueError, OverflowError) as exc:
        if isinstance(exc, DocumentError):
            raise
        # A tagged or implicit value the constructor cannot build (a 5000-digit int, 2001-13-45).
        raise DocumentError(f"not valid YAML: {exc}") from None


# A JSON string literal, escapes included; brackets left once strings are removed decide the
# nesting depth. An unterminated string runs to the end of the text: without that, every quote
# after it would start a new failing match, quadratic in the size of `"\"\"\"...`.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.?)*(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _json_depth(text: str) -> int:
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def parse_json(data: str | bytes, *, limits: Limits = JSON_LIMITS) -> Any:
    """One JSON document within ``limits``; DocumentError when not."""
    _check_size(data, limits)
    if isinstance(data, bytes):
        try:
            text = data.decode(json.detect_encoding(data), "surrogatepass")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"not valid JSON: not UTF-8 text ({exc.reason})") from None
    else:
        text = data
    if _json_depth(text) > limits.max_depth:
        raise DocumentError(f"nested deeper than {limits.max_depth} levels")
    try:
        return json.loads(text)
    except ValueError as exc:  # JSONDecodeError, and numbers beyond int's digit limit
        raise DocumentError(f"not valid JSON: {exc}") from None


def load_yaml(
    data: str | bytes,
    *,
    source: str,
    error: type[EvobotError] = ParseError,
    limits: Limits = YAML_LIMITS,
) -> Any:
    """:func:`parse_yaml`, with every problem an ``error`` whose message starts with ``source``."""
    try:
        return parse_yaml(data, limits=limits)
    except DocumentError as exc:
        raise error(f"{source}: {exc}") from None


def load_json(
    data: str | bytes,
    *,
    source: str,
    error: type[EvobotError] = ParseError,
    limits: Limits = JSON_LIMITS,
) -> Any:
    """:func:`parse_json`, with every problem an ``error`` whose message starts with ``source``."""
    try:
        return parse_json(data, limits=limits)
    except DocumentError as exc:
        raise error(f"{source}: {exc}") from None


def _one_paragraph(text: str) -> str:
    """PyYAML's multi-line messages on one line (they quote the source as a code mark)."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())
