"""Rendering a copier or cookiecutter template into a tree, byte for byte as those tools would.

The same sandboxed worker and the same path checks as evobot's own templates (names confined to
the output root, never into `.git`, no case collisions); only the rules differ: copier's
templates suffix, gitignore-style exclusions matched on rendered paths, conditional names and
its `_copier_conf`/`_copier_answers` variables; cookiecutter's `{{ cookiecutter.x }}` context,
its project directory, `_copy_without_render` and its newline handling.
"""

from __future__ import annotations

import fnmatch
import unicodedata
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from bot.consumer import CONFIG_NAME
from bot.errors import RenderError
from bot.globs import path_matches
from bot.template.copier import hidden_questions, render_string
from bot.template.dialect import Dialect
from bot.template.render_checks import (
    Entry,
    answers_json,
    check_no_case_collision,
    check_no_file_dir_clash,
    check_part,
    walk_template,
)
from bot.template.sandbox import RenderLimits, Sandbox, SandboxFailure, using_sandbox
from bot.tree import File, Tree, is_binary, refuse_git_dir, safe_relpath

if TYPE_CHECKING:
    from bot.template.source import ResolvedTemplate

__all__ = ["cookiecutter_context", "copier_context", "render_dialect"]


def copier_context(
    template: ResolvedTemplate, values: Mapping[str, Any], box: Sandbox
) -> dict[str, Any]:
    """What a copier template sees: the answers, `_copier_answers` and `_copier_conf`."""
    dialect = template.manifest.dialect
    assert dialect is not None
    hidden = hidden_questions(box, dialect, values)
    remembered: dict[str, Any] = {}
    if template.describe:
        remembered["_commit"] = template.describe
    remembered["_src_path"] = template.source
    for name in dialect.questions:
        if name in values and name not in hidden:
            remembered[name] = values[name]
    conf: dict[str, Any] = {
        "answers_file": dialect.answers_file,
        "src_path": template.source,
        "dst_path": ".",
        "vcs_ref": template.ref,
        "vcs_ref_hash": template.commit if template.is_git else None,
        "sep": "/",
        "os": "linux",
        "data": {},
        "defaults": True,
        "overwrite": True,
        "pretend": False,
        "quiet": True,
        "unsafe": False,
        "skip_tasks": True,
    }
    return {
        **values,
        "_copier_answers": remembered,
        "_copier_conf": conf,
        "_copier_phase": "render",
    }


def cookiecutter_context(template: ResolvedTemplate, values: Mapping[str, Any]) -> dict[str, Any]:
    """What a cookiecutter template sees: ``{"cookiecutter": {...}}``, as cookiecutter builds it."""
    inner = dict(values)
    inner.setdefault("_template", template.source)
    return {"cookiecutter": inner}


def _excluded(patterns: list[str], path: str) -> bool:
    """gitignore semantics as copier applies them: the last matching pattern decides."""
    result = False
    path = unicodedata.normalize("NFD", path)
    for raw in patterns:
        pattern = unicodedata.normalize("NFD", raw.strip())
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        if negate:
            pattern = pattern[1:]
        if pattern.strip("/") and "\\" not in pattern and path_matches(pattern, path):
            result = not negate
    return result


def _request(
    box: Sandbox,
    template: ResolvedTemplate,
    dialect: Dialect,
    context: Mapping[str, Any],
    names: list[list[str]],
    files: list[str],
) -> dict[str, Any]:
    if not names and not files:
        return {"names": {}, "files": {}}
    return box.request(
        {
            "op": "render",
            "root": str(template.root),
            "answers": dict(context),
            "names": names,
            "files": files,
            "dialect": dialect.worker_options(),
        }
    )


def _source(template: ResolvedTemplate, entry: Entry) -> str:
    files_dir = template.manifest.files_dir
    return entry.rel if files_dir == "." else f"{files_dir}/{entry.rel}"


def _finish(tree: Tree, origins: Mapping[str, str], template: ResolvedTemplate) -> Tree:
    check_no_file_dir_clash(tree)
    if not template.manifest.allow_case_collisions:
        check_no_case_collision(origins)
    return dict(sorted(tree.items()))


def _place(out_parts: list[str], source: str, origins: dict[str, str]) -> str:
    for part in out_parts:
        check_part(part, source)
    out = safe_relpath("/".join(out_parts))
    refuse_git_dir(out, source=source)
    if out == CONFIG_NAME:
        raise RenderError(f"{source}: a template may not produce {CONFIG_NAME}")
    if out in origins:
        raise RenderError(f"{source} and {origins[out]} both render to {out}")
    origins[out] = source
    return out


