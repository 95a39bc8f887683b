"""The validator: syntax, AST rules, import resolution, security patterns, optional mypy, and
YAML/JSON/TOML parsing, in that order; a file that does not parse gets no further findings.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import ClassVar

import yaml
from pydantic import Field

from bot.checks._projects import (
    Projects,
    import_names_for,
    installed_top_levels_digest,
    parse_projects,
)
from bot.checks.base import CheckContext, Checker, Finding, Severity
from bot.checks.limits import (
    memory_ceiling,
    not_analysed_for_target,
    out_of_memory,
    split_by_size,
)
from bot.checks.options import CheckerOptions, SubprocessOptions
from bot.errors import CheckError
from bot.tree import File, write_tree

__all__ = [
    "ValidatorChecker",
    "ValidatorOptions",
    "clear_parse_memo",
    "import_names_for",
]

_DATA_SUFFIXES = (".yaml", ".yml", ".json", ".toml")
# JSON dialects that allow comments; they are not meant for a strict JSON parser.
_JSONC_NAMES = ("tsconfig.json", "jsconfig.json", "devcontainer.json", ".eslintrc.json")

# Packages that well-known distributions always install: importing them without declaring them
# works, but only as long as the declaring package keeps depending on them (a low finding).
_ALWAYS_BRINGS: dict[str, tuple[str, ...]] = {
    "fastapi": ("starlette", "pydantic", "pydantic_core", "anyio", "typing_extensions"),
    "pydantic": ("pydantic_core", "typing_extensions", "annotated_types"),
    "pydantic_settings": ("pydantic", "dotenv"),
    "uvicorn": ("h11", "click"),
    "httpx": ("httpcore", "anyio", "idna", "certifi", "sniffio"),
    "requests": ("urllib3", "idna", "certifi", "charset_normalizer"),
    "flask": ("werkzeug", "jinja2", "itsdangerous", "click", "markupsafe", "blinker"),
    "jinja2": ("markupsafe",),
    "sqlalchemy": ("greenlet", "typing_extensions"),
    "alembic": ("sqlalchemy", "mako"),
    "starlette": ("anyio",),
    "typer": ("click", "rich", "typing_extensions"),
    "celery": ("kombu", "billiard", "vine", "click"),
    "github": ("requests", "urllib3", "jwt", "nacl"),
    "sphinx": (
        "docutils",
        "pygments",
        "jinja2",
        "babel",
        "alabaster",
        "imagesize",
        "snowballstemmer",
    ),
    "mkdocs": ("jinja2", "markdown", "yaml", "click", "markupsafe", "watchdog", "pathspec"),
    "pytest": ("pluggy", "iniconfig", "packaging", "_pytest"),
    "scrapy": ("twisted", "lxml", "parsel", "w3lib", "zope", "itemadapter", "cryptography"),
    "black": ("click", "mypy_extensions", "pathspec", "platformdirs", "packaging"),
    "sqlmodel": ("sqlalchemy", "pydantic"),
    "mypy": ("mypy_extensions", "typing_extensions"),
    "kombu": ("amqp", "vine"),
    "eventlet": ("greenlet", "dns"),
    "gevent": ("greenlet",),
    "pymongo": ("bson", "gridfs", "dns"),
    "boto3": ("botocore", "s3transfer", "jmespath"),
}

_TEST_PARTS = ("tests", "test", "testing")
# The test runner runs test code, so it is importable there whether or not it is declared.
_TEST_RUNNER = frozenset({"pytest", "_pytest"})
# Standard-library modules of Pythons newer than the one evobot may run on
# (`sys.stdlib_module_names` is the running interpreter's).
_NEWER_STDLIB = frozenset({"tomllib", "annotationlib", "compression", "_colorize", "_pyrepl"})
_VERSION_OR_PLATFORM = re.compile(r"\bsys\.(?:version_info|platform)\b|\bos\.name\b|PY3\d")
_SAFE_YAML_LOADERS = ("SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader")


def _is_test_path(path: str) -> bool:
    parts = PurePosixPath(path).parts
    name = parts[-1]
    return (
        any(p in _TEST_PARTS for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


@dataclass(frozen=True)
class _Import:
    line: int
    level: int
    module: str  # dotted, may be "" for `from . import x`
    names: tuple[str, ...]  # for `from m import a, b`
    guarded: bool  # inside try/except ImportError or `if TYPE_CHECKING`
    nested: bool = False  # inside a function body, run only when it is called


@dataclass(frozen=True)
class _TreeFacts:
    """What the import stage reads from the rest of the tree, computed once per tree."""

    projects: Projects  # per project: declared dependencies, target Python
    top_level: frozenset[str]  # importable top-level names of the tree's own modules
    files: frozenset[str]  # every path (for relative imports and sibling modules)
    dirs: frozenset[str]
    # Modules and packages anywhere under a test directory: tests put their fixture apps on
    # `sys.path` (`tests/test_apps/blueprintapp`), so test code may import them by name.
    test_modules: frozenset[str] = frozenset()

    def declared(self, path: str) -> frozenset[str]:
        """Lower-cased import names declared by the projects enclosing ``path``."""
        return self.projects.declared(path)

    def brought(self, path: str) -> Mapping[str, str]:
        """Import name -> the declared import name that brings it, for ``path``."""
        return _brought(self.declared(path))


@functools.lru_cache(maxsize=256)
def _brought(declared: frozenset[str]) -> Mapping[str, str]:
    brought: dict[str, str] = {}
    for name in sorted(declared):
        for extra in _ALWAYS_BRINGS.get(name, ()):
            brought.setdefault(extra, name)
    return brought


def _tree_facts(tree: Mapping[str, File]) -> _TreeFacts:
    projects = parse_projects(tree)
    dirs: set[str] = set()
    test_modules: set[str] = set()
    for path in tree:
        parts = path.split("/")
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
        if path.endswith(".py") and any(p in _TEST_PARTS for p in parts[:-1]):
            first = min(i for i, p in enumerate(parts) if p in _TEST_PARTS)
            names = [*parts[first + 1 : -1], parts[-1].removesuffix(".py")]
            test_modules.update(n for n in names if n.isidentifier())
    return _TreeFacts(
        projects, projects.top_level, frozenset(tree), frozenset(dirs), frozenset(test_modules)
    )


def _collect_imports(module: ast.Module) -> list[_Import]:
    found: list[_Import] = []

    def visit(node: ast.AST, guarded: bool, nested: bool = False) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            nested = True
        if isinstance(node, ast.Try):
            catches: set[str] = set()
            for handler in node.handlers:
                if handler.type is None:
                    catches.add("BaseException")
                else:
                    catches.update(
                        n.id if isinstance(n, ast.Name) else n.attr
                        for n in ast.walk(handler.type)
                        if isinstance(n, ast.Name | ast.Attribute)
                    )
            body_guarded = guarded or bool(
                catches & {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
            )
            # The fallback after `except ImportError:` and the `else:` that runs only when
            # the guarded import worked are optional too (`import simplejson` falling back
            # to `BaseHTTPServer` on Python 2).
            for stmt in [*node.body, *node.handlers, *node.orelse]:
                visit(stmt, body_guarded, nested)
            for stmt in node.finalbody:
                visit(stmt, guarded, nested)
            return
        if isinstance(node, ast.If):
            test = ast.unparse(node.test)
            if "TYPE_CHECKING" in test:
                for stmt in node.body:
                    visit(stmt, True, nested)
                for stmt in node.orelse:
                    visit(stmt, guarded, nested)
                return
            if _VERSION_OR_PLATFORM.search(test):
                # `if sys.version_info >= (3, 11): import tomllib / else: import tomli`:
                # each branch runs only where its module exists.
                for stmt in [*node.body, *node.orelse]:
                    visit(stmt, True, nested)
                return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(_Import(node.lineno, 0, alias.name, (), guarded, nested))
        elif isinstance(node, ast.ImportFrom):
            names = tuple(a.name for a in node.names)
            found.append(
                _Import(node.lineno, node.level, node.module or "", names, guarded, nested)
            )
        for child in ast.iter_child_nodes(node):
            visit(child, guarded, nested)

    visit(module, False)
    # A module the file imports under a guard somewhere is optional everywhere in it
    # (`if has_simplejson: from simplejson import JSONDecodeError`).
    optional = {imp.module.split(".", 1)[0] for imp in found if imp.guarded and not imp.level}
    return [
        imp
        if imp.guarded or imp.level or imp.module.split(".", 1)[0] not in optional
        else _Import(imp.line, imp.level, imp.module, imp.names, True, imp.nested)
        for imp in found
    ]


def _script_dirs(path: str, facts: _TreeFacts) -> list[str]:
    """Directories whose modules ``path`` can import by bare name: its own (a script's
    ``sys.path[0]``) and, for test code, every ancestor holding a ``conftest.py`` (pytest puts
    those on ``sys.path``)."""
    parent = path.rsplit("/", 1)[0] if "/" in path else ""
    dirs = [parent]
    if _is_test_path(path):
        while parent:
            parent = parent.rsplit("/", 1)[0] if "/" in parent else ""
            if (f"{parent}/conftest.py" if parent else "conftest.py") in facts.files:
                dirs.append(parent)
    return dirs


def _sibling(path: str, top: str, facts: _TreeFacts, dirs: Sequence[str] | None = None) -> bool:
    """Whether ``top`` is a module ``path`` can import by bare name from the tree."""
    if _is_test_path(path) and top in facts.test_modules:
        return True
    return _sibling_exists(_script_dirs(path, facts) if dirs is None else dirs, top, facts)


def _sibling_exists(dirs: Sequence[str], top: str, facts: _TreeFacts) -> bool:
    return any(_module_exists(facts, f"{d}/{top}" if d else top) for d in dirs)


def _module_exists(facts: _TreeFacts, dotted_path: str) -> bool:
    return (
        f"{dotted_path}.py" in facts.files
        or f"{dotted_path}.pyi" in facts.files
        or dotted_path in facts.dirs
    )


def _resolve(imp: _Import, path: str, facts: _TreeFacts) -> str:
    """How one import resolves: stdlib, local, relative, declared, guarded, or missing:..."""
    if imp.level:
        parent = PurePosixPath(path).parent
        for _ in range(imp.level - 1):
            parent = parent.parent
        base = "" if str(parent) == "." else str(parent)
        parts = [p for p in imp.module.split(".") if p]
        target = "/".join([base, *parts]) if base else "/".join(parts)
        if not parts:
            # `from . import x`: each x is a submodule or a name defined in the package.
            missing = [
                n
                for n in imp.names
                if n != "*"
                and not _module_exists(facts, f"{target}/{n}" if target else n)
                and not (
                    f"{target}/__init__.py" in facts.files
                    if target
                    else "__init__.py" in facts.files
                )
            ]
            return f"missing-relative:{','.join(missing)}" if missing else "relative"
        return "relative" if _module_exists(facts, target) else f"missing-relative:{target}"
    top = imp.module.split(".", 1)[0]
    if top in sys.stdlib_module_names or top in _NEWER_STDLIB or top == "__future__":
        return "stdlib"
    if top in facts.top_level:
        return "local"
    if _sibling(path, top, facts):
        return "sibling"
    if top in _TEST_RUNNER and _is_test_path(path):
        return "test-runner"
    if top.lower() in facts.declared(path):
        return "declared"
    if imp.guarded:
        return "guarded"
    brought = facts.brought(path)
    if top.lower() in brought:
        return f"transitive:{brought[top.lower()]}"
    return "missing" if facts.projects.has_manifest(path) else "missing-no-manifest"


def _import_findings(path: str, imports: Sequence[_Import], facts: _TreeFacts) -> Iterator[Finding]:
    for imp in imports:
        how = _resolve(imp, path, facts)
        if how.startswith("missing-relative"):
            dots = "." * imp.level
            yield Finding(
                checker=ValidatorChecker.name,
                rule="unresolved-import",
                severity=Severity.HIGH,
                path=path,
                line=imp.line,
                message=f"relative import `from {dots}{imp.module} import ...` names no module "
                "or package of this tree",
            )
        elif how.startswith("transitive:"):
            top = imp.module.split(".", 1)[0]
            yield Finding(
                checker=ValidatorChecker.name,
                rule="transitive-import",
                severity=Severity.LOW,
                path=path,
                line=imp.line,
                message=f"`{top}` is not declared; it is importable only because "
                f"`{how.split(':', 1)[1]}` depends on it; declare it",
            )
        elif how.startswith("missing"):
            top = imp.module.split(".", 1)[0]
            nearest = facts.projects.chain(path)
            manifest = f"{nearest[0].root}/" if nearest and nearest[0].root else ""
            where = (
                f"of the project at {manifest or 'the root'} (its pyproject.toml, setup.py, "
                "setup.cfg or requirements files)"
                if how == "missing"
                else "(the tree has no pyproject.toml, setup.py or requirements*.txt)"
            )
            why = ""
            if _optional_code(path, facts):
                why = "documentation, example or script code without requirements of its own"
            elif imp.nested and _is_test_path(path):
                why = "imported inside a function of test code (often a module the test creates)"
            yield Finding(
                checker=ValidatorChecker.name,
                rule="unresolved-import",
                severity=Severity.LOW if why else Severity.HIGH,
                path=path,
                line=imp.line,
                message=f"`{top}` is not in the standard library, not a module of this tree, "
                f"and not a declared dependency {where}" + (f"; low: {why}" if why else ""),
            )


def _optional_code(path: str, facts: _TreeFacts) -> bool:
    """Documentation, example or script code without requirements of its own: an import
    missing there is reported low, never blocking by default."""
    projects = facts.projects
    return projects.optional_code(path) and not projects.own_requirements(path)


def _needs_newer_python(path: str, facts: _TreeFacts) -> tuple[int, int] | None:
    """The project's target Python, when it is newer than the one evobot runs on (so this
    interpreter's parser may refuse syntax that is valid for the target)."""
    target = facts.projects.target(path)
    return target if target is not None and target > sys.version_info[:2] else None


