"""Sandboxed Jinja evaluation, run in a child process under CPU and memory limits.

Imports only the standard library and Jinja2 so it starts fast. Requests and answers are JSON
lines on stdin/stdout; before each file the worker reports which one it is on, so the parent can
name it when a limit kills the process. The same functions serve trusted in-process rendering.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from jinja2 import (
    FunctionLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["handle", "main", "make_env"]

# Longest str/list one `*` may build: a template wanting more is not a template.
MAX_REPEAT_LEN = 50_000_000
# Largest result of `**`, in bits.
MAX_POWER_BITS = 100_000


class _SourceError(Exception):
    """A template file that cannot be loaded: not UTF-8, outside the root, not a file."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


class HardenedSandbox(SandboxedEnvironment):
    """Jinja's sandbox, also refusing `*` and `**` results too large to be meant."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | bytes | list | tuple)
                    and isinstance(n, int)
                    and len(seq) * n > MAX_REPEAT_LEN
                ):
                    raise SecurityError(f"`*` would build {len(seq) * n:,} items (limit exceeded)")
        if (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and right > 0
            and abs(left).bit_length() * right > MAX_POWER_BITS
        ):
            raise SecurityError("`**` result too large (limit exceeded)")
        return super().call_binop(context, operator, left, right)


def _load_from(root: str | None) -> Callable[[str], tuple[str, str, Callable[[], bool]]]:
    real_root = os.path.realpath(root) if root else None

    def load(name: str) -> tuple[str, str, Callable[[], bool]]:
        if real_root is None:
            raise TemplateNotFound(name)
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or "\0" in name or ".." in parts:
            raise TemplateNotFound(name)
        full = Path(real_root, *parts).resolve()
        if not full.is_relative_to(real_root) or not full.is_file():
            raise TemplateNotFound(name)
        data = full.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise _SourceError(
                name, f"not UTF-8 text (line {line}, byte offset {exc.start})"
            ) from None
        return text, name, lambda: True

    return load


def make_env(
    root: str | None = None, *, newline: Literal["\n", "\r\n"] = "\n"
) -> SandboxedEnvironment:
    """The one Jinja environment evobot renders with: sandboxed, strict, no autoescape.

    Without Jinja's random helpers (`lipsum`, the `random` filter): output must be a function
    of the template and the answers alone.
    """
    env = HardenedSandbox(
        loader=FunctionLoader(_load_from(root)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        newline_sequence=newline,
        extensions=["jinja2.ext.loopcontrols"],
    )
    env.globals.pop("lipsum", None)
    env.filters.pop("random", None)
    return env


def _template_line(tb: types.TracebackType | None, filename: str | None) -> int | None:
    line = None
    while tb is not None:
        if filename is not None and tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _error(kind: str, file: str | None, message: str, line: int | None = None) -> dict[str, Any]:
    return {"ok": False, "error": {"kind": kind, "file": file, "line": line, "message": message}}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


_CODE: dict[tuple[str, str, str], types.CodeType] = {}
_MAX_CODE = 2000


class _Compiled:
    """Templates of one template root, reused while their files are unchanged.

    A worker serving many renders compiles each distinct source once: the code is cached by
    content, so a fresh checkout of the same version (a rollout) compiles nothing again.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self.envs = {"\n": make_env(root), "\r\n": make_env(root, newline="\r\n")}
        self.templates: dict[tuple[str, int, int], Template] = {}

    def get(self, name: str) -> Template:
        try:
            st = (Path(self.root) / name).stat()
            key: tuple[str, int, int] | None = (name, st.st_mtime_ns, st.st_size)
        except OSError:
            key = None
        if key is not None and key in self.templates:
            return self.templates[key]
        source = _source_of(self.envs["\n"], name)
        # Keep a CRLF template's line endings: Jinja would normalise them to LF.
        newline = "\r\n" if "\r\n" in source else "\n"
        chosen = self.envs[newline]
        code_key = (name, newline, source)
        code = _CODE.get(code_key)
        if code is None:
            code = chosen.compile(source, name, name)
            if len(_CODE) >= _MAX_CODE:
                _CODE.clear()
            _CODE[code_key] = code
        template = chosen.template_class.from_code(chosen, code, chosen.make_globals(None))
        if key is not None:
            self.templates[key] = template
        return template


_COMPILED: dict[str, _Compiled] = {}
_MAX_ROOTS = 8


def _compiled(root: str) -> _Compiled:
    if root not in _COMPILED:
        if len(_COMPILED) >= _MAX_ROOTS:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[root] = _Compiled(root)
    return _COMPILED[root]


