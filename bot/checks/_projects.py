"""The Python projects inside a tree: where each begins, what it declares, which Python it targets.

A tree may hold several projects (a `backend/` subproject, `services/x/`, a `docs/` directory
with its own requirements). A *project root* is a directory holding a `pyproject.toml`,
`setup.py`, `setup.cfg`, or requirements files (`requirements*.txt`/`.in`, `constraints*.txt`,
`*-requirements.txt`, any `.txt`/`.in` under `requirements/`). A file belongs to every project
root above it; the nearest one with a `requires-python` (or ruff's `target-version`) sets its
target Python. Checkers read these facts, computed once per tree, to judge imports and syntax
per project.
"""

from __future__ import annotations

import ast
import configparser
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from bot.checks._toml import load_toml
from bot.tree import File

__all__ = [
    "OPTIONAL_CODE_DIRS",
    "Project",
    "Projects",
    "import_names_for",
    "installed_top_levels_digest",
    "is_optional_code",
    "parse_projects",
    "target_sources",
]

# Distribution names whose import name is not the normalised distribution name.
_IMPORT_NAMES: dict[str, tuple[str, ...]] = {
    "attrs": ("attr", "attrs"),
    "beautifulsoup4": ("bs4",),
    "dnspython": ("dns",),
    "email-validator": ("email_validator",),
    "faiss-cpu": ("faiss",),
    "google-cloud-storage": ("google",),
    "grpcio": ("grpc",),
    "ipython": ("IPython",),
    "msgpack-python": ("msgpack",),
    "mysqlclient": ("MySQLdb",),
    "opencv-python": ("cv2",),
    "opencv-python-headless": ("cv2",),
    "pillow": ("PIL",),
    "protobuf": ("google",),
    "psycopg-binary": ("psycopg",),
    "psycopg2-binary": ("psycopg2",),
    "pydantic-settings": ("pydantic_settings",),
    "pygithub": ("github",),
    "pyjwt": ("jwt",),
    "pymupdf": ("fitz",),
    "pyopenssl": ("OpenSSL",),
    "python-dateutil": ("dateutil",),
    "python-dotenv": ("dotenv",),
    "python-jose": ("jose",),
    "python-json-logger": ("pythonjsonlogger",),
    "python-multipart": ("multipart", "python_multipart"),
    "pytest-asyncio": ("pytest_asyncio",),
    "pyyaml": ("yaml",),
    "pyzmq": ("zmq",),
    "scikit-image": ("skimage",),
    "scikit-learn": ("sklearn",),
    "setuptools": ("setuptools", "pkg_resources", "_distutils_hack"),
    "typing-extensions": ("typing_extensions",),
    "brotli": ("brotli", "_brotli"),
    "brotlicffi": ("brotlicffi",),
    "h2": ("h2",),
    "pysocks": ("socks", "sockshandler"),
    "pywin32": ("win32api", "win32con", "win32file", "pywintypes", "win32com"),
    "pyobjc": ("objc", "Foundation", "AppKit"),
    "sphinx-rtd-theme": ("sphinx_rtd_theme",),
    "zope-interface": ("zope",),
    "twisted": ("twisted",),
    "service-identity": ("service_identity",),
    "markdown": ("markdown",),
    "pygments": ("pygments",),
    "mkdocs-material": ("material",),
    "uvloop": ("uvloop",),
    "websockets": ("websockets",),
    "trio": ("trio",),
    "python-socks": ("python_socks",),
    "importlib-metadata": ("importlib_metadata",),
    "importlib-resources": ("importlib_resources",),
    "backports-zoneinfo": ("backports",),
    "tomli": ("tomli",),
    "tomli-w": ("tomli_w",),
    "hypothesis": ("hypothesis",),
    "pytest-xdist": ("xdist",),
    "pytest-cov": ("pytest_cov",),
    "pytest-mock": ("pytest_mock",),
    "libcst": ("libcst",),
    "pyyaml-env-tag": ("yaml_env_tag",),
    "pydispatcher": ("pydispatch",),
    "pypydispatcher": ("pydispatch",),
}
_PREFIX_IMPORTS = (
    ("google-", "google"),
    ("opentelemetry-", "opentelemetry"),
    ("azure-", "azure"),
    ("sphinxcontrib-", "sphinxcontrib"),
    ("backports-", "backports"),
    ("zope-", "zope"),
    ("jaraco-", "jaraco"),
)