class _Qualifier:
    """Maps local names to the dotted names they were imported as (``sp`` -> ``subprocess``)."""

    def __init__(self, module: ast.Module) -> None:
        self.aliases: dict[str, str] = {}
        for node in ast.walk(module):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.aliases[a.asname] = a.name
                    else:
                        top = a.name.split(".", 1)[0]
                        self.aliases[top] = top
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for a in node.names:
                    self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"

    def qualify(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualify(node.value)
            return f"{base}.{node.attr}" if base else None
        return None


def _finding(rule: str, severity: Severity, path: str, line: int | None, msg: str) -> Finding:
    return Finding(
        checker=ValidatorChecker.name,
        rule=rule,
        severity=severity,
        path=path,
        line=line,
        message=msg,
    )


def _swallows(body: Sequence[ast.stmt]) -> bool:
    return all(
        isinstance(s, ast.Pass | ast.Continue)
        or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in body
    )


def _ast_rules(path: str, module: ast.Module) -> Iterator[Finding]:
    test_code = _is_test_path(path)
    for node in ast.walk(module):
        if isinstance(node, ast.ExceptHandler):
            caught = ast.unparse(node.type) if node.type is not None else None
            if caught is None:
                swallowed = " and its empty body hides every error" if _swallows(node.body) else ""
                yield _finding(
                    "bare-except",
                    Severity.MEDIUM,
                    path,
                    node.lineno,
                    "bare `except:` also catches KeyboardInterrupt and SystemExit"
                    f"{swallowed}; name the exceptions",
                )
            elif _swallows(node.body) and caught in (
                "Exception",
                "BaseException",
                "builtins.Exception",
            ):
                yield _finding(
                    "swallowed-exception",
                    Severity.MEDIUM,
                    path,
                    node.lineno,
                    f"`except {caught}:` with an empty body hides every error",
                )
        elif isinstance(node, ast.Assert) and not test_code:
            yield _finding(
                "assert-validation",
                Severity.LOW,
                path,
                node.lineno,
                "`assert` is removed under `python -O`; raise an exception to validate",
            )
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            defaults = [*node.args.defaults, *(d for d in node.args.kw_defaults if d)]
            for default in defaults:
                mutable = isinstance(
                    default,
                    ast.List | ast.Dict | ast.Set | ast.ListComp | ast.DictComp | ast.SetComp,
                ) or (
                    isinstance(default, ast.Call)
                    and isinstance(default.func, ast.Name)
                    and default.func.id in ("list", "dict", "set", "bytearray")
                )
                if mutable:
                    name = getattr(node, "name", "lambda")
                    yield _finding(
                        "mutable-default",
                        Severity.LOW,
                        path,
                        default.lineno,
                        f"`{name}` has a mutable default argument shared between calls; "
                        "default to None",
                    )


_DANGEROUS_CALLS: dict[str, tuple[str, Severity, str]] = {
    "eval": ("eval", Severity.HIGH, "`eval` runs arbitrary code"),
    "builtins.eval": ("eval", Severity.HIGH, "`eval` runs arbitrary code"),
    "exec": ("exec", Severity.HIGH, "`exec` runs arbitrary code"),
    "builtins.exec": ("exec", Severity.HIGH, "`exec` runs arbitrary code"),
    "__import__": (
        "dynamic-import",
        Severity.MEDIUM,
        "`__import__` imports a module chosen at run time; use importlib with a fixed list",
    ),
    "os.system": ("os-system", Severity.HIGH, "`os.system` runs a shell command line"),
    "os.popen": ("os-system", Severity.HIGH, "`os.popen` runs a shell command line"),
    "pickle.loads": ("pickle-load", Severity.HIGH, "unpickling untrusted data runs code"),
    "pickle.load": ("pickle-load", Severity.HIGH, "unpickling untrusted data runs code"),
    "cPickle.loads": ("pickle-load", Severity.HIGH, "unpickling untrusted data runs code"),
    "dill.loads": ("pickle-load", Severity.HIGH, "unpickling untrusted data runs code"),
    "yaml.unsafe_load": ("yaml-unsafe-load", Severity.HIGH, "`yaml.unsafe_load` builds objects"),
    "yaml.full_load": ("yaml-unsafe-load", Severity.MEDIUM, "`yaml.full_load` builds objects"),
}


def _security_patterns(path: str, module: ast.Module) -> Iterator[Finding]:
    q = _Qualifier(module)
    for node in ast.walk(module):
        if not isinstance(node, ast.Call):
            continue
        name = q.qualify(node.func)
        if name is None:
            continue
        if name in _DANGEROUS_CALLS:
            rule, sev, msg = _DANGEROUS_CALLS[name]
            yield _finding(rule, sev, path, node.lineno, msg)
        elif name.startswith("subprocess."):
            for kw in node.keywords:
                if kw.arg == "shell" and not (
                    isinstance(kw.value, ast.Constant) and not kw.value.value
                ):
                    yield _finding(
                        "subprocess-shell",
                        Severity.HIGH,
                        path,
                        node.lineno,
                        f"`{name}` with `shell=True` lets the shell interpret the command",
                    )
        elif name in ("yaml.load", "yaml.load_all"):
            loader = next((kw.value for kw in node.keywords if kw.arg == "Loader"), None)
            if loader is None and len(node.args) > 1:
                loader = node.args[1]
            loader_name = q.qualify(loader) if loader is not None else None
            if loader_name is None or loader_name.rsplit(".", 1)[-1] not in _SAFE_YAML_LOADERS:
                yield _finding(
                    "yaml-unsafe-load",
                    Severity.HIGH,
                    path,
                    node.lineno,
                    f"`{name}` without a safe Loader can build arbitrary objects; "
                    "use yaml.safe_load",
                )


_IDENTIFIER = re.compile(r"[^\W\d]\w*")
_RELATIVE_IMPORT = re.compile(rb"\bfrom\s*(\.+)")


@functools.lru_cache(maxsize=4096)
def _scan(data: bytes) -> tuple[frozenset[str], tuple[int, ...]]:
    """Every identifier of a source file, and the dot counts of its relative imports."""
    names = frozenset(_IDENTIFIER.findall(data.decode("utf-8", "replace")))
    return names, tuple(len(m) for m in _RELATIVE_IMPORT.findall(data))


_TOML_LINE = re.compile(r"at line (\d+)")


def _data_findings(path: str, data: bytes) -> list[Finding]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [_finding("encoding", Severity.HIGH, path, None, f"not UTF-8: {exc.reason}")]
    if path.endswith((".yaml", ".yml")):
        try:
            # compose, not construct: syntax errors surface, application tags (`!Ref`) do not.
            for _ in yaml.compose_all(text, Loader=yaml.SafeLoader):
                continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            return [_finding("yaml-syntax", Severity.HIGH, path, line, f"invalid YAML: {problem}")]
    elif path.endswith(".json"):
        if path.rsplit("/", 1)[-1] in _JSONC_NAMES or path.startswith(".vscode/"):
            return []
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return [
                _finding("json-syntax", Severity.HIGH, path, exc.lineno, f"invalid JSON: {exc.msg}")
            ]
    elif path.endswith(".toml"):
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = _TOML_LINE.search(str(exc))
            return [
                _finding(
                    "toml-syntax",
                    Severity.HIGH,
                    path,
                    int(m.group(1)) if m else None,
                    f"invalid TOML: {str(exc).split(' (at', 1)[0]}",
                )
            ]
    return []


@dataclass(frozen=True)
class _Parsed:
    module: ast.Module | None
    error: Finding | None
    imports: tuple[_Import, ...]


# Parsing is the validator's main cost and a fleet repeats the same contents, so parses are
# memoised by content digest (bounded); the memo is part of the content addressing, not state.
_PARSE_MEMO: dict[str, _Parsed] = {}
_PARSE_MEMO_MAX = 4096


def clear_parse_memo() -> None:
    """Forget memoised parses and scans (benchmarks call it to measure a fresh process)."""
    _PARSE_MEMO.clear()
    _scan.cache_clear()


def _parse(path: str, file: File) -> _Parsed:
    key = hashlib.sha256(path.rsplit(".", 1)[-1].encode() + b"\0" + file.data).hexdigest()
    cached = _PARSE_MEMO.get(key)
    if cached is not None:
        return cached
    result = _parse_uncached(path, file)
    if len(_PARSE_MEMO) >= _PARSE_MEMO_MAX:
        _PARSE_MEMO.clear()
    _PARSE_MEMO[key] = result
    return result


def _parse_uncached(path: str, file: File) -> _Parsed:
    try:
        source = file.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        err = _finding("syntax-error", Severity.HIGH, path, None, f"not UTF-8: {exc.reason}")
        return _Parsed(None, err, ())
    try:
        module = ast.parse(source, filename=path, type_comments=False)
        # compile() also runs the symbol-table pass (`return` outside a function, ...).
        compile(module, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        msg = f"syntax error: {exc.msg}"
        err = _finding("syntax-error", Severity.HIGH, path, exc.lineno, msg)
        return _Parsed(None, err, ())
    except ValueError as exc:  # e.g. NUL bytes in source
        err = _finding("syntax-error", Severity.HIGH, path, None, f"cannot compile: {exc}")
        return _Parsed(None, err, ())
    imports = _collect_imports(module)
    if path.endswith(".pyi"):
        # A stub's imports are read by type checkers only, never run.
        imports = [dataclasses.replace(imp, guarded=True) for imp in imports]
    return _Parsed(module, None, tuple(imports))


_MYPY_LINE = re.compile(
    r"^(?P<path>[^:]+):(?P<line>\d+):(?:\d+:)? (?P<kind>error|note): "
    r"(?P<msg>.*?)(?:  \[(?P<code>[\w-]+)\])?$"
)


class ValidatorOptions(SubprocessOptions):
    """The validator's options: whether to run mypy, besides its limits."""

    types: bool = Field(
        default=False, strict=True, description="also run mypy over the tree (`--types`)"
    )


class ValidatorChecker(Checker):
    """Syntax, AST rules, imports, security patterns, data-file syntax, and optionally mypy."""

    name: ClassVar[str] = "validator"
    version: ClassVar[str] = "1.1.0"
    options_model: ClassVar[type[CheckerOptions]] = ValidatorOptions

    def __init__(self) -> None:
        # The facts of the tree being checked; the tree is held so that identity is reliable.
        self._facts: tuple[Mapping[str, File], _TreeFacts] | None = None

    def applies_to(self, path: str) -> bool:
        return path.endswith((".py", ".pyi", *_DATA_SUFFIXES))

    def config_digest(self, ctx: CheckContext) -> str:
        options = ctx.options_as(ValidatorOptions)
        # The standard library's module names differ between Python versions.
        facts = {
            **options.model_dump(mode="json"),
            "python": list(sys.version_info[:2]),
            # distribution -> import names read from installed metadata
            "installed": installed_top_levels_digest(),
        }
        if options.types:
            facts["mypy"] = _mypy_version()
        blob = json.dumps(facts, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def _tree_facts(self, ctx: CheckContext) -> _TreeFacts:
        if self._facts is None or self._facts[0] is not ctx.tree:
            self._facts = (ctx.tree, _tree_facts(ctx.tree))
        return self._facts[1]

    def dependencies(self, path: str, ctx: CheckContext) -> Sequence[str]:
        if not path.endswith((".py", ".pyi")):
            return ()
        deps = [p for p in ctx.tree if _is_manifest(p)]
        # The imports stage reads which modules exist; mypy reads them all.
        deps += [p for p in ctx.tree if p.endswith((".py", ".pyi")) and p != path]
        return sorted(set(deps))

    def dependency_fingerprint(self, path: str, ctx: CheckContext) -> str:
        suffix = PurePosixPath(path).suffix
        if path.endswith((".json",)):
            jsonc = path.rsplit("/", 1)[-1] in _JSONC_NAMES or path.startswith(".vscode/")
            return f"{suffix}:jsonc={jsonc}"
        if not path.endswith((".py", ".pyi")):
            return suffix
        if ctx.options_as(ValidatorOptions).types:
            # mypy reads the whole tree: key on the path and every module and config digest.
            return super().dependency_fingerprint(path, ctx)
        # Without parsing (a warm run must stay cheap): every identifier of the file is a
        # candidate import name, and for each one that resolves anywhere we record how. Any
        # import's top-level name is among them, so equal keys mean equal import findings.
        facts = self._tree_facts(ctx)
        data = ctx.tree[path].data
        parent = PurePosixPath(path).parent
        resolved: list[tuple[str, bool, bool, bool, str]] = []
        dirs = _script_dirs(path, facts)
        identifiers, levels = _scan(data)
        declared = facts.declared(path)
        brought = facts.brought(path)
        for token in identifiers:
            sibling = _sibling(path, token, facts, dirs)
            low = token.lower()
            entry = (
                token,
                token in facts.top_level,
                sibling,
                low in declared,
                brought.get(low, ""),
            )
            if any(entry[1:]):
                resolved.append(entry)
        resolved.sort()
        relative = None
        if levels:
            # relative imports resolve against this path, inside the package `max(levels)`
            # levels up: key on the files there.
            base = parent
            for _ in range(max(levels) - 1):
                base = base.parent
            prefix = "" if str(base) == "." else f"{base}/"
            relative = [path, sorted(p for p in facts.files if p.startswith(prefix))]
        blob = json.dumps(
            [
                suffix,
                _is_test_path(path),
                facts.projects.has_manifest(path),
                _optional_code(path, facts),
                _needs_newer_python(path, facts),
                # the message names the nearest project
                [p.root for p in facts.projects.chain(path)[:1]],
                resolved,
                relative,
            ],
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def check_file(self, path: str, file: File, ctx: CheckContext) -> list[Finding]:
        if path.endswith(_DATA_SUFFIXES):
            return _data_findings(path, file.data)
        parsed = _parse(path, file)
        if parsed.module is None:
            newer = _needs_newer_python(path, self._tree_facts(ctx))
            if newer is not None and parsed.error is not None and parsed.error.line is not None:
                return [not_analysed_for_target(self.name, path, newer)]
            # the memoised parse may come from the same content at another path
            return [parsed.error.model_copy(update={"path": path})] if parsed.error else []
        findings = list(_ast_rules(path, parsed.module))
        findings += _import_findings(path, parsed.imports, self._tree_facts(ctx))
        findings += _security_patterns(path, parsed.module)
        return findings

    def check_files(self, paths: Sequence[str], ctx: CheckContext) -> dict[str, list[Finding]]:
        options = ctx.options_as(ValidatorOptions)
        # Parsing happens in this process: the size cap is what bounds its memory.
        within, results = split_by_size(self.name, paths, ctx.tree, options.max_file_bytes)
        for p in within:
            results[p] = self._check_bounded(p, ctx)
        if options.types:
            parsable = [
                p
                for p in within
                if p.endswith((".py", ".pyi")) and _parse(p, ctx.tree[p]).module is not None
            ]
            if parsable:
                ceiling = options.max_memory_mb
                # mypy reads the whole tree: leave out what is too large to analyse.
                limit = options.max_file_bytes
                small = {q: f for q, f in ctx.tree.items() if len(f.data) <= limit}
                for p, found in _run_mypy(parsable, small, ceiling).items():
                    results[p] = results.get(p, []) + found
        return results

    def _check_bounded(self, path: str, ctx: CheckContext) -> list[Finding]:
        """:meth:`check_file`, with a file too deep or too big to hold in memory reported as
        not analysed (info) rather than crashing the run."""
        try:
            return self.check_file(path, ctx.tree[path], ctx)
        except (MemoryError, RecursionError) as exc:
            why = "out of memory" if isinstance(exc, MemoryError) else "nested too deeply"
            return [
                _finding(
                    "not-analysed",
                    Severity.INFO,
                    path,
                    None,
                    f"not analysed: {why} while parsing it",
                )
            ]


def _is_manifest(path: str) -> bool:
    """A file the import stage reads declarations or the target Python from."""
    name = path.rsplit("/", 1)[-1]
    return (
        name in ("pyproject.toml", "setup.py", "setup.cfg", "ruff.toml", ".ruff.toml")
        or "requirements" in path
        or name.startswith("constraints")
    )


def _mypy_version() -> str:
    try:
        from mypy.version import __version__ as version
    except ImportError:
        return "absent"
    return str(version)


def _run_mypy(
    paths: Sequence[str], tree: Mapping[str, File], ceiling_mb: int
) -> dict[str, list[Finding]]:
    """One mypy run over a temporary copy of the tree's Python files.

    The consumer's mypy config is not used: it can name plugins, which mypy imports and runs,
    so a config in the checked tree could execute code in evobot's process.
    """
    if _mypy_version() == "absent":
        raise CheckError("validator: --types needs mypy, which is not installed")
    keep = {p: f for p, f in tree.items() if p.endswith((".py", ".pyi"))}
    with tempfile.TemporaryDirectory(prefix="evobot-mypy-") as tmp:
        root = Path(tmp) / "tree"
        write_tree(root, keep)
        config = Path(tmp) / "evobot-mypy.ini"
        config.write_text("[mypy]\n")
        mypy_path = [str(root / d) for d in ("src",) if (root / d).is_dir()]
        cmd = [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--ignore-missing-imports",
            "--explicit-package-bases",
            "--show-error-codes",
            "--no-error-summary",
            "--no-color-output",
            "--show-column-numbers",
            "--cache-dir",
            str(Path(tmp) / "cache"),
            *sorted(paths),
        ]
        env_path = {"MYPYPATH": ":".join(mypy_path)} if mypy_path else {}
        proc = subprocess.run(
            cmd,
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **env_path},
            timeout=600,
            # only setrlimit runs between fork and exec
            preexec_fn=memory_ceiling(ceiling_mb),
        )
    if out_of_memory(proc.returncode, proc.stderr):
        raise CheckError(
            f"validator: mypy ran out of memory: over its ceiling of {ceiling_mb} MiB",
            hint="raise checks: checkers: validator: options: max_memory_mb",
        )
    if proc.returncode not in (0, 1):
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise CheckError(
            f"validator: mypy failed (exit {proc.returncode}): "
            f"{detail[-1] if detail else 'no output'}"
        )
    results: dict[str, list[Finding]] = {}
    wanted = set(paths)
    for raw in proc.stdout.splitlines():
        m = _MYPY_LINE.match(raw)
        if not m or m.group("kind") != "error":
            continue
        p = m.group("path")
        if p not in wanted:
            continue
        code = m.group("code") or "misc"
        results.setdefault(p, []).append(
            _finding(f"mypy-{code}", Severity.MEDIUM, p, int(m.group("line")), m.group("msg"))
        )
    return results
