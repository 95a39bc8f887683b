"""Reading what a tree declares: dependencies (pyproject.toml, requirements files) and the
licenses recorded for them (mapping files, installed packages' METADATA)."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.parser import HeaderParser

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from bot.checks.licenses._texts import Identified, identify_license_text, is_license_file
from bot.errors import CheckError
from bot.tree import File, is_binary

# --------------------------------------------------------------------------------------------
# Dependencies


def _requirement_name(line: str) -> str | None:
    try:
        return canonicalize_name(Requirement(line).name)
    except InvalidRequirement:
        return None


def _is_requirements_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if not name.endswith((".txt", ".in")):
        return False
    return name.startswith("requirements") or "/requirements/" in f"/{path}"


@dataclass(frozen=True)
class _Declared:
    name: str  # canonical
    line: int | None


def _line_of(text: str, needle: str) -> int | None:
    idx = text.find(needle)
    return text.count("\n", 0, idx) + 1 if idx >= 0 else None


def _declared_in_pyproject(text: str, path: str) -> tuple[list[_Declared], list[str]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _Unreadable(
            f"{path} is not valid TOML ({exc}); its dependencies were not checked"
        ) from None
    specs: list[str] = []
    project = data.get("project") or {}
    specs.extend(s for s in project.get("dependencies") or [] if isinstance(s, str))
    for group in (project.get("optional-dependencies") or {}).values():
        specs.extend(s for s in group or [] if isinstance(s, str))
    for group in (data.get("dependency-groups") or {}).values():
        specs.extend(s for s in group or [] if isinstance(s, str))
    poetry = (data.get("tool") or {}).get("poetry") or {}
    poetry_names = [n for n in (poetry.get("dependencies") or {}) if n.lower() != "python"]
    for group in (poetry.get("group") or {}).values():
        poetry_names.extend((group or {}).get("dependencies") or {})
    declared: list[_Declared] = []
    bad: list[str] = []
    seen: set[str] = set()
    for spec in specs:
        name = _requirement_name(spec)
        if name is None:
            bad.append(spec)
            continue
        if name not in seen:
            seen.add(name)
            declared.append(_Declared(name, _line_of(text, f'"{spec}"') or _line_of(text, spec)))
    for raw_name in poetry_names:
        name = canonicalize_name(raw_name)
        if name not in seen:
            seen.add(name)
            where = re.search(rf"^[ \t]*[\"']?{re.escape(raw_name)}[\"']?[ \t]*=", text, re.M)
            line = text.count("\n", 0, where.start()) + 1 if where else None
            declared.append(_Declared(name, line))
    return declared, bad


def _declared_in_requirements(text: str) -> tuple[list[_Declared], list[str]]:
    declared: list[_Declared] = []
    bad: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip().rstrip("\\").strip()
        if not line or line.startswith(("-", ".", "/", "http://", "https://", "git+", "file:")):
            continue  # options (-r, -e, --hash), paths and bare URLs name no package
        line = re.sub(r"\s--hash=\S+", "", line).strip()
        name = _requirement_name(line)
        if name is None:
            bad.append(f"line {number}")
        else:
            declared.append(_Declared(name, number))
    return declared, bad


def _sibling_license_files(path: str, tree: Mapping[str, File]) -> list[str]:
    folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
    return sorted(
        p
        for p in tree
        if p != path and p.startswith(folder) and "/" not in p[len(folder) :] and is_license_file(p)
    )


def _lesser_alongside(
    found: Sequence[Identified], path: str, tree: Mapping[str, File]
) -> Identified | None:
    """The LGPL-3.0 text next to a GPL-3.0 text at ``path``, if there is one."""
    if not any(ident.family == "GPL-3.0" and ident.how == "phrases" for ident in found):
        return None
    for sibling in _sibling_license_files(path, tree):
        data = tree[sibling].data
        if is_binary(data):
            continue
        for ident in identify_license_text(data.decode("utf-8", errors="replace")):
            if ident.family == "LGPL-3.0":
                return ident
    return None


def _role(path: str) -> str:
    """How the checker reads ``path`` beyond its header."""
    if is_license_file(path):
        return "license"
    if path.rsplit("/", 1)[-1] == "pyproject.toml":
        return "pyproject"
    return "requirements" if _is_requirements_file(path) else "other"


class _Unreadable(Exception):
    """A declaration or metadata file that cannot be read; becomes an info finding."""


@dataclass(frozen=True)
class _Recorded:
    value: str  # what the metadata says, verbatim (an SPDX expression or a name)
    source: str  # the tree path it came from


def _recorded_licenses(tree: Mapping[str, File], paths: Sequence[str]) -> dict[str, _Recorded]:
    """Package name -> recorded license, from the mapping files first, then dist-info METADATA."""
    recorded: dict[str, _Recorded] = {}
    for path in paths:
        file = tree.get(path)
        if file is None or path.endswith("/METADATA"):
            continue
        for name, value in _read_mapping(path, file.data).items():
            recorded.setdefault(canonicalize_name(name), _Recorded(value, path))
    for path in paths:
        if path.endswith("/METADATA") and path in tree:
            item = _read_metadata(tree[path].data)
            if item is not None:
                recorded.setdefault(canonicalize_name(item[0]), _Recorded(item[1], path))
    return recorded


def _read_mapping(path: str, data: bytes) -> dict[str, str]:
    try:
        text = data.decode("utf-8")
        raw = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise CheckError(f"{path}: cannot read the recorded dependency licenses: {exc}") from None
    out: dict[str, str] = {}
    if raw is None:  # an empty file records nothing
        return out
    if isinstance(raw, list):  # pip-licenses --format=json
        for item in raw:
            if isinstance(item, dict) and isinstance(item.get("Name"), str):
                value = item.get("License-Expression") or item.get("License")
                if isinstance(value, str):
                    out[item["Name"]] = value
        return out
    if isinstance(raw, dict):
        packages = raw.get("packages", raw) if isinstance(raw.get("packages"), dict) else raw
        for name, value in packages.items():
            if isinstance(value, dict):
                value = value.get("license")
            if isinstance(name, str) and isinstance(value, str):
                out[name] = value
        return out
    raise CheckError(
        f"{path}: recorded dependency licenses must be a mapping of package to SPDX expression "
        "or pip-licenses JSON output"
    )


def _read_metadata(data: bytes) -> tuple[str, str] | None:
    headers = HeaderParser().parsestr(data.decode("utf-8", errors="replace"))
    name = headers.get("Name")
    if not name:
        return None
    expression = headers.get("License-Expression")
    if expression:
        return name, expression.strip()
    license_field = (headers.get("License") or "").strip()
    usable = "\n" not in license_field and len(license_field) <= 80
    if license_field and usable and license_field.upper() != "UNKNOWN":
        return name, license_field
    classifiers = [
        c.split("::")[-1].strip()
        for c in headers.get_all("Classifier") or []
        if c.startswith("License ::") and c.count("::") >= 2
    ]
    return name, "; ".join(classifiers)
