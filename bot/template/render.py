"""Rendering: a resolved template and its answers become an in-memory tree, deterministically.

Names of files and directories are rendered part by part and confined to the output root;
`.jinja` files are rendered (suffix dropped) and everything else is copied byte for byte, with
the executable bit kept. All Jinja runs in the bounded sandbox; nothing touches the output disk.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from bot.consumer import CONFIG_NAME
from bot.errors import RenderError
from bot.globs import matches_any
from bot.template.manifest import Manifest
from bot.template.render_checks import (
    JINJA_SUFFIX,
    Entry,
    answers_json,
    check_no_case_collision,
    check_no_file_dir_clash,
    check_part,
    has_jinja,
    inside,
    walk_template,
)
from bot.template.render_dialect import render_dialect
from bot.template.sandbox import RenderLimits, Sandbox, SandboxFailure, using_sandbox
from bot.template.source import ResolvedTemplate
from bot.tree import File, Tree, refuse_git_dir, safe_relpath

__all__ = ["JINJA_SUFFIX", "render_template"]


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
        return render_dialect(template, answers, limits=limits, sandbox=sandbox)
    root = template.root
    files_root = root / manifest.files_dir
    if not files_root.is_dir():
        raise RenderError(
            f"{root / 'template.yml'}: files_dir {manifest.files_dir!r} is not a directory"
        )
    if not inside(os.path.realpath(files_root), os.path.realpath(root)):
        raise RenderError(f"{root}: files_dir {manifest.files_dir!r} leaves the template")
    entries = list(walk_template(root, files_root, manifest.exclude))

    def name_parts(entry: Entry) -> list[str]:
        parts = entry.rel.split("/")
        if entry.is_jinja:
            parts[-1] = parts[-1][: -len(JINJA_SUFFIX)]
        return parts

    to_render: dict[str, str] = {}
    for entry in entries:
        for part in name_parts(entry):
            if has_jinja(part) and part not in to_render:
                to_render[part] = f"{manifest.files_dir}/{entry.rel}"
    answers_data = answers_json(answers)
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
    check_no_file_dir_clash(tree)
    if not manifest.allow_case_collisions:
        check_no_case_collision({out: source for out, source, _entry in planned})
    return dict(sorted(tree.items()))


def _plan(
    entries: list[Entry],
    name_parts: Callable[[Entry], list[str]],
    rendered_names: Mapping[str, str],
    manifest: Manifest,
) -> list[tuple[str, str, Entry]]:
    """(output path, template path, entry) for every file that will be in the output."""
    planned: list[tuple[str, str, Entry]] = []
    origin: dict[str, str] = {}
    for entry in entries:
        source = f"{manifest.files_dir}/{entry.rel}"
        parts = [rendered_names.get(p, p) for p in name_parts(entry)]
        if any(p == "" for p in parts):
            continue  # a name rendering empty skips the file (or the directory holding it)
        for part in parts:
            check_part(part, source)
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
