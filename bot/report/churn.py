"""Churn: how many files and lines an evolution added, removed and changed, per file and in total.

Equal files are skipped by digest first; the rest are diffed line by line with rapidfuzz's LCS
(Indel) edit operations, which count a moved or rewritten block once instead of difflib's
heuristic over-counting. Changes that only touch whitespace, line endings or formatting are
flagged as noise so reviewers can skip them.
"""

from __future__ import annotations

import ast
import bisect
import enum
import io
import json
import re
import tokenize
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz.distance import Indel

from bot.tree import File, is_binary

__all__ = [
    "ChangeKind",
    "ChurnDelta",
    "ChurnReport",
    "ChurnTotals",
    "FileChurn",
    "NoiseKind",
    "classify_noise",
    "compute_churn",
    "count_line_changes",
]

# Structured files bigger than this are compared as text only, never parsed.
_MAX_PARSE_BYTES = 512 * 1024


class ChangeKind(enum.StrEnum):
    ADDED = "added"
    DELETED = "deleted"
    MODIFIED = "modified"
    RENAMED = "renamed"


class NoiseKind(enum.StrEnum):
    """Why a modified file's change probably does not matter to a reviewer."""

    LINE_ENDINGS = "line-endings-only"
    WHITESPACE = "whitespace-only"
    REFORMAT = "reformat-only"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileChurn(_Model):
    """The change to one path. Binary files carry sizes but no line counts."""

    path: str
    status: ChangeKind
    old_path: str | None = Field(default=None, description="the path before a rename")
    binary: bool = False
    added: int = 0
    removed: int = 0
    changed: int = 0
    old_size: int = 0
    new_size: int = 0
    mode_changed: bool = False
    noise: NoiseKind | None = None

    @property
    def size_delta(self) -> int:
        return self.new_size - self.old_size

    @property
    def lines(self) -> int:
        """Every line this change touched: added + removed + changed."""
        return self.added + self.removed + self.changed


class ChurnTotals(_Model):
    files_changed: int = 0
    files_added: int = 0
    files_deleted: int = 0
    files_modified: int = 0
    files_renamed: int = 0
    binary_files: int = 0
    noise_files: int = 0
    lines_added: int = 0
    lines_removed: int = 0
    lines_changed: int = 0

    @property
    def lines(self) -> int:
        return self.lines_added + self.lines_removed + self.lines_changed


class ChurnDelta(_Model):
    """This evolution's churn compared with the previous one's (positive = more churn now)."""

    previous: ChurnTotals
    files_changed: int
    lines_added: int
    lines_removed: int
    lines_changed: int
    new_paths: list[str] = Field(description="changed now but not in the previous evolution")
    recurring_paths: list[str] = Field(description="changed in both evolutions")


class ChurnReport(_Model):
    files: list[FileChurn] = Field(description="one entry per changed path, sorted by path")
    unchanged: int = Field(default=0, description="paths present and identical on both sides")
    totals: ChurnTotals
    relative: ChurnDelta | None = None

    def largest(self, n: int) -> list[FileChurn]:
        """The ``n`` files with the most touched lines (binary files by size change)."""
        ranked = sorted(self.files, key=lambda f: (-f.lines, -abs(f.size_delta), f.path))
        return ranked[:n]


def _split(data: bytes) -> list[bytes]:
    # bytes.splitlines splits on \n, \r\n and \r only, and keeping the ends makes a
    # line-ending change a changed line, as git counts it.
    return data.splitlines(keepends=True)


def count_line_changes(old: Sequence[bytes], new: Sequence[bytes]) -> tuple[int, int, int]:
    """``(added, removed, changed)`` lines between two line sequences.

    Runs of deletions and insertions between two equal blocks form one hunk; ``min(ins, del)``
    of it are changed lines and the rest are plain additions or removals.
    """
    # Intern lines as small ints: exact (no hash collisions) and cheap for rapidfuzz.
    ids: dict[bytes, int] = {}
    a = [ids.setdefault(line, len(ids)) for line in old]
    b = [ids.setdefault(line, len(ids)) for line in new]
    return _count(a, b)


# rapidfuzz's LCS opcodes keep a bit matrix of len(a) * len(b) bits; above this many cells a
# block is first cut at lines unique to both sides (patience-diff anchors).
_MAX_CELLS = 4_000_000


def _trim(a: Sequence[int], b: Sequence[int]) -> tuple[Sequence[int], Sequence[int]]:
    start = 0
    limit = min(len(a), len(b))
    while start < limit and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    return a[start:end_a], b[start:end_b]


