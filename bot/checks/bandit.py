"""bandit's security findings, from one in-process bandit run over a temporary tree.

bandit rates each issue by severity and by confidence; :data:`SEVERITY_MAP` folds the pair into
evobot's one severity. The consumer's bandit config (`[tool.bandit]` in pyproject.toml, or a
`.bandit` INI file at the root) is passed to bandit when present.
"""

from __future__ import annotations

import configparser
import fnmatch
import hashlib
import json
import sys
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any, ClassVar

from bot.checks._memo import PerTree
from bot.checks._projects import parse_projects, target_sources
from bot.checks._toml import load_toml
from bot.checks.base import CheckContext, Checker, Finding, Severity
from bot.checks.limits import not_analysed_for_target, split_by_size
from bot.checks.options import CheckerOptions, SizeLimitedOptions
from bot.errors import CheckError
from bot.tree import File, write_tree

__all__ = ["SEVERITY_MAP", "BanditChecker", "BanditOptions"]

# (bandit severity, bandit confidence) -> evobot severity.
SEVERITY_MAP: dict[tuple[str, str], Severity] = {
    ("HIGH", "HIGH"): Severity.HIGH,
    ("HIGH", "MEDIUM"): Severity.HIGH,
    ("HIGH", "LOW"): Severity.MEDIUM,
    ("MEDIUM", "HIGH"): Severity.MEDIUM,
    ("MEDIUM", "MEDIUM"): Severity.MEDIUM,
    ("MEDIUM", "LOW"): Severity.LOW,
    ("LOW", "HIGH"): Severity.LOW,
    ("LOW", "MEDIUM"): Severity.LOW,
    ("LOW", "LOW"): Severity.INFO,
}


def _bandit_version() -> str:
    try:
        return dist_version("bandit")
    except PackageNotFoundError:
        return "absent"


def _pyproject_bandit(tree: Mapping[str, File]) -> dict[str, Any] | None:
    f = tree.get("pyproject.toml")
    if f is None:
        return None
    data = load_toml(f.data)
    if data is None:
        return None
    section = (data.get("tool") or {}).get("bandit")
    return section if isinstance(section, dict) else None


def _ini_options(tree: Mapping[str, File]) -> dict[str, str] | None:
    """The `[bandit]` section of a root `.bandit` file, as bandit's CLI would read it."""
    f = tree.get(".bandit")
    if f is None:
        return None
    parser = configparser.ConfigParser()
    try:
        parser.read_string(f.data.decode("utf-8"), source=".bandit")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise CheckError(f".bandit: not a valid INI file: {exc}") from None
    if not parser.has_section("bandit"):
        return {}
    return dict(parser.items("bandit"))


def _exclude_patterns(tree: Mapping[str, File]) -> list[str]:
    patterns: list[str] = []
    section = _pyproject_bandit(tree) or {}
    excluded = section.get("exclude_dirs") or []
    patterns += [str(p) for p in excluded] if isinstance(excluded, list) else [str(excluded)]
    ini = _ini_options(tree) or {}
    for raw in (ini.get("exclude") or "").split(","):
        if raw.strip():
            patterns += [raw.strip(), raw.strip().rstrip("/") + "/*"]
    return sorted(set(patterns))


class BanditOptions(SizeLimitedOptions):
    """bandit takes only ``max_file_bytes`` here: its tests are configured in the service's
    pyproject.toml (``[tool.bandit]``) or .bandit."""

    configured_elsewhere: ClassVar[str] = (
        "configure bandit's tests in the service's pyproject.toml ([tool.bandit]) or .bandit"
    )