# Directories whose code is not the project's shipped code: judged against their own
# requirements when they have them, otherwise an unresolved import there is low, never blocking.
OPTIONAL_CODE_DIRS = frozenset(
    {
        "docs",
        "doc",
        "docs_src",
        "docs-src",
        "examples",
        "example",
        "samples",
        "sample",
        "scripts",
        "script",
        "tools",
        "bench",
        "benchmarks",
        "benchmark",
        "demo",
        "demos",
        "tutorial",
        "tutorials",
        "ci",
        ".github",
    }
)

_REQUIREMENTS = re.compile(
    r"(?:[\w.-]*requirements[\w.-]*|constraints[\w.-]*)\.(?:txt|in)$", re.IGNORECASE
)
_MANIFESTS = ("pyproject.toml", "setup.py", "setup.cfg")


@functools.lru_cache(maxsize=1)
def _installed_top_levels() -> dict[str, tuple[str, ...]]:
    """Normalised distribution name -> the top-level import names it installs, from the
    installed metadata of evobot's own environment (``top_level.txt`` or ``RECORD``)."""
    found: dict[str, set[str]] = {}
    for top, dists in metadata.packages_distributions().items():
        if not top.isidentifier():
            continue
        for dist in dists:
            found.setdefault(_normalise(dist), set()).add(top)
    return {d: tuple(sorted(names)) for d, names in found.items()}


def installed_top_levels_digest() -> str:
    """A digest of the installed-metadata name map: the import verdicts depend on it."""
    import hashlib

    blob = json.dumps(sorted(_installed_top_levels().items())).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def import_names_for(distribution: str) -> tuple[str, ...]:
    """The top-level import names a distribution (a PEP 508 name) most likely provides: the
    table of well-known mismatches, the names its installed metadata records, and the
    normalised name."""
    norm = _normalise(distribution)
    if norm.startswith("types-") or norm.endswith("-stubs"):
        return ()
    installed = _installed_top_levels().get(norm, ())
    if norm in _IMPORT_NAMES:
        return tuple(sorted({*_IMPORT_NAMES[norm], *installed}))
    names = {*installed, norm.replace("-", "_")}
    for prefix, name in _PREFIX_IMPORTS:
        if norm.startswith(prefix):
            names.add(name)
    if norm.startswith("python-"):
        names.add(norm.removeprefix("python-").replace("-", "_"))
    if norm.startswith("py") and norm.endswith("-binary"):
        names.add(norm.removesuffix("-binary").replace("-", "_"))
    for suffix in ("-binary", "-cffi", "-py", "-python"):
        if norm.endswith(suffix):
            names.add(norm.removesuffix(suffix).replace("-", "_"))
    return tuple(sorted(names))


@dataclass(frozen=True)
class Project:
    """One project root: what it declares and which Python it targets."""

    root: str  # "" for the tree's root
    has_manifest: bool
    declared: frozenset[str]  # lower-cased import names
    target: tuple[int, int] | None  # the oldest Python it supports, when it says