def _anchors(a: Sequence[int], b: Sequence[int]) -> list[tuple[int, int]]:
    """Lines occurring once on each side, in an order both sides agree on (longest run)."""
    count_a = Counter(a)
    count_b = Counter(b)
    where_b = {line: j for j, line in enumerate(b) if count_b[line] == 1}
    pairs = [(i, where_b[x]) for i, x in enumerate(a) if count_a[x] == 1 and x in where_b]
    # Longest increasing subsequence of the b positions (patience sorting).
    tails: list[int] = []
    tail_index: list[int] = []
    back: list[int] = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        pos = bisect.bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_index.append(k)
        else:
            tails[pos] = j
            tail_index[pos] = k
        back[k] = tail_index[pos - 1] if pos else -1
    chain = []
    k = tail_index[-1] if tail_index else -1
    while k != -1:
        chain.append(pairs[k])
        k = back[k]
    return chain[::-1]


def _count(a: Sequence[int], b: Sequence[int]) -> tuple[int, int, int]:
    a, b = _trim(a, b)
    if not a or not b:
        return len(b), len(a), 0
    if len(a) * len(b) > _MAX_CELLS:
        anchors = _anchors(a, b)
        if anchors:
            totals = [0, 0, 0]
            prev_i = prev_j = 0
            for i, j in [*anchors, (len(a), len(b))]:
                for k, n in enumerate(_count(a[prev_i:i], b[prev_j:j])):
                    totals[k] += n
                prev_i, prev_j = i + 1, j + 1
            return totals[0], totals[1], totals[2]
        # No anchor to cut at: one hunk, sized by the LCS length alone (linear memory).
        common = (len(a) + len(b) - Indel.distance(a, b)) // 2
        ins, dels = len(b) - common, len(a) - common
        hunk_changed = min(ins, dels)
        return ins - hunk_changed, dels - hunk_changed, hunk_changed
    added = removed = changed = 0
    ins = dels = 0
    for op in Indel.opcodes(a, b):
        if op.tag == "equal":
            hunk_changed = min(ins, dels)
            changed += hunk_changed
            added += ins - hunk_changed
            removed += dels - hunk_changed
            ins = dels = 0
        elif op.tag == "insert":
            ins += op.dest_end - op.dest_start
        elif op.tag == "delete":
            dels += op.src_end - op.src_start
    hunk_changed = min(ins, dels)
    return added + ins - hunk_changed, removed + dels - hunk_changed, changed + hunk_changed


def _suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _python_shape(data: bytes) -> tuple[str, tuple[str, ...]] | None:
    """The AST dump and the comments of Python source, or None when it does not parse."""
    try:
        tree = ast.parse(data)
        comments = tuple(
            tok.string[1:].strip()
            for tok in tokenize.tokenize(io.BytesIO(data).readline)
            if tok.type == tokenize.COMMENT
        )
    except (SyntaxError, ValueError, tokenize.TokenError, RecursionError):
        return None
    return ast.dump(tree), comments


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without aliases: an alias bomb would make comparing the values explode."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases are not compared")
        return super().compose_node(parent, index)


def _yaml_documents(data: bytes) -> list[Any]:
    loader = _NoAliasLoader(data)
    try:
        documents = []
        while loader.check_data():  # type: ignore[no-untyped-call]
            documents.append(loader.get_data())
        return documents
    finally:
        loader.dispose()


