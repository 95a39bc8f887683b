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
    Undefined,
    UndefinedError,
    nodes,
)
from jinja2.exceptions import SecurityError
from jinja2.ext import Extension
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["handle", "main", "make_dialect_env", "make_env"]

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


def _not_deterministic(name: str) -> Callable[..., Any]:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise SecurityError(
            f"{name} is not available: evobot renders deterministically (same inputs, same bytes)"
        )

    return refuse


def _to_yaml(value: Any, *_args: Any, **kw: Any) -> str:
    import yaml  # only templates written for copier use it

    flow = kw.pop("default_flow_style", None)
    return str(yaml.safe_dump(value, allow_unicode=True, default_flow_style=flow, **kw))


def _to_nice_yaml(value: Any, indent: int = 4, *_args: Any, **kw: Any) -> str:
    import yaml

    return str(
        yaml.safe_dump(value, indent=indent, allow_unicode=True, default_flow_style=False, **kw)
    )


def _to_nice_json(value: Any, indent: int = 4, sort_keys: bool = True, **kw: Any) -> str:
    return json.dumps(value, indent=indent, sort_keys=sort_keys, separators=(",", ": "), **kw)


def _ansible_bool(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        value = value.lower()
    return value in ("yes", "on", "1", "true", 1)


def _ternary(value: Any, true_val: Any, false_val: Any, none_val: Any = None) -> Any:
    if value is None and none_val is not None:
        return none_val
    return true_val if value else false_val


def _regex_replace(
    value: Any = "", pattern: str = "", replacement: str = "", ignorecase: bool = False
) -> str:
    import re

    return re.compile(pattern, flags=re.I if ignorecase else 0).sub(replacement, str(value))


def _regex_search(value: str, regex: str, *args: str, **kwargs: bool) -> Any:
    import re

    flags = (re.I if kwargs.get("ignorecase") else 0) | (re.M if kwargs.get("multiline") else 0)
    match = re.search(regex, value, flags)
    if not match:
        return None
    if not args:
        return match.group()
    items: list[Any] = []
    for arg in args:
        if arg.startswith("\\g<") and arg.endswith(">"):
            items.append(match.group(arg[3:-1]))
        elif arg.startswith("\\"):
            items.append(match.group(int(arg[1:])))
    return items


def _regex_findall(
    value: str, regex: str, multiline: bool = False, ignorecase: bool = False
) -> Any:
    import re

    flags = (re.I if ignorecase else 0) | (re.M if multiline else 0)
    return re.findall(regex, value, flags)


def _b64encode(value: str, encoding: str = "utf-8") -> str:
    import base64

    return base64.b64encode(value.encode(encoding)).decode("ascii")


def _b64decode(value: str, encoding: str = "utf-8") -> str:
    import base64

    return base64.b64decode(value.encode("utf-8")).decode(encoding)


def _from_yaml(value: Any) -> Any:
    import yaml

    return yaml.safe_load(value) if isinstance(value, str) else value


def _get_hash(value: Any, hashtype: str = "sha1") -> str:
    import hashlib

    return hashlib.new(hashtype, str(value).encode("utf-8")).hexdigest()


def _mandatory(value: Any, msg: str | None = None) -> Any:
    if isinstance(value, Undefined):
        raise UndefinedError(msg or "Mandatory variable not defined.")
    return value


def _combine(*terms: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
    recursive = bool(kwargs.get("recursive", False))

    def merge(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(a)
        for k, v in b.items():
            if recursive and isinstance(out.get(k), Mapping) and isinstance(v, Mapping):
                out[k] = merge(out[k], v)
            else:
                out[k] = v
        return out

    result: dict[str, Any] = {}
    for term in terms:
        for item in term if isinstance(term, list) else [term]:
            result = merge(result, item)
    return result


def _flatten(items: list[Any], levels: int | None = None) -> list[Any]:
    out: list[Any] = []
    for element in items:
        if element in (None, "None", "null"):
            break
        if isinstance(element, list | tuple):
            if levels is None:
                out.extend(_flatten(list(element)))
            elif levels >= 1:
                out.extend(_flatten(list(element), levels=levels - 1))
            else:
                out.append(element)
        else:
            out.append(element)
    return out


def _quote(value: Any) -> str:
    import shlex

    return shlex.quote(str(value))


def _basename(value: str) -> str:
    return os.path.basename(value)  # noqa: PTH119 - string semantics, as Ansible


def _dirname(value: str) -> str:
    return os.path.dirname(value)  # noqa: PTH120 - string semantics, as Ansible


def _splitext(value: str) -> tuple[str, str]:
    return os.path.splitext(value)  # noqa: PTH122 - string semantics, as Ansible


def _pathjoin(*parts: str, mode: str = "posix") -> str:
    import pathlib

    kinds = {"posix": pathlib.PurePosixPath, "windows": pathlib.PureWindowsPath}
    return str(kinds.get(mode, pathlib.PurePosixPath)(*parts))


def _jsonify(value: Any, indent: int = 4) -> str:
    return json.dumps(value, sort_keys=True, indent=indent)


def _slugify(value: Any, separator: str = "-", **_kw: Any) -> str:
    """python-slugify's result for ASCII text (the common case): lower case, words joined."""
    import re
    import unicodedata

    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[\'\"]+", "", text.lower())
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    text = re.sub(r"-{2,}", "-", text)
    return text.replace("-", separator) if separator != "-" else text


_COPIER_FILTERS: dict[str, Callable[..., Any]] = {
    "to_yaml": _to_yaml,
    "to_nice_yaml": _to_nice_yaml,
    "to_json": lambda v, *a, **kw: json.dumps(v, *a, **kw),
    "to_nice_json": _to_nice_json,
    "from_json": lambda v: json.loads(v),
    "from_yaml": _from_yaml,
    "bool": _ansible_bool,
    "ternary": _ternary,
    "regex_replace": _regex_replace,
    "regex_search": _regex_search,
    "regex_findall": _regex_findall,
    "b64encode": _b64encode,
    "b64decode": _b64decode,
    "hash": _get_hash,
    "checksum": _get_hash,
    "sha1": lambda v: _get_hash(v, "sha1"),
    "md5": lambda v: _get_hash(v, "md5"),
    "mandatory": _mandatory,
    "combine": _combine,
    "flatten": _flatten,
    "quote": _quote,
    "basename": _basename,
    "dirname": _dirname,
    "splitext": _splitext,
    "random": _not_deterministic("the random filter"),
    "shuffle": _not_deterministic("the shuffle filter"),
    "strftime": _not_deterministic("strftime"),
    "fileglob": _not_deterministic("fileglob (it reads the machine's files)"),
}


class _NowExtension(Extension):
    """cookiecutter's and jinja2-time's `{% now 'utc', '%Y' %}`, at a fixed instant.

    The instant is the template version's commit time (given by the parent), never the clock:
    the same template version and answers render the same bytes on every run.
    """

    tags = {"now"}  # noqa: RUF012 - the type Jinja declares

    def _at(self, timezone: str, operator: str, offset: str, fmt: str | None) -> str:
        import datetime
        import zoneinfo

        iso = getattr(self.environment, "evobot_now", None)
        if not iso:
            raise SecurityError(
                "{% now %} needs the template's commit time: render a template kept in git"
            )
        moment = datetime.datetime.fromisoformat(iso)
        zone = str(timezone).lower()
        tz = datetime.UTC if zone in ("utc", "local") else zoneinfo.ZoneInfo(str(timezone))
        moment = moment.astimezone(tz)
        if offset:
            units = {"weeks", "days", "hours", "minutes", "seconds", "microseconds"}
            shift: dict[str, float] = {}
            for param in offset.split(","):
                unit, _eq, value = param.partition("=")
                if unit.strip() not in units:
                    raise SecurityError(f"{{% now %}} offset {unit.strip()!r} is not supported")
                shift[unit.strip()] = float(operator + value.strip())
            moment += datetime.timedelta(**shift)
        return moment.strftime(fmt or "%Y-%m-%d")

    def parse(self, parser: Any) -> nodes.Output:
        lineno = next(parser.stream).lineno
        node = parser.parse_expression()
        fmt = parser.parse_expression() if parser.stream.skip_if("comma") else nodes.Const(None)
        if isinstance(node, nodes.Add | nodes.Sub):
            op = "+" if isinstance(node, nodes.Add) else "-"
            args = [node.left, nodes.Const(op), node.right, fmt]
        else:
            args = [node, nodes.Const("+"), nodes.Const(""), fmt]
        return nodes.Output([self.call_method("_at", args, lineno=lineno)], lineno=lineno)


def make_dialect_env(root: str | None, dialect: Mapping[str, Any]) -> SandboxedEnvironment:
    """The sandboxed environment for a copier or cookiecutter template.

    Their Jinja options (delimiters, whitespace, newline, lenient or strict undefined) and the
    filters their templates use (copier's Ansible filters, cookiecutter's `jsonify` and
    `slugify`), reimplemented here over plain data; nothing of copier or cookiecutter runs.
    """
    envops: dict[str, Any] = dict(dialect.get("envops") or {})
    envops.setdefault("keep_trailing_newline", True)
    env = HardenedSandbox(
        loader=FunctionLoader(_load_from(root)),
        undefined=StrictUndefined if dialect.get("undefined") == "strict" else Undefined,
        extensions=["jinja2.ext.loopcontrols", _NowExtension],
        **envops,
    )
    env.extend(evobot_now=dialect.get("now"))
    env.globals.pop("lipsum", None)
    if dialect.get("kind") == "copier":
        env.filters.update(_COPIER_FILTERS)
        env.globals["pathjoin"] = _pathjoin
    else:
        env.filters["jsonify"] = _jsonify
        env.filters["slugify"] = _slugify
        env.globals["random_ascii_string"] = _not_deterministic("random_ascii_string")
        env.globals["uuid4"] = _not_deterministic("uuid4")
    env.filters["random"] = _not_deterministic("the random filter")
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

    def __init__(self, root: str, dialect: Mapping[str, Any] | None = None) -> None:
        self.root = root
        self.dialect = dialect
        if dialect:
            # copier and cookiecutter let Jinja normalise line endings (newline_sequence).
            env = make_dialect_env(root, dialect)
            self.envs = {"\n": env, "\r\n": env}
        else:
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
        code_key = (name, newline if not self.dialect else json.dumps(self.dialect), source)
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


_COMPILED: dict[tuple[str, str], _Compiled] = {}
_MAX_ROOTS = 8


def _compiled(root: str, dialect: Mapping[str, Any] | None = None) -> _Compiled:
    key = (root, json.dumps(dialect, sort_keys=True) if dialect else "")
    if key not in _COMPILED:
        if len(_COMPILED) >= _MAX_ROOTS:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = _Compiled(root, dialect)
    return _COMPILED[key]


def _render(req: Mapping[str, Any], progress: Callable[[str], None]) -> dict[str, Any]:
    answers = req["answers"]
    compiled = _compiled(req["root"], req.get("dialect"))
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
_DIALECT_EVAL_ENV: dict[str, SandboxedEnvironment] = {}
_EVAL_CACHE: dict[tuple[str, str], Any] = {}


def _cached(key: tuple[str, str], build: Callable[[], Any]) -> Any:
    if key not in _EVAL_CACHE:
        if len(_EVAL_CACHE) > 1000:
            _EVAL_CACHE.clear()
        _EVAL_CACHE[key] = build()
    return _EVAL_CACHE[key]


def _eval(req: Mapping[str, Any]) -> dict[str, Any]:
    dialect = req.get("dialect")
    if dialect:
        key = json.dumps(dialect, sort_keys=True)
        if key not in _DIALECT_EVAL_ENV:
            _DIALECT_EVAL_ENV[key] = make_dialect_env(None, dialect)
        env = _DIALECT_EVAL_ENV[key]
    else:
        if not _EVAL_ENV:
            _EVAL_ENV.append(make_env(None))
        env = _EVAL_ENV[0]
    kind = req["kind"]
    source = req["source"]
    context = req.get("context", {})
    try:
        if kind == "template":
            value: Any = _cached(
                (f"template{id(env)}", source), lambda: env.from_string(source)
            ).render(context)
        else:
            expression = _cached(
                (f"expr{id(env)}", source),
                lambda: env.compile_expression(source, undefined_to_none=False),
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
