"""Three-way merge of a new template render into a consumer's files, one outcome per file.

Pure over trees except for `git merge-file --diff3`, which runs only for text files changed on
both sides, a batch at a time in one temporary directory so memory stays bounded. A run over a
fleet passes a `MergeMemo`, so a merge many consumers share (same base, template and consumer
text) runs git once and the others reuse its output.
"""

from __future__ import annotations

import difflib
import hashlib
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Generic, Literal, TypeVar

import structlog

from bot.errors import MergeError
from bot.git import Git
from bot.globs import matches_any
from bot.tree import File, Tree, is_binary

__all__ = [
    "ConflictStyle",
    "FileOutcome",
    "FileStatus",
    "MergeMemo",
    "MergeResult",
    "merge_trees",
]

log = structlog.get_logger(__name__)

ConflictStyle = Literal["inline", "rej"]

# Files handed to one temporary directory before it is emptied again.
BATCH_SIZE = 64

# What a fleet run keeps of merge outputs by default: plenty for a template's few merged files
# times thousands of consumers, small next to the trees themselves.
DEFAULT_MEMO_BYTES = 64 * 1024 * 1024

_V = TypeVar("_V")


class ByteLRU(Generic[_V]):
    """A dict bounded by the bytes of its values: the least recently used go first.

    ``size`` says what a value weighs; a value heavier than the whole bound is never kept.
    """

    def __init__(self, max_bytes: int, size: Callable[[_V], int]) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.max_bytes = max_bytes
        self._size = size
        self._items: OrderedDict[str, tuple[_V, int]] = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> _V | None:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: str, value: _V) -> None:
        weight = self._size(value)
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        if weight > self.max_bytes:
            return
        self._items[key] = (value, weight)
        self.bytes += weight
        while self.bytes > self.max_bytes:
            _key, (_value, dropped) = self._items.popitem(last=False)
            self.bytes -= dropped


@dataclass(frozen=True)
class _Merged:
    """What `git merge-file` printed for one triple (LF text) and whether it conflicted."""

    stdout: bytes
    conflicted: bool


# Per-entry bookkeeping beyond the merged bytes (key, tuple, dataclass), for the bound.
_ENTRY_OVERHEAD = 200


class MergeMemo:
    """The `git merge-file` outputs of one run, keyed by a digest of everything git reads.

    The key is the SHA-256 of the three texts exactly as git is given them (LF, final newline)
    and the conflict labels. Whatever else differs between consumers — line endings, final
    newline, executable bit, conflict style — is applied afterwards from each consumer's own
    files, so sharing never changes a result. Keep one for one run only, in one process (a
    forked worker gets its own copy): nothing is written anywhere.

    ``runs`` counts the `git merge-file` calls made, ``reused`` the merges answered from memory.
    """

    def __init__(self, max_bytes: int = DEFAULT_MEMO_BYTES) -> None:
        self._outputs: ByteLRU[_Merged] = ByteLRU(
            max_bytes, lambda m: len(m.stdout) + _ENTRY_OVERHEAD
        )
        self.runs = 0
        self.reused = 0

    @property
    def bytes(self) -> int:
        """The bytes held now (never more than the bound)."""
        return self._outputs.bytes

    def __len__(self) -> int:
        return len(self._outputs)

    def get(self, key: str) -> _Merged | None:
        found = self._outputs.get(key)
        if found is not None:
            self.reused += 1
        return found

    def put(self, key: str, merged: _Merged) -> None:
        self._outputs.put(key, merged)


class FileStatus(StrEnum):
    """What evolution did to one file of the consumer."""

    UNCHANGED = "unchanged"
    UPDATED = "updated"
    ADDED = "added"
    DELETED = "deleted"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class FileOutcome:
    """The outcome for one path; ``detail`` says why when the status alone does not."""

    path: str
    status: FileStatus
    detail: str | None = None


@dataclass(frozen=True)
class MergeResult:
    """The consumer's complete tree after the merge, the paths it loses, and per-file outcomes."""

    tree: Tree
    deleted: tuple[str, ...]
    files: tuple[FileOutcome, ...]
    conflicts: tuple[str, ...]


# --- text helpers --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    """A text file's content normalised to LF, and what to restore afterwards."""

    lf: bytes
    crlf: bool
    final_newline: bool


def _normalise(data: bytes) -> _Text:
    crlf = b"\r\n" in data and data.count(b"\r\n") == data.count(b"\n")
    lf = data.replace(b"\r\n", b"\n") if crlf else data
    return _Text(lf, crlf, lf.endswith(b"\n") or not lf)