def _requirement_names(reqs: Iterable[str]) -> set[str]:
    names: set[str] = set()
    for req in reqs:
        text = req.strip()
        if not text:
            continue
        extras: set[str] = set()
        try:
            parsed = Requirement(text)
            dist, extras = parsed.name, set(parsed.extras)
        except InvalidRequirement:
            dist = re.split(r"[\s\[<>=!~;@]", text, maxsplit=1)[0]
        # An extra usually installs the package it is named after (`kombu[sqlalchemy]`,
        # `passlib[bcrypt]`).
        names.update(e.lower().replace("-", "_") for e in extras if e.isidentifier())
        if dist and dist.lower() != "python" and re.fullmatch(r"[A-Za-z0-9][\w.-]*", dist):
            names.update(n.lower() for n in import_names_for(dist))
    return names


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _table(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _pyproject_requirements(data: Mapping[str, object]) -> list[str]:
    project = _table(data.get("project"))
    tool = _table(data.get("tool"))
    reqs = _strings(project.get("dependencies"))
    for group in _table(project.get("optional-dependencies")).values():
        reqs += _strings(group)
    for group in _table(data.get("dependency-groups")).values():
        reqs += _strings(group)  # `{include-group = ...}` entries are tables: skipped
    reqs += _strings(_table(data.get("build-system")).get("requires"))
    if isinstance(project.get("name"), str):
        reqs.append(str(project["name"]))
    poetry = _table(tool.get("poetry"))
    reqs += [str(n) for n in _table(poetry.get("dependencies"))]
    reqs += [str(n) for n in _table(poetry.get("dev-dependencies"))]
    for group in _table(poetry.get("group")).values():
        reqs += [str(n) for n in _table(_table(group).get("dependencies"))]
    if isinstance(poetry.get("name"), str):
        reqs.append(str(poetry["name"]))
    pdm = _table(tool.get("pdm"))
    for group in _table(pdm.get("dev-dependencies")).values():
        reqs += _strings(group)
    uv = _table(tool.get("uv"))
    reqs += _strings(uv.get("dev-dependencies"))
    for env in _table(_table(tool.get("hatch")).get("envs")).values():
        reqs += _strings(_table(env).get("dependencies"))
        reqs += _strings(_table(env).get("extra-dependencies"))
    return reqs


def _setup_cfg_requirements(text: str) -> list[str]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return []
    reqs: list[str] = []
    for section, key in (("options", "install_requires"), ("options", "setup_requires")):
        if parser.has_option(section, key):
            reqs += parser.get(section, key).splitlines()
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            reqs += value.splitlines()
    if parser.has_option("metadata", "name"):
        reqs.append(parser.get("metadata", "name"))
    return [r.split("#", 1)[0] for r in reqs]


_SETUP_KEYWORDS = ("install_requires", "extras_require", "tests_require", "setup_requires", "name")


def _setup_py_requirements(text: str) -> list[str]:
    """String literals passed to `setup(...)` as requirements (and its name), read from the
    AST; never run."""
    try:
        module = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    reqs: list[str] = []
    for node in ast.walk(module):
        wanted = (isinstance(node, ast.keyword) and node.arg in _SETUP_KEYWORDS) or (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and "require" in t.id.lower() for t in node.targets)
        )
        if wanted:
            reqs += [
                n.value
                for n in ast.walk(node)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            ]
    return reqs


def _requirements_lines(text: str) -> list[str]:
    reqs = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if line.startswith("#") or not line or line.startswith("-"):
            continue
        reqs.append(line.split(";", 1)[0].strip() if "@" not in line else line)
    return reqs


def _target_of(data: Mapping[str, object]) -> tuple[int, int] | None:
    ruff = _table(_table(data.get("tool")).get("ruff"))
    target = ruff.get("target-version")
    if isinstance(target, str):
        parsed = parse_target_version(target)
        if parsed is not None:
            return parsed
    return oldest_allowed(_table(data.get("project")).get("requires-python"))


def parse_target_version(value: str) -> tuple[int, int] | None:
    """``py314`` -> (3, 14)."""
    m = re.fullmatch(r"py3(\d{1,2})", value.strip())
    return (3, int(m.group(1))) if m else None


def oldest_allowed(spec: object) -> tuple[int, int] | None:
    """The oldest Python 3 minor version a `requires-python` specifier allows."""
    if not isinstance(spec, str):
        return None
    try:
        allowed = SpecifierSet(spec)
    except InvalidSpecifier:
        return None
    for minor in range(0, 30):
        if allowed.contains(f"3.{minor}", prereleases=True) or allowed.contains(
            f"3.{minor}.99", prereleases=True
        ):
            return (3, minor)
    return None


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def parse_projects(tree: Mapping[str, File]) -> Projects:
    """The projects of ``tree`` (computed once per tree by the checkers that need them)."""
    reqs: dict[str, list[str]] = {}
    manifests: set[str] = set()
    targets: dict[str, tuple[int, int]] = {}
    for path, f in tree.items():
        name = path.rsplit("/", 1)[-1]
        parent = _parent(path)
        if name in _MANIFESTS:
            text = f.data.decode("utf-8", "replace")
            manifests.add(parent)
            if name == "pyproject.toml":
                data = load_toml(f.data) or {}
                reqs.setdefault(parent, []).extend(_pyproject_requirements(data))
                target = _target_of(data)
                if target is not None:
                    targets[parent] = target
            elif name == "setup.cfg":
                reqs.setdefault(parent, []).extend(_setup_cfg_requirements(text))
            else:
                # Without a [build-system], pip builds a setup.py project with setuptools.
                reqs.setdefault(parent, []).extend(["setuptools", *_setup_py_requirements(text)])
        elif name in ("ruff.toml", ".ruff.toml"):
            data = load_toml(f.data) or {}
            target = data.get("target-version")
            parsed = parse_target_version(target) if isinstance(target, str) else None
            if parsed is not None:
                targets[parent] = parsed
        elif _REQUIREMENTS.fullmatch(name) or (
            "requirements" in parent.split("/") and name.endswith((".txt", ".in"))
        ):
            # `requirements/dev.txt` and `requirements/extras/redis.txt` belong to the project
            # holding `requirements/`.
            parts = parent.split("/")
            owner = (
                "/".join(parts[: len(parts) - 1 - parts[::-1].index("requirements")])
                if "requirements" in parts
                else parent
            )
            manifests.add(owner)
            reqs.setdefault(owner, []).extend(
                _requirements_lines(f.data.decode("utf-8", "replace"))
            )
    projects = {
        root: Project(
            root=root,
            has_manifest=True,
            declared=frozenset(_requirement_names(reqs.get(root, ()))),
            target=targets.get(root),
        )
        for root in sorted(manifests | set(targets))
    }
    return Projects(projects, tree)