def _render(req: Mapping[str, Any], progress: Callable[[str], None]) -> dict[str, Any]:
    answers = req["answers"]
    compiled = _compiled(req["root"])
    env = compiled.envs["\n"]
    names: dict[str, str] = {}
    files: dict[str, str] = {}
    for path, part in req.get("names", []):
        progress(path)
        try:
            names[part] = env.from_string(part).render(answers)
        except TemplateSyntaxError as exc:
            return _error("syntax", path, f"in the name {part!r}: {exc.message}")
        except Exception as exc:  # reported to the parent, which raises RenderError
            return _classify(exc, path, None)
    for name in req.get("files", []):
        progress(name)
        try:
            files[name] = compiled.get(name).render(answers)
        except TemplateSyntaxError as exc:
            where = exc.filename or exc.name or name
            return _error("syntax", where, exc.message or str(exc), exc.lineno)
        except _SourceError as exc:
            return _error("encoding", exc.name, exc.message)
        except Exception as exc:  # reported to the parent, which raises RenderError
            return _classify(exc, name, exc.__traceback__)
    return {"ok": True, "names": names, "files": files}


def _source_of(env: SandboxedEnvironment, name: str) -> str:
    assert env.loader is not None
    source, _filename, _uptodate = env.loader.get_source(env, name)
    return source


def _classify(
    exc: BaseException, file: str | None, tb: types.TracebackType | None
) -> dict[str, Any]:
    # Jinja rewrites tracebacks so that template frames carry the template's file name (our
    # loader uses the relative path) and line: the innermost such frame is where it failed.
    line = None
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            filename = tb.tb_frame.f_code.co_filename
            if not filename.startswith("<"):
                file = filename
            line = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(exc, SecurityError):
        return _error("security", file, f"sandbox violation: {exc}", line)
    if isinstance(exc, UndefinedError):
        return _error("undefined", file, str(exc.message or exc), line)
    if isinstance(exc, _SourceError):
        return _error("encoding", exc.name, exc.message)
    if isinstance(exc, TemplateNotFound):
        return _error("error", file, f"template not found: {exc.name}", line)
    if isinstance(exc, MemoryError):
        return _error("memory", file, "ran out of memory (memory limit)", line)
    if isinstance(exc, RecursionError):
        return _error("recursion", file, "recursion too deep", line)
    if isinstance(exc, TemplateError):
        return _error("error", file, str(exc.message or exc), line)
    return _error("error", file, f"{type(exc).__name__}: {exc}", line)


_EVAL_ENV: list[SandboxedEnvironment] = []
_EVAL_CACHE: dict[tuple[str, str], Any] = {}


def _cached(key: tuple[str, str], build: Callable[[], Any]) -> Any:
    if key not in _EVAL_CACHE:
        if len(_EVAL_CACHE) > 1000:
            _EVAL_CACHE.clear()
        _EVAL_CACHE[key] = build()
    return _EVAL_CACHE[key]


def _eval(req: Mapping[str, Any]) -> dict[str, Any]:
    if not _EVAL_ENV:
        _EVAL_ENV.append(make_env(None))
    env = _EVAL_ENV[0]
    kind = req["kind"]
    source = req["source"]
    context = req.get("context", {})
    try:
        if kind == "template":
            value: Any = _cached(("template", source), lambda: env.from_string(source)).render(
                context
            )
        else:
            expression = _cached(
                ("expr", source), lambda: env.compile_expression(source, undefined_to_none=False)
            )
            value = expression(**context)
            if kind == "test":
                value = bool(value)
        return {"ok": True, "value": _jsonable(value)}
    except TemplateSyntaxError as exc:
        return _error("syntax", None, exc.message or str(exc), exc.lineno)
    except Exception as exc:  # reported to the parent, which raises an error for people
        return _classify(exc, None, None)


def handle(req: Mapping[str, Any], progress: Callable[[str], None]) -> dict[str, Any]:
    """Answer one request: ``{"op": "render", ...}`` or ``{"op": "eval", ...}``."""
    try:
        if req.get("op") == "render":
            return _render(req, progress)
        if req.get("op") == "eval":
            return _eval(req)
        return _error("error", None, f"unknown request {req.get('op')!r}")
    except MemoryError:
        return _error("memory", None, "ran out of memory (memory limit)")
    except RecursionError:
        return _error("recursion", None, "recursion too deep")


def _set_memory_limit(memory_bytes: int) -> None:
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _set_cpu_budget(seconds: float) -> None:
    """Allow ``seconds`` more CPU time from now (the worker may serve many requests)."""
    if seconds <= 0:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds) + 1
    _old_soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def main(argv: list[str]) -> int:
    """Serve requests from stdin until it closes; argv: the memory limit in bytes."""
    _set_memory_limit(int(argv[0]))
    out = sys.stdout

    def progress(name: str) -> None:
        out.write(json.dumps({"at": name}) + "\n")
        out.flush()

    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        _set_cpu_budget(float(request.get("cpu_s", 0)))
        response = handle(request, progress)
        response["done"] = True
        out.write(json.dumps(response) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