def _restore(lf: bytes, like: _Text) -> bytes:
    """Give merged LF text the consumer's line endings and final-newline state."""
    if not like.final_newline and lf.endswith(b"\n"):
        lf = lf[:-1]
    elif like.final_newline and lf and not lf.endswith(b"\n"):
        lf += b"\n"
    return lf.replace(b"\n", b"\r\n") if like.crlf else lf


def _with_newline(text: bytes) -> bytes:
    return text if not text or text.endswith(b"\n") else text + b"\n"


def _same(a: bytes, b: bytes) -> bool:
    """Equal content, ignoring a CRLF/LF-only difference and the final newline for text."""
    if a == b:
        return True
    if is_binary(a) or is_binary(b):
        return False
    return _with_newline(_normalise(a).lf) == _with_newline(_normalise(b).lf)


def _rej_text(path: str, base: bytes | None, new: bytes | None, label: str) -> bytes:
    """The template's own change to ``path`` (base -> new) as a unified diff."""
    old_lines = (base or b"").decode("utf-8", "replace").splitlines(keepends=True)
    new_lines = (new or b"").decode("utf-8", "replace").splitlines(keepends=True)
    diff = difflib.unified_diff(
        old_lines,
        new_lines,
        fromfile=f"a/{path}" if base is not None else "/dev/null",
        tofile=f"b/{path}" if new is not None else "/dev/null",
    )
    lines = [f"# evobot: {label} changed {path}; this change did not apply cleanly.\n"]
    for line in diff:
        lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines).encode()


# --- git merge-file ------------------------------------------------------------------------


@dataclass
class _MergeTask:
    path: str
    ours: _Text
    base: bytes
    theirs: bytes
    result: bytes = b""
    conflicted: bool = False

    def inputs(self) -> tuple[bytes, bytes, bytes]:
        """The three texts exactly as `git merge-file` reads them."""
        return (
            _with_newline(self.ours.lf),
            _with_newline(_normalise(self.base).lf),
            _with_newline(_normalise(self.theirs).lf),
        )


_LABELS = ("consumer", "base")


def _merge_key(inputs: tuple[bytes, bytes, bytes], label: str) -> str:
    """A digest of everything `git merge-file` reads: three texts and three labels."""
    h = hashlib.sha256()
    for part in (*inputs, *(x.encode() for x in (*_LABELS, label))):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def _run_merge_file(tasks: Sequence[_MergeTask], label: str, memo: MergeMemo | None) -> None:
    """Fill each task's result: from ``memo`` when this exact merge was run before, else with
    one `git merge-file -p --diff3` per distinct merge, ``BATCH_SIZE`` files per temp dir."""
    if memo is None:
        _run_git(tasks, label)
        return
    pending: dict[str, list[_MergeTask]] = {}
    for task in tasks:
        key = _merge_key(task.inputs(), label)
        known = memo.get(key)
        if known is not None:
            task.result = _restore(known.stdout, task.ours)
            task.conflicted = known.conflicted
        elif key in pending:
            memo.reused += 1  # the same merge twice in one consumer
            pending[key].append(task)
        else:
            pending[key] = [task]
    if not pending:
        return
    leaders = [same[0] for same in pending.values()]
    outputs = _run_git(leaders, label)
    memo.runs += len(leaders)
    for key, same in pending.items():
        merged = outputs[id(same[0])]
        memo.put(key, merged)
        for task in same:
            task.result = _restore(merged.stdout, task.ours)
            task.conflicted = merged.conflicted


def _run_git(tasks: Sequence[_MergeTask], label: str) -> dict[int, _Merged]:
    """Run one `git merge-file -p --diff3` per task; returns git's output by task id."""
    outputs: dict[int, _Merged] = {}
    for start in range(0, len(tasks), BATCH_SIZE):
        batch = tasks[start : start + BATCH_SIZE]
        with tempfile.TemporaryDirectory(prefix="evobot-merge-") as tmp:
            tmpdir = Path(tmp)
            git = Git(tmpdir, error=MergeError)
            for n, task in enumerate(batch):
                ours_path = tmpdir / f"{n}.ours"
                base_path = tmpdir / f"{n}.base"
                theirs_path = tmpdir / f"{n}.theirs"
                ours_text, base_text, theirs_text = task.inputs()
                ours_path.write_bytes(ours_text)
                base_path.write_bytes(base_text)
                theirs_path.write_bytes(theirs_text)
                # Exit status 1..127 counts the conflicts; only a crash or a refusal fails.
                proc = git.run(
                    "merge-file",
                    "-p",
                    "--diff3",
                    "-L",
                    _LABELS[0],
                    "-L",
                    _LABELS[1],
                    "-L",
                    label,
                    str(ours_path),
                    str(base_path),
                    str(theirs_path),
                    check=False,
                )
                if proc.returncode < 0 or proc.returncode > 127:
                    raise git.failure(proc, "merge-file", where=task.path)
                merged = _Merged(proc.stdout, proc.returncode > 0)
                outputs[id(task)] = merged
                task.result = _restore(merged.stdout, task.ours)
                task.conflicted = merged.conflicted
                for p in (ours_path, base_path, theirs_path):
                    p.unlink()
    return outputs