def _render_copier(template: ResolvedTemplate, dialect: Dialect, values: Any, box: Sandbox) -> Tree:
    root = template.root
    files_root = root / template.manifest.files_dir
    if not files_root.is_dir():
        raise RenderError(f"{root / dialect.config_file}: _subdirectory is not a directory")
    context = answers_json(copier_context(template, values, box))
    entries = list(walk_template(root, files_root, []))
    present = {e.rel for e in entries}
    suffix = dialect.templates_suffix
    patterns: list[str] = []
    for pattern in dialect.exclude:
        patterns.extend(render_string(box, dialect, pattern, context).splitlines())
    answers_file = render_string(box, dialect, dialect.answers_file, context)
    delimiters = dialect.delimiters

    planned: list[tuple[Entry, list[str], bool]] = []
    to_render: dict[str, str] = {}
    for entry in entries:
        is_template = entry.rel.endswith(suffix)
        if suffix and not is_template and entry.rel + suffix in present:
            continue  # the templated sibling wins, as in copier
        rel = entry.rel
        if suffix and is_template:
            rel = PurePosixPath(rel).with_suffix("").as_posix()
        parts = rel.split("/")
        for part in parts:
            if any(d in part for d in delimiters):  # plain names render to themselves
                to_render.setdefault(part, _source(template, entry))
        planned.append((entry, parts, is_template))
    names = [[path, part] for part, path in to_render.items()]
    rendered_names: dict[str, str] = _request(box, template, dialect, context, names, [])["names"]

    origins: dict[str, str] = {}
    outputs: list[tuple[str, Entry, bool]] = []
    for entry, parts, is_template in planned:
        source = _source(template, entry)
        out_parts: list[str] = []
        for part in parts:
            rendered = rendered_names.get(part, part)
            if rendered == answers_file:
                out_parts = answers_file.split("/")
                break
            if rendered == "":
                out_parts = []
                break
            out_parts.append(rendered)
        if not out_parts:
            continue
        if _excluded(patterns, "/".join(out_parts)):
            continue
        outputs.append((_place(out_parts, source, origins), entry, is_template))

    jinja_files: list[str] = []
    for _out, entry, is_template in outputs:
        if not is_template:
            continue
        if not suffix:  # every file is a template, unless it is not text
            try:
                entry.path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                continue
        jinja_files.append(_source(template, entry))
    rendered_files: dict[str, str] = _request(box, template, dialect, context, [], jinja_files)[
        "files"
    ]
    tree: Tree = {}
    for out, entry, _is_template in outputs:
        source = _source(template, entry)
        if source in rendered_files:
            data = rendered_files[source].encode("utf-8", errors="surrogateescape")
        else:
            data = entry.path.read_bytes()
        tree[out] = File(data, entry.executable)
    return _finish(tree, origins, template)


def _first_newline(data: bytes) -> str:
    """The newline of a file's first line, as Python's universal newlines reads it."""
    for i, byte in enumerate(data):
        if byte == 0x0A:
            return "\n"
        if byte == 0x0D:
            return "\r\n" if data[i + 1 : i + 2] == b"\n" else "\r"
    return "\n"


def _copy_only(patterns: tuple[str, ...], rel: str) -> bool:
    return any(fnmatch.fnmatch(rel, p) for p in patterns)


def _render_cookiecutter(
    template: ResolvedTemplate, dialect: Dialect, values: Any, box: Sandbox
) -> Tree:
    root = template.root
    files_root = root / dialect.project_dir
    context = answers_json(cookiecutter_context(template, values))
    entries = list(walk_template(root, files_root, []))
    patterns = dialect.copy_without_render
    to_render: dict[str, str] = {}
    planned: list[tuple[Entry, list[str], bool]] = []
    for entry in entries:
        parts = entry.rel.split("/")
        # A directory matching `_copy_without_render` is copied whole: its name is rendered,
        # the names inside it are not.
        copy_dir = next(
            (n for n in range(1, len(parts)) if _copy_only(patterns, "/".join(parts[:n]))), None
        )
        if copy_dir is not None:
            head = "/".join(parts[:copy_dir])
            if any(d in head for d in dialect.delimiters):
                to_render.setdefault(head, _source(template, entry))
            planned.append((entry, [head, *parts[copy_dir:]], False))
            continue
        for part in parts:
            if any(d in part for d in dialect.delimiters):
                to_render.setdefault(part, _source(template, entry))
        render = not _copy_only(patterns, entry.rel)
        planned.append((entry, parts, render))
    names = [[path, part] for part, path in to_render.items()]
    rendered_names: dict[str, str] = _request(box, template, dialect, context, names, [])["names"]
    origins: dict[str, str] = {}
    outputs: list[tuple[str, Entry, bool]] = []
    for entry, parts, render in planned:
        out_parts: list[str] = []
        for n, part in enumerate(parts):
            rendered = rendered_names.get(part, part)
            out_parts.extend(rendered.split("/") if n == 0 and "/" in rendered else [rendered])
        if any(p == "" for p in out_parts):
            continue  # a name rendering empty makes no file
        data = entry.path.read_bytes()
        if render and is_binary(data[:1024]):
            render = False
        if render:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                render = False
        outputs.append((_place(out_parts, _source(template, entry), origins), entry, render))
    jinja_files = [_source(template, e) for _out, e, render in outputs if render]
    rendered_files: dict[str, str] = _request(box, template, dialect, context, [], jinja_files)[
        "files"
    ]
    new_lines = context["cookiecutter"].get("_new_lines")
    tree: Tree = {}
    for out, entry, render in outputs:
        data = entry.path.read_bytes()
        if render:
            text = rendered_files[_source(template, entry)]
            newline = new_lines if isinstance(new_lines, str) else _first_newline(data)
            if newline != "\n":
                text = text.replace("\n", newline)
            data = text.encode("utf-8")
        tree[out] = File(data, entry.executable)
    return _finish(tree, origins, template)


def render_dialect(
    template: ResolvedTemplate,
    answers: Mapping[str, Any],
    *,
    limits: RenderLimits | None = None,
    sandbox: Sandbox | None = None,
) -> Tree:
    """Render a copier or cookiecutter template (``template.manifest.dialect`` is set)."""
    dialect = template.manifest.dialect
    assert dialect is not None
    try:
        with using_sandbox(sandbox, limits) as box:
            if dialect.kind == "copier":
                return _render_copier(template, dialect, answers, box)
            return _render_cookiecutter(template, dialect, answers, box)
    except SandboxFailure as exc:
        raise RenderError(f"cannot render the template: {exc.message}") from None
