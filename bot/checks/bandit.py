"""bandit's security findings, from one `bandit -f json` run over a temporary tree.

bandit rates each issue by severity and by confidence; :data:`SEVERITY_MAP` folds the pair into
evobot's one severity. The consumer's bandit config (`[tool.bandit]` in pyproject.toml, or a
`.bandit` INI file at the root) is passed to bandit when present.
"""

from __future__ import annotations

import configparser
import fnmatch
import hashlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any, ClassVar

from bot.checks._toml import load_toml
from bot.checks.base import CheckContext, Checker, Finding, Severity
from bot.errors import CheckError
from bot.tree import File, write_tree

__all__ = ["SEVERITY_MAP", "BanditChecker"]

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


class BanditChecker(Checker):
    """bandit over Python files, severity and confidence folded by :data:`SEVERITY_MAP`."""

    name: ClassVar[str] = "bandit"
    version: ClassVar[str] = f"1.0.0+bandit-{_bandit_version()}"

    def applies_to(self, path: str) -> bool:
        return path.endswith(".py")

    def config_digest(self, ctx: CheckContext) -> str:
        blob = json.dumps(
            {
                "settings": dict(ctx.settings),
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
        patterns = self._exclude_patterns(ctx)
        if not patterns:
            return ""
        outcomes = [(fnmatch.fnmatch(path, g), g in path) for g in patterns]
        return hashlib.sha256(json.dumps(outcomes).encode()).hexdigest()

    @staticmethod
    def _exclude_patterns(ctx: CheckContext) -> list[str]:
        patterns: list[str] = []
        section = _pyproject_bandit(ctx.tree) or {}
        excluded = section.get("exclude_dirs") or []
        patterns += [str(p) for p in excluded] if isinstance(excluded, list) else [str(excluded)]
        ini = _ini_options(ctx.tree) or {}
        for raw in (ini.get("exclude") or "").split(","):
            if raw.strip():
                patterns += [raw.strip(), raw.strip().rstrip("/") + "/*"]
        return sorted(set(patterns))

    def check_file(self, path: str, file: File, ctx: CheckContext) -> list[Finding]:
        return self.check_files([path], ctx).get(path, [])

    def check_files(self, paths: Sequence[str], ctx: CheckContext) -> dict[str, list[Finding]]:
        results: dict[str, list[Finding]] = {p: [] for p in paths}
        if not paths:
            return results
        keep = {p: ctx.tree[p] for p in paths}
        cmd = [sys.executable, "-m", "bandit", "-q", "-f", "json"]
        if _pyproject_bandit(ctx.tree) is not None:
            keep["pyproject.toml"] = ctx.tree["pyproject.toml"]
            cmd += ["-c", "pyproject.toml"]
        ini = _ini_options(ctx.tree)
        if ini is not None:
            keep[".bandit"] = ctx.tree[".bandit"]
            cmd += ["--ini", ".bandit"]
        with tempfile.TemporaryDirectory(prefix="evobot-bandit-") as tmp:
            root = Path(tmp)
            write_tree(root, keep)
            try:
                proc = subprocess.run(
                    [*cmd, "--", *paths], cwd=root, capture_output=True, check=False, timeout=600
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise CheckError(f"bandit: could not run: {exc}") from None
        if proc.returncode not in (0, 1):
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise CheckError(
                f"bandit failed (exit {proc.returncode}): {err[-1] if err else 'no output'}",
                hint="check the consumer's bandit configuration ([tool.bandit] or .bandit)",
            )
        try:
            report = json.loads(proc.stdout)
        except json.JSONDecodeError:
            raise CheckError("bandit: output is not JSON") from None
        for error in report.get("errors") or []:
            rel = _rel(str(error.get("filename", "")))
            if rel in results:
                results[rel].append(
                    Finding(
                        checker=self.name,
                        rule="error",
                        severity=Severity.HIGH,
                        path=rel,
                        message=f"bandit could not scan this file: {error.get('reason', '?')}",
                    )
                )
        for issue in report.get("results") or []:
            rel = _rel(str(issue.get("filename", "")))
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
                    message=f"{issue.get('issue_text', '')} "
                    f"(bandit severity {sev.lower()}, confidence {conf.lower()})",
                )
            )
        return results


def _rel(filename: str) -> str:
    return filename.removeprefix("./")