# --- the merge -----------------------------------------------------------------------------


@dataclass
class _Plan:
    """Accumulates the merge's results while each path is decided."""

    tree: Tree
    conflict_style: ConflictStyle
    label: str
    deleted: set[str] = field(default_factory=set)
    outcomes: dict[str, FileOutcome] = field(default_factory=dict)
    tasks: list[tuple[_MergeTask, bool, str | None, bytes | None, bytes | None]] = field(
        default_factory=list
    )

    def outcome(self, path: str, status: FileStatus, detail: str | None = None) -> None:
        self.outcomes[path] = FileOutcome(path, status, detail)

    def put(self, path: str, f: File) -> None:
        self.tree[path] = f
        self.deleted.discard(path)

    def delete(self, path: str) -> None:
        if self.tree.pop(path, None) is not None:
            self.deleted.add(path)

    def conflict(
        self, path: str, detail: str, base: bytes | None, new: bytes | None, *, text: bool
    ) -> None:
        """Record a conflict that keeps the consumer's file; ``rej`` style adds the diff."""
        if self.conflict_style == "rej" and text:
            self.put(path + ".rej", File(_rej_text(path, base, new, self.label)))
            detail += f"; template change in {path}.rej"
        self.outcome(path, FileStatus.CONFLICT, detail)


def _mode(base: File | None, new: File, ours: File | None) -> bool:
    """The executable bit: the template's change applies unless the consumer changed it."""
    if ours is None:
        return new.executable
    if base is None or ours.executable != base.executable:
        return ours.executable
    return new.executable


def _apply_renames(
    base: Tree, ours: Tree, renames: Mapping[str, str], protect: Sequence[str]
) -> tuple[Tree, Tree, dict[str, str]]:
    """Move base and consumer files to their renamed paths; returns new-path -> old-path."""
    if not renames:
        return base, ours, {}
    base = dict(base)
    ours = dict(ours)
    moved: dict[str, str] = {}

    def target(path: str) -> str | None:
        for old, new in renames.items():
            old = old.strip("/")
            new = new.strip("/")
            if path == old:
                return new
            if path.startswith(old + "/"):
                return new + path[len(old) :]
        return None

    for path in sorted(set(base) | set(ours)):
        dest = target(path)
        if dest is None or dest == path or matches_any(protect, path):
            continue
        if dest in ours or (dest in base and path not in ours):
            continue  # the consumer already has something at the new path; do not clobber it
        if path in base:
            base.setdefault(dest, base.pop(path))
        if path in ours:
            ours[dest] = ours.pop(path)
            moved[dest] = path
    return base, ours, moved