def _parsed_data(data: bytes, suffix: str) -> tuple[bool, Any]:
    """``(True, value)`` for a parseable JSON/YAML/TOML document, ``(False, None)`` otherwise."""
    try:
        if suffix == "json":
            return True, json.loads(data)
        if suffix == "toml":
            return True, tomllib.loads(data.decode("utf-8"))
        if suffix in ("yml", "yaml"):
            return True, _yaml_documents(data)
    except (ValueError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return False, None
    return False, None


def _same_meaning(path: str, old: bytes, new: bytes) -> bool | None:
    """Whether two versions of a structured file mean the same; None when it cannot be told."""
    if len(old) > _MAX_PARSE_BYTES or len(new) > _MAX_PARSE_BYTES:
        return None
    suffix = _suffix(path)
    if suffix in ("py", "pyi"):
        a, b = _python_shape(old), _python_shape(new)
        if a is None or b is None:
            return None
        return a == b
    ok_a, value_a = _parsed_data(old, suffix)
    ok_b, value_b = _parsed_data(new, suffix)
    if not (ok_a and ok_b):
        return None
    return bool(value_a == value_b)


_WS = re.compile(rb"\s+")
_TRAILING_COMMA = re.compile(rb",(\s*[\]\)\}])")


def _normalise_tokens(data: bytes) -> bytes:
    data = data.replace(b"'", b'"')
    data = _TRAILING_COMMA.sub(rb"\1", data)
    return _WS.sub(b"", data)


_WORDS = re.compile(rb"\w+")


def classify_noise(path: str, old: bytes, new: bytes) -> NoiseKind | None:
    """The kind of noise a text change is, or None when it is a real change."""
    if old == new:
        return None
    unix_old = old.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    unix_new = new.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if unix_old == unix_new:
        candidate = NoiseKind.LINE_ENDINGS
    elif _WS.sub(b"", old) == _WS.sub(b"", new):
        candidate = NoiseKind.WHITESPACE
    elif _WORDS.findall(old) == _WORDS.findall(new):
        # Reformatting moves punctuation and space, never words; only then is parsing worth it.
        candidate = NoiseKind.REFORMAT
    else:
        return None
    meaning = _same_meaning(path, old, new)
    if meaning is False:
        # Python indentation or YAML nesting: whitespace that changes meaning is not noise.
        return None
    if candidate is NoiseKind.REFORMAT and not (
        meaning is True or _normalise_tokens(old) == _normalise_tokens(new)
    ):
        return None
    return candidate


def _added(path: str, new: File) -> FileChurn:
    binary = is_binary(new.data)
    return FileChurn(
        path=path,
        status=ChangeKind.ADDED,
        binary=binary,
        added=0 if binary else len(_split(new.data)),
        new_size=len(new.data),
    )


def _deleted(path: str, old: File) -> FileChurn:
    binary = is_binary(old.data)
    return FileChurn(
        path=path,
        status=ChangeKind.DELETED,
        binary=binary,
        removed=0 if binary else len(_split(old.data)),
        old_size=len(old.data),
    )


def _modified(path: str, old: File, new: File) -> FileChurn:
    binary = is_binary(old.data) or is_binary(new.data)
    added = removed = changed = 0
    noise = None
    if not binary and old.data != new.data:
        added, removed, changed = count_line_changes(_split(old.data), _split(new.data))
        noise = classify_noise(path, old.data, new.data)
    return FileChurn(
        path=path,
        status=ChangeKind.MODIFIED,
        binary=binary,
        added=added,
        removed=removed,
        changed=changed,
        old_size=len(old.data),
        new_size=len(new.data),
        mode_changed=old.executable != new.executable,
        noise=noise,
    )


def _pair_renames(
    old: Mapping[str, File], new: Mapping[str, File], gone: Iterable[str], came: Iterable[str]
) -> list[tuple[str, str]]:
    """Pair deleted and added paths with identical content and mode, deterministically."""
    by_digest: dict[tuple[str, bool], list[str]] = defaultdict(list)
    for path in sorted(gone):
        by_digest[(old[path].sha256, old[path].executable)].append(path)
    pairs = []
    for path in sorted(came):
        candidates = by_digest.get((new[path].sha256, new[path].executable))
        if candidates:
            pairs.append((candidates.pop(0), path))
    return pairs


def _totals(files: Iterable[FileChurn]) -> ChurnTotals:
    counts: dict[str, int] = defaultdict(int)
    for f in files:
        counts[
            {
                ChangeKind.ADDED: "files_added",
                ChangeKind.DELETED: "files_deleted",
                ChangeKind.MODIFIED: "files_modified",
                ChangeKind.RENAMED: "files_renamed",
            }[f.status]
        ] += 1
        counts["files_changed"] += 1
        counts["binary_files"] += f.binary
        counts["noise_files"] += f.noise is not None
        counts["lines_added"] += f.added
        counts["lines_removed"] += f.removed
        counts["lines_changed"] += f.changed
    return ChurnTotals(**counts)


def _delta(current: ChurnReport, previous: ChurnReport) -> ChurnDelta:
    now = {f.path for f in current.files}
    before = {f.path for f in previous.files}
    cur, prev = current.totals, previous.totals
    return ChurnDelta(
        previous=prev,
        files_changed=cur.files_changed - prev.files_changed,
        lines_added=cur.lines_added - prev.lines_added,
        lines_removed=cur.lines_removed - prev.lines_removed,
        lines_changed=cur.lines_changed - prev.lines_changed,
        new_paths=sorted(now - before),
        recurring_paths=sorted(now & before),
    )


def compute_churn(
    old: Mapping[str, File], new: Mapping[str, File], *, previous: ChurnReport | None = None
) -> ChurnReport:
    """Churn from tree ``old`` to tree ``new``; with ``previous``, also the change against it."""
    unchanged = 0
    files: list[FileChurn] = []
    for path in sorted(old.keys() & new.keys()):
        a, b = old[path], new[path]
        if a.executable == b.executable and (a.data is b.data or a.sha256 == b.sha256):
            unchanged += 1
            continue
        files.append(_modified(path, a, b))
    gone = old.keys() - new.keys()
    came = new.keys() - old.keys()
    for before, after in _pair_renames(old, new, gone, came):
        gone.discard(before)
        came.discard(after)
        size = len(new[after].data)
        files.append(
            FileChurn(
                path=after,
                status=ChangeKind.RENAMED,
                old_path=before,
                binary=is_binary(new[after].data),
                old_size=size,
                new_size=size,
            )
        )
    files.extend(_deleted(path, old[path]) for path in gone)
    files.extend(_added(path, new[path]) for path in came)
    files.sort(key=lambda f: (f.path, f.status))
    report = ChurnReport(files=files, unchanged=unchanged, totals=_totals(files))
    if previous is not None:
        report = report.model_copy(update={"relative": _delta(report, previous)})
    return report
