"""Rendering: a resolved template and its answers become an in-memory tree, deterministically.

Names of files and directories are rendered part by part and confined to the output root;
`.jinja` files are rendered (suffix dropped) and everything else is copied byte for byte, with
the executable bit kept. All Jinja runs in the bounded sandbox; nothing touches the output disk.
"""

from __future__ import annotations

import json
import os
import stat
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from bot.consumer import CONFIG_NAME
from bot.errors import RenderError
from bot.globs import matches_any
from bot.template.manifest import Manifest
from bot.template.sandbox import RenderLimits, Sandbox, SandboxFailure, using_sandbox
from bot.template.source import ResolvedTemplate
from bot.tree import File, Tree, refuse_git_dir, safe_relpath

__all__ = ["JINJA_SUFFIX", "render_template"]

JINJA_SUFFIX = ".jinja"


@dataclass(frozen=True)
class _Entry:
    """One template file: its path under files_dir, its location on disk, its mode."""

    rel: str
    path: Path
    executable: bool

    @property
    def is_jinja(self) -> bool:
        return self.rel.endswith(JINJA_SUFFIX)


def _has_jinja(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _walk(template_root: Path, files_root: Path, exclude: list[str]) -> Iterator[_Entry]:
    real_root = os.path.realpath(template_root)
    label = files_root.relative_to(template_root).as_posix()

    def walk(
        directory: Path, rel_parts: tuple[str, ...], visited: frozenset[str]
    ) -> Iterator[_Entry]:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            parts = (*rel_parts, entry.name)
            rel = "/".join(parts)
            if matches_any(exclude, rel):
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                target = os.path.realpath(path)
                if not _inside(target, real_root):
                    raise RenderError(
                        f"{label}/{rel}: symlink points outside the template; refusing to follow it"
                    )
                if not Path(target).exists():
                    raise RenderError(f"{label}/{rel}: broken symlink")
            if entry.is_dir():
                real = os.path.realpath(path)
                if real in visited:
                    raise RenderError(f"{label}/{rel}: symlink loop")
                yield from walk(path, parts, visited | {real})
            elif entry.is_file():
                mode = path.stat().st_mode
                yield _Entry(rel, path, bool(mode & stat.S_IXUSR))

    yield from walk(files_root, (), frozenset({os.path.realpath(files_root)}))


def _check_part(part: str, source: str) -> None:
    if "/" in part or "\\" in part or "\0" in part:
        raise RenderError(
            f"{source}: a name renders to {part!r}, which contains a path separator or NUL"
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in part):
        raise RenderError(
            f"{source}: a name renders to {part!r}, which contains a control character"
        )
    if part in ("..", ".") or PurePosixPath(part).is_absolute():
        raise RenderError(f"{source}: a name renders to {part!r}, which would leave its directory")


def _answers_json(answers: Mapping[str, Any]) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(json.dumps(dict(answers), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise RenderError(
            f"answers must be plain data (str, numbers, bools, lists): {exc}"
        ) from None
    return data


def render_template(
    template: ResolvedTemplate,
    answers: Mapping[str, Any],
    *,
    limits: RenderLimits | None = None,
    sandbox: Sandbox | None = None,
) -> Tree:
    """Render ``template`` with ``answers`` into a tree, or raise RenderError with nothing made.

    Excluded paths are dropped; skip-if-exists paths are included (the caller decides); the tree
    never holds `.evobot.yml`. Pass an open ``sandbox`` to reuse one worker process across
    calls (its limits then apply; ``limits`` is ignored).
    """
    manifest = template.manifest
    if manifest.dialect is not None:
        from bot.template.render_dialect import render_dialect

        return render_dialect(template, answers, limits=limits, sandbox=sandbox)
    root = template.root
    files_root = root / manifest.files_dir
    if not files_root.is_dir():
        raise RenderError(
            f"{root / 'template.yml'}: files_dir {manifest.files_dir!r} is not a directory"
        )
    if not _inside(os.path.realpath(files_root), os.path.realpath(root)):
        raise RenderError(f"{root}: files_dir {manifest.files_dir!r} leaves the template")
    entries = list(_walk(root, files_root, manifest.exclude))

    def name_parts(entry: _Entry) -> list[str]:
        parts = entry.rel.split("/")
        if entry.is_jinja:
            parts[-1] = parts[-1][: -len(JINJA_SUFFIX)]
        return parts

    to_render: dict[str, str] = {}
    for entry in entries:
        for part in name_parts(entry):
            if _has_jinja(part) and part not in to_render:
                to_render[part] = f"{manifest.files_dir}/{entry.rel}"
    answers_data = _answers_json(answers)
    try:
        with using_sandbox(sandbox, limits) as box:

            def request(names: list[list[str]], files: list[str]) -> dict[str, Any]:
                if not names and not files:
                    return {"names": {}, "files": {}}  # no Jinja to run: no worker needed
                return box.request(
                    {
                        "op": "render",
                        "root": str(root),
                        "answers": answers_data,
                        "names": names,
                        "files": files,
                    }
                )

            # Names first: a file under a name rendering empty, or excluded, is never rendered.
            names = [[path, part] for part, path in to_render.items()]
            rendered_names: dict[str, str] = request(names, [])["names"]
            planned = _plan(entries, name_parts, rendered_names, manifest)
            jinja_files = [source for _out, source, entry in planned if entry.is_jinja]
            rendered_files: dict[str, str] = request([], jinja_files)["files"]
    except SandboxFailure as exc:
        raise RenderError(f"cannot render the template: {exc.message}") from None

    tree: Tree = {}
    for out, source, entry in planned:
        if entry.is_jinja:
            try:
                data = rendered_files[source].encode("utf-8")
            except UnicodeEncodeError as exc:
                raise RenderError(f"{source}: renders invalid UTF-8 text: {exc}") from None
        else:
            data = entry.path.read_bytes()
        tree[out] = File(data, entry.executable)
    _check_no_file_dir_clash(tree)
    if not manifest.allow_case_collisions:
        _check_no_case_collision({out: source for out, source, _entry in planned})
    return dict(sorted(tree.items()))


def _plan(
    entries: list[_Entry],
    name_parts: Callable[[_Entry], list[str]],
    rendered_names: Mapping[str, str],
    manifest: Manifest,
) -> list[tuple[str, str, _Entry]]:
    """(output path, template path, entry) for every file that will be in the output."""
    planned: list[tuple[str, str, _Entry]] = []
    origin: dict[str, str] = {}
    for entry in entries:
        source = f"{manifest.files_dir}/{entry.rel}"
        parts = [rendered_names.get(p, p) for p in name_parts(entry)]
        if any(p == "" for p in parts):
            continue  # a name rendering empty skips the file (or the directory holding it)
        for part in parts:
            _check_part(part, source)
        out = safe_relpath("/".join(parts))
        if matches_any(manifest.exclude, out):
            continue
        refuse_git_dir(out, source=source)
        if out == CONFIG_NAME:
            raise RenderError(f"{source}: a template may not produce {CONFIG_NAME}")
        if out in origin:
            raise RenderError(f"{source} and {origin[out]} both render to {out}")
        origin[out] = source
        planned.append((out, source, entry))
    return planned


def _check_no_file_dir_clash(tree: Tree) -> None:
    dirs = {"/".join(p.split("/")[:n]) for p in tree for n in range(1, p.count("/") + 1)}
    clash = sorted(dirs & tree.keys())
    if clash:
        raise RenderError(f"{clash[0]}: rendered both as a file and as a directory")


def _fold_char(c: str) -> str:
    # Simple (one-to-one) case folding, as NTFS and APFS compare: `ß` stays apart from `ss`.
    for folded in (c.casefold(), c.lower()):
        if len(folded) == 1:
            return folded
    return c


def _folded(name: str) -> str:
    """``name`` as a case-insensitive, normalisation-insensitive file system compares it."""
    decomposed = unicodedata.normalize("NFD", name)
    return unicodedata.normalize("NFC", "".join(_fold_char(c) for c in decomposed))


def _check_no_case_collision(sources: Mapping[str, str]) -> None:
    """Refuse two paths (files or directories) that macOS and Windows would see as one.

    ``sources`` maps each output path to the template file it came from, for the message.
    """
    seen: dict[str, str] = {}
    for out in sorted(sources):
        parts = out.split("/")
        for n in range(1, len(parts) + 1):
            name = "/".join(parts[:n])
            first = seen.setdefault(_folded(name), name)
            if first == name:
                continue
            holder = next(p for p in sorted(sources) if p == first or p.startswith(first + "/"))
            raise RenderError(
                f"{sources[holder]} renders to {holder}, and {sources[out]} to {out}: "
                f"the names {first!r} and {name!r} differ only in letter case or Unicode "
                "normalisation, so they are one path on macOS and Windows checkouts",
                hint="rename one of them, or set `allow_case_collisions: true` in template.yml "
                "if every consumer is checked out on a case-sensitive file system",
            )