def merge_trees(
    base: Mapping[str, File],
    new: Mapping[str, File],
    ours: Mapping[str, File],
    *,
    protect: Sequence[str] = (),
    skip_if_exists: Sequence[str] = (),
    renames: Mapping[str, str] | None = None,
    conflict_style: ConflictStyle = "inline",
    template_label: str = "template",
    memo: MergeMemo | None = None,
) -> MergeResult:
    """Merge the template's change ``base -> new`` into the consumer's files ``ours``.

    Returns the consumer's complete tree afterwards; consumer files the template never
    rendered pass through untouched and get no outcome. ``renames`` (old -> new path, from
    migrations) moves the consumer's file, edits included, to its new path before merging.
    With a ``memo`` (one run over a fleet), a merge already run for another consumer is
    reused; the result is the same as without.
    """
    if conflict_style not in ("inline", "rej"):
        raise MergeError(f"unknown conflict style {conflict_style!r}; use 'inline' or 'rej'")
    original = dict(ours)
    base_r, ours_r, moved = _apply_renames(dict(base), original, renames or {}, protect)
    plan = _Plan(tree=dict(ours_r), conflict_style=conflict_style, label=template_label)
    for new_path, old_path in moved.items():
        plan.deleted.add(old_path)
        plan.outcome(old_path, FileStatus.DELETED, f"renamed by the template to {new_path}")

    for path in sorted(set(base_r) | set(new)):
        _merge_path(
            plan,
            path,
            base_r.get(path),
            new.get(path),
            ours_r.get(path),
            protect=protect,
            skip_if_exists=skip_if_exists,
            renamed_from=moved.get(path),
        )

    _run_merge_file([t[0] for t in plan.tasks], template_label, memo)
    for task, executable, detail, base_data, new_data in plan.tasks:
        if task.conflicted and conflict_style == "rej":
            plan.conflict(
                task.path, "changed by both; consumer's file kept", base_data, new_data, text=True
            )
            continue
        plan.put(task.path, File(task.result, executable))
        if task.conflicted:
            plan.outcome(task.path, FileStatus.CONFLICT, "changed by both; conflict markers")
        else:
            status = FileStatus.ADDED if task.path in moved else FileStatus.UPDATED
            plan.outcome(task.path, status, detail or "merged with the consumer's edits")

    deleted = tuple(sorted(p for p in plan.deleted if p in original and p not in plan.tree))
    files = tuple(plan.outcomes[p] for p in sorted(plan.outcomes))
    conflicts = tuple(o.path for o in files if o.status is FileStatus.CONFLICT)
    log.debug("merge", files=len(files), conflicts=len(conflicts), deleted=len(deleted))
    return MergeResult(tree=plan.tree, deleted=deleted, files=files, conflicts=conflicts)


def _merge_path(
    plan: _Plan,
    path: str,
    b: File | None,
    t: File | None,
    o: File | None,
    *,
    protect: Sequence[str],
    skip_if_exists: Sequence[str],
    renamed_from: str | None,
) -> None:
    """Decide one template-managed path; text changed on both sides is queued for git."""
    renamed = f"renamed from {renamed_from}" if renamed_from else None
    moved_status = FileStatus.ADDED if renamed_from else FileStatus.UPDATED
    if matches_any(protect, path):
        if b != t:
            plan.outcome(path, FileStatus.UNCHANGED, "protected; template change not applied")
        else:
            plan.outcome(path, FileStatus.UNCHANGED, "protected")
        return
    if o is not None and matches_any(skip_if_exists, path):
        plan.outcome(path, FileStatus.UNCHANGED, "skip_if_exists; consumer's file kept")
        return

    if t is None:
        if b is None or o is None:
            detail = "deleted by both" if b is not None else None
            if b is not None:
                plan.outcome(path, FileStatus.UNCHANGED, detail)
            return
        if _same(o.data, b.data):
            plan.delete(path)
            plan.outcome(path, FileStatus.DELETED, "deleted by the template")
        else:
            plan.conflict(
                path,
                "deleted by the template, changed by the consumer; kept",
                b.data,
                None,
                text=not is_binary(o.data),
            )
        return

    if o is None:
        if b is None:
            plan.put(path, t)
            plan.outcome(path, FileStatus.ADDED, "new in the template")
        elif _same(t.data, b.data) and t.executable == b.executable:
            plan.outcome(path, FileStatus.UNCHANGED, "deleted by the consumer")
        else:
            plan.conflict(
                path,
                "deleted by the consumer, changed by the template; stays deleted",
                b.data,
                t.data,
                text=not is_binary(t.data),
            )
        return

    executable = _mode(b, t, o)
    base_data = b.data if b is not None else None

    if base_data is not None and _same(t.data, base_data):
        data = o.data  # the template did not change the content
    elif base_data is not None and o.data == base_data:
        data = t.data
    elif base_data is not None and _same(o.data, base_data) and not is_binary(t.data):
        data = _restore(_normalise(t.data).lf, _normalise(o.data))
    elif _same(o.data, t.data):
        data = o.data  # both made the same change
    elif is_binary(o.data) or is_binary(t.data) or (base_data and is_binary(base_data)):
        plan.conflict(
            path, "binary file changed by both; consumer's file kept", base_data, t.data, text=False
        )
        return
    else:
        task = _MergeTask(path, _normalise(o.data), base_data or b"", t.data)
        plan.tasks.append((task, executable, renamed, base_data, t.data))
        return

    result = File(data, executable)
    plan.put(path, result)
    if renamed_from:
        plan.outcome(path, moved_status, renamed)
    elif result == o:
        plan.outcome(path, FileStatus.UNCHANGED)
    else:
        detail = "mode changed" if data == o.data else None
        plan.outcome(path, FileStatus.UPDATED, detail)