class BanditChecker(Checker):
    """bandit over Python files, severity and confidence folded by :data:`SEVERITY_MAP`."""

    name: ClassVar[str] = "bandit"
    version: ClassVar[str] = f"1.1.0+bandit-{_bandit_version()}"
    options_model: ClassVar[type[CheckerOptions]] = BanditOptions

    def __init__(self) -> None:
        self._patterns = PerTree(_exclude_patterns)
        self._projects = PerTree(parse_projects)

    def dependencies(self, path: str, ctx: CheckContext) -> Sequence[str]:
        # The project files that set the target Python, which decides the syntax verdict.
        return target_sources(path, ctx.tree)

    def _newer_target(self, path: str, ctx: CheckContext) -> tuple[int, int] | None:
        """The project's target Python when it is newer than the one evobot runs on."""
        target = self._projects.get(ctx.tree).target(path)
        return target if target is not None and target > sys.version_info[:2] else None

    def applies_to(self, path: str) -> bool:
        return path.endswith(".py")

    def config_digest(self, ctx: CheckContext) -> str:
        blob = json.dumps(
            {
                "options": ctx.options_as(BanditOptions).model_dump(mode="json"),
                "map": sorted((f"{k[0]}/{k[1]}", v.value) for k, v in SEVERITY_MAP.items()),
                "pyproject": _pyproject_bandit(ctx.tree),
                "ini": _ini_options(ctx.tree),
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def dependency_fingerprint(self, path: str, ctx: CheckContext) -> str:
        # bandit judges each file on its own; a consumer config can only exclude it, by
        # bandit's rule: a pattern that globs the path or is a substring of it. Keying on those
        # outcomes, not the path, lets equal files at different package paths share entries.
        # The project's target Python decides whether a file this interpreter cannot parse is
        # an error or merely not analysed.
        newer = self._newer_target(path, ctx)
        patterns = self._exclude_patterns(ctx)
        if not patterns and newer is None:
            return ""
        outcomes = [(fnmatch.fnmatch(path, g), g in path) for g in patterns]
        return hashlib.sha256(json.dumps([outcomes, newer]).encode()).hexdigest()

    def _exclude_patterns(self, ctx: CheckContext) -> list[str]:
        return self._patterns.get(ctx.tree)

    def check_file(self, path: str, file: File, ctx: CheckContext) -> list[Finding]:
        return self.check_files([path], ctx).get(path, [])

    def check_files(self, paths: Sequence[str], ctx: CheckContext) -> dict[str, list[Finding]]:
        options = ctx.options_as(BanditOptions)
        results: dict[str, list[Finding]] = {p: [] for p in paths}
        patterns = self._exclude_patterns(ctx)
        # bandit's own rule for explicitly named files, applied to the tree path (bandit would
        # apply it to the temporary path, whose directory name is not the consumer's).
        judged = [p for p in paths if not any(fnmatch.fnmatch(p, g) or g in p for g in patterns)]
        # bandit parses in this process: the size cap is what bounds its memory.
        judged, over = split_by_size(self.name, judged, ctx.tree, options.max_file_bytes)
        results.update(over)
        if not judged:
            return results
        keep = {p: ctx.tree[p] for p in judged}
        if _pyproject_bandit(ctx.tree) is not None:
            keep["pyproject.toml"] = ctx.tree["pyproject.toml"]
        with tempfile.TemporaryDirectory(prefix="evobot-bandit-") as tmp:
            root = Path(tmp)
            write_tree(root, keep)
            issues, skipped = _run_bandit(root, judged, ctx.tree)
        for rel, reason in skipped:
            newer = self._newer_target(rel, ctx)
            if rel in results and newer is not None and "syntax error" in reason:
                results[rel].append(not_analysed_for_target(self.name, rel, newer))
            elif rel in results:
                results[rel].append(
                    Finding(
                        checker=self.name,
                        rule="error",
                        severity=Severity.HIGH,
                        path=rel,
                        message=f"bandit could not scan this file: {reason}",
                    )
                )
        for issue in issues:
            rel = str(issue.get("filename", ""))
            if rel not in results:
                continue
            sev = str(issue.get("issue_severity", "")).upper()
            conf = str(issue.get("issue_confidence", "")).upper()
            results[rel].append(
                Finding(
                    checker=self.name,
                    rule=str(issue.get("test_id", "B000")),
                    severity=SEVERITY_MAP.get((sev, conf), Severity.MEDIUM),
                    path=rel,
                    line=issue.get("line_number"),
                    message=f"{_safe_text(issue)} "
                    f"(bandit severity {sev.lower()}, confidence {conf.lower()})",
                )
            )
        return results


# bandit's hard-coded password tests quote the password in their text; findings never carry
# a secret value, so those get a fixed description instead.
_QUOTING_SECRETS = {
    "B105": "Possible hardcoded password assigned to a variable",
    "B106": "Possible hardcoded password passed as a function argument",
    "B107": "Possible hardcoded password as a default argument",
}


def _safe_text(issue: Mapping[str, Any]) -> str:
    test_id = str(issue.get("test_id", ""))
    return _QUOTING_SECRETS.get(test_id) or str(issue.get("issue_text", ""))


def _run_bandit(
    root: Path, paths: Sequence[str], tree: Mapping[str, File]
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """bandit's manager, in process, the way its CLI drives it: config file, profile from
    `tests`/`skips` (config, then `.bandit`), every named file scanned. In process because the
    CLI's start-up (~0.25 s) would otherwise dominate checking a fleet."""
    try:
        with warnings.catch_warnings():
            # bandit's plugin loading passes an argument stevedore has deprecated
            warnings.simplefilter("ignore")
            from bandit.core import config as b_config
            from bandit.core import extension_loader, utils
            from bandit.core import manager as b_manager
    except ImportError:
        raise CheckError("bandit: the bandit package is not installed") from None
    config_file = str(root / "pyproject.toml") if (root / "pyproject.toml").is_file() else None
    try:
        conf = b_config.BanditConfig(config_file=config_file)
    except utils.ConfigError as exc:
        raise CheckError(f"bandit: invalid [tool.bandit] in pyproject.toml: {exc}") from None
    profile = {
        "include": set(conf.get_option("tests") or []),
        "exclude": set(conf.get_option("skips") or []),
    }
    ini = _ini_options(tree) or {}
    profile["include"].update(t.strip() for t in (ini.get("tests") or "").split(",") if t.strip())
    profile["exclude"].update(t.strip() for t in (ini.get("skips") or "").split(",") if t.strip())
    try:
        extension_loader.MANAGER.validate_profile(profile)
    except ValueError as exc:
        raise CheckError(
            f"bandit: {exc}", hint="check `tests` and `skips` in the bandit config"
        ) from None
    manager = b_manager.BanditManager(conf, "file", profile=profile, quiet=True)
    if not manager.b_ts.tests:
        raise CheckError("bandit: no tests would run; the bandit config skips all of them")
    by_abs = {str(root / p): p for p in paths}
    manager.files_list = sorted(by_abs)
    try:
        manager.run_tests()
    except MemoryError:
        raise CheckError(
            "bandit ran out of memory",
            hint="lower checks: checkers: bandit: options: max_file_bytes",
        ) from None
    issues = []
    for issue in manager.get_issue_list():
        data = issue.as_dict(with_code=False)
        data["filename"] = by_abs.get(str(data.get("filename")), str(data.get("filename")))
        issues.append(data)
    skipped = [(by_abs.get(str(f), str(f)), str(reason)) for f, reason in manager.skipped]
    return issues, skipped