class Projects:
    """The projects of one tree, and the questions checkers ask about a path."""

    def __init__(self, projects: Mapping[str, Project], tree: Mapping[str, File]) -> None:
        self.by_root = dict(projects)
        self._tree = tree
        self._chain: dict[str, tuple[Project, ...]] = {}
        tops: set[str] = set()
        for path in tree:
            if not path.endswith((".py", ".pyi", ".so", ".pyd")):
                continue
            for root in self.by_root.keys() | {""}:
                prefix = f"{root}/" if root else ""
                if not path.startswith(prefix):
                    continue
                rest = path[len(prefix) :]
                for layout in ("", "src/", "lib/", "python/"):
                    if not rest.startswith(layout):
                        continue
                    first = rest[len(layout) :].split("/")
                    top = first[0] if len(first) > 1 else first[0].split(".", 1)[0]
                    if top.isidentifier():
                        tops.add(top)
        self.top_level = frozenset(tops)

    def chain(self, path: str) -> tuple[Project, ...]:
        """The projects enclosing ``path``, nearest first."""
        directory = _parent(path)
        cached = self._chain.get(directory)
        if cached is not None:
            return cached
        found: list[Project] = []
        d = directory
        while True:
            if d in self.by_root:
                found.append(self.by_root[d])
            if not d:
                break
            d = _parent(d)
        self._chain[directory] = tuple(found)
        return self._chain[directory]

    def declared(self, path: str) -> frozenset[str]:
        """Import names declared by every project enclosing ``path``."""
        names: set[str] = set()
        for project in self.chain(path):
            names |= project.declared
        return frozenset(names)

    def has_manifest(self, path: str) -> bool:
        return bool(self.chain(path))

    def target(self, path: str) -> tuple[int, int] | None:
        """The oldest Python the nearest project saying so supports, or None."""
        for project in self.chain(path):
            if project.target is not None:
                return project.target
        return None

    def optional_code(self, path: str) -> bool:
        """Whether ``path`` lies in a docs, examples, scripts... directory at the top of the
        tree or of one of its projects."""
        if is_optional_code(path):
            return True
        for project in self.chain(path):
            if project.root and is_optional_code(path[len(project.root) + 1 :]):
                return True
        return False

    def own_requirements(self, path: str) -> bool:
        """Whether the optional-code directory holding ``path`` declares requirements itself
        (`docs/requirements.txt`): then its imports are judged against them as usual."""
        return any(p.root and self.optional_code(f"{p.root}/x") for p in self.chain(path))


def target_sources(path: str, tree: Mapping[str, File]) -> list[str]:
    """The files that may set ``path``'s target Python: each `pyproject.toml`, `ruff.toml` and
    `.ruff.toml` in a directory above it (a checker judging syntax per target depends on them)."""
    found = []
    directory = _parent(path)
    while True:
        for name in ("pyproject.toml", "ruff.toml", ".ruff.toml"):
            candidate = f"{directory}/{name}" if directory else name
            if candidate in tree:
                found.append(candidate)
        if not directory:
            return found
        directory = _parent(directory)


def is_optional_code(path: str) -> bool:
    """Whether ``path``'s first directory is a docs, examples, scripts... directory."""
    parts = path.split("/")
    return len(parts) > 1 and parts[0] in OPTIONAL_CODE_DIRS
