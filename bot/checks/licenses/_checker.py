"""The license checker: SPDX headers, license files and dependency licenses, judged by the
license policy."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from bot.checks.base import CheckContext, Checker, Finding, Severity
from bot.checks.licenses._data import _data, _version
from bot.checks.licenses._manifests import (
    _declared_in_pyproject,
    _declared_in_requirements,
    _lesser_alongside,
    _recorded_licenses,
    _role,
    _sibling_license_files,
    _Unreadable,
)
from bot.checks.licenses._policy import (
    _RULE,
    _SEVERITY,
    _WHY,
    LicenseOptions,
    LicensePolicy,
    Status,
    _ids,
    parse_spdx,
)
from bot.checks.licenses._texts import Identified, identify_license_text
from bot.checks.options import CheckerOptions
from bot.tree import File, is_binary

# --------------------------------------------------------------------------------------------
# Checker


@dataclass(frozen=True)
class _Judgement:
    status: Status
    normalized: str
    deciding: list[str]


class LicenseChecker(Checker):
    """Reports licenses that the policy denies or flags, and licenses it cannot establish.

    Its options are :class:`LicenseOptions`.
    """

    name: ClassVar[str] = "licenses"
    version: ClassVar[str] = _version()
    options_model: ClassVar[type[CheckerOptions]] = LicenseOptions

    def _license_files(self, ctx: CheckContext) -> list[str]:
        return list(ctx.options_as(LicenseOptions).license_files)

    def _sources(self, ctx: CheckContext) -> list[str]:
        files = [p for p in self._license_files(ctx) if p in ctx.tree]
        metadata = sorted(p for p in ctx.tree if re.search(r"\.dist-info/METADATA$", p))
        return files + metadata

    def dependencies(self, path: str, ctx: CheckContext) -> Sequence[str]:
        role = _role(path)
        if role in ("pyproject", "requirements"):
            return self._sources(ctx)
        if role == "license":
            return _sibling_license_files(path, ctx.tree)
        return ()

    def dependency_fingerprint(self, path: str, ctx: CheckContext) -> str:
        # Narrower than the default (which includes the path): what the path decides is how
        # the file is read (a LICENSE text, a pyproject.toml, a requirements file, or only its
        # header), plus the recorded-license files a dependency list is judged against.
        h = hashlib.sha256(_role(path).encode())
        for dep in sorted(set(self.dependencies(path, ctx))):
            f = ctx.tree.get(dep)
            h.update(f"\n{dep}\0{f.sha256 if f is not None else '-'}".encode())
        return h.hexdigest()

    def check_file(self, path: str, file: File, ctx: CheckContext) -> list[Finding]:
        if is_binary(file.data):
            return []
        options = ctx.options_as(LicenseOptions)
        policy = LicensePolicy.from_options(options)
        limit = options.header_bytes
        findings: list[Finding] = []
        raw_head = file.data[:limit]
        head = raw_head.decode("utf-8", errors="replace") if b"SPDX-License" in raw_head else ""
        headers = 0
        for match in _SPDX_HEADER.finditer(head):
            expr = _TRAILERS.sub("", match.group("expr")).strip()
            if "{{" in expr or "{%" in expr:
                continue  # a template's header, filled in when it is rendered
            line = head.count("\n", 0, match.start("expr")) + 1
            findings.extend(self._judge(policy, expr, path, line, "SPDX header"))
            headers += 1
        role = _role(path)
        if role == "other":
            return findings
        text = file.data.decode("utf-8", errors="replace")
        if role == "license":
            text_findings = self._license_text(policy, text, path, ctx)
            if headers:  # the file says what it is; an unrecognised text adds nothing
                text_findings = [f for f in text_findings if f.rule != "license-text-unknown"]
            findings.extend(text_findings)
        elif role == "pyproject":
            findings.extend(self._project_license(policy, text, path))
            findings.extend(self._dependencies(policy, text, path, ctx, pyproject=True))
        else:
            findings.extend(self._dependencies(policy, text, path, ctx, pyproject=False))
        return findings

    def _finding(
        self, rule: str, severity: Severity, path: str, line: int | None, message: str
    ) -> Finding:
        return Finding(
            checker=self.name, rule=rule, severity=severity, path=path, line=line, message=message
        )

    def _judge(
        self, policy: LicensePolicy, expr: str, path: str, line: int | None, what: str
    ) -> list[Finding]:
        parsed = parse_spdx(expr)
        if isinstance(parsed, str):
            return [self._finding("spdx-invalid", Severity.LOW, path, line, f"{what}: {parsed}")]
        status, deciding = policy.classify(parsed)
        if status is Status.ALLOWED:
            return []
        return [
            self._finding(
                _RULE[status],
                _SEVERITY[status],
                path,
                line,
                (
                    f"{what} says {parsed.normalized}, which {_WHY[status]}"
                    if deciding == [parsed.normalized]
                    else f"{what} says {parsed.normalized}: {', '.join(deciding)} {_WHY[status]}"
                ),
            )
        ]

    def _license_text(
        self, policy: LicensePolicy, text: str, path: str, ctx: CheckContext
    ) -> list[Finding]:
        found = identify_license_text(text)
        lesser = _lesser_alongside(found, path, ctx.tree)
        if lesser is not None:
            # The LGPL is a set of permissions on top of the GPL, so LGPL projects ship the GPL
            # text next to it (COPYING + COPYING.LESSER): judge the pair as the LGPL.
            found = [
                Identified(lesser.family, lesser.candidates, ident.how)
                if ident.family == "GPL-3.0"
                else ident
                for ident in found
            ]
        if not found:
            return [
                self._finding(
                    "license-text-unknown",
                    Severity.INFO,
                    path,
                    None,
                    "license text not recognised; its license is unknown (not guessed) — add an "
                    "SPDX-License-Identifier line or use a standard text",
                )
            ]
        findings = []
        if all(ident.how == "contained" for ident in found):
            names = " and ".join(ident.family for ident in found)
            findings.append(
                self._finding(
                    "license-text-unknown",
                    Severity.INFO,
                    path,
                    None,
                    f"contains the text of {names} next to other text that was not recognised; "
                    "the license of the whole is unknown (not guessed)",
                )
            )
        for ident in found:
            status = policy.classify_candidates(ident.candidates)
            what = (
                ident.candidates[0]
                if len(ident.candidates) == 1
                else f"{ident.family} ({' or '.join(ident.candidates)}: the text does not say)"
            )
            if status is None:
                findings.append(
                    self._finding(
                        "license-unknown",
                        Severity.INFO,
                        path,
                        None,
                        f"license text of {what}; the policy treats the variants differently, "
                        "so its standing is unknown — add an SPDX-License-Identifier",
                    )
                )
            elif status is not Status.ALLOWED:
                findings.append(
                    self._finding(
                        _RULE[status],
                        _SEVERITY[status],
                        path,
                        None,
                        f"license text of {what} {_WHY[status]}",
                    )
                )
        return findings

    def _project_license(self, policy: LicensePolicy, text: str, path: str) -> list[Finding]:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return []  # reported once, by the dependency scan below
        value = (data.get("project") or {}).get("license")
        where = re.search(r"^[ \t]*license[ \t]*=", text, re.M)
        line = text.count("\n", 0, where.start()) + 1 if where else None
        what = "project license (pyproject.toml)"
        if isinstance(value, str):  # PEP 639: an SPDX expression
            return self._judge(policy, value, path, line, what)
        if isinstance(value, dict) and isinstance(value.get("text"), str):
            # The older table form holds free text: judged like recorded dependency metadata.
            judgement = self._judge_recorded(policy, value["text"])
            if judgement.status is Status.ALLOWED:
                return []
            if judgement.status is Status.UNKNOWN and not judgement.deciding:
                message = (
                    f"{what} is {value['text'][:80]!r}, not an SPDX expression; its license is "
                    'unknown — write `license = "<SPDX expression>"`'
                )
            else:
                message = (
                    f"{what} is {judgement.normalized}: {', '.join(judgement.deciding)} "
                    f"{_WHY[judgement.status]}"
                )
            return [
                self._finding(
                    _RULE[judgement.status], _SEVERITY[judgement.status], path, line, message
                )
            ]
        return []

    def _dependencies(
        self, policy: LicensePolicy, text: str, path: str, ctx: CheckContext, *, pyproject: bool
    ) -> list[Finding]:
        try:
            declared, bad = (
                _declared_in_pyproject(text, path) if pyproject else _declared_in_requirements(text)
            )
        except _Unreadable as exc:
            return [self._finding("dependencies-unreadable", Severity.INFO, path, None, str(exc))]
        findings = [
            self._finding(
                "dependencies-unreadable",
                Severity.INFO,
                path,
                None,
                f"cannot read requirement {item}; its license was not checked",
            )
            for item in bad
        ]
        if not declared:
            return findings
        sources = self._sources(ctx)
        if not sources:
            return [
                *findings,
                self._finding(
                    "dependency-license-unknown",
                    Severity.INFO,
                    path,
                    None,
                    f"licenses unknown for the {len(declared)} dependencies declared here: the "
                    "tree records none (add .evobot/licenses.yml, pip-licenses JSON output as "
                    "licenses.json, or *.dist-info/METADATA)",
                ),
            ]
        recorded = _recorded_licenses(ctx.tree, sources)
        for dep in declared:
            rec = recorded.get(dep.name)
            if rec is None or not rec.value.strip():
                findings.append(
                    self._finding(
                        "dependency-license-unknown",
                        Severity.INFO,
                        path,
                        dep.line,
                        f"license unknown for dependency {dep.name}: none recorded in "
                        f"{', '.join(sources)}",
                    )
                )
                continue
            judgement = self._judge_recorded(policy, rec.value)
            if judgement.status is Status.ALLOWED:
                continue
            if judgement.status is Status.UNKNOWN and not judgement.deciding:
                message = (
                    f"license unknown for dependency {dep.name}: {rec.source} records "
                    f"{rec.value!r}, which is not an SPDX expression and does not settle the "
                    "policy; record an SPDX expression in .evobot/licenses.yml"
                )
            else:
                message = (
                    f"dependency {dep.name} is licensed {judgement.normalized} "
                    f"(recorded in {rec.source}): {', '.join(judgement.deciding)} "
                    f"{_WHY[judgement.status]}"
                )
            findings.append(
                self._finding(
                    "dependency-" + _RULE[judgement.status],
                    _SEVERITY[judgement.status],
                    path,
                    dep.line,
                    message,
                )
            )
        return findings

    def _judge_recorded(self, policy: LicensePolicy, value: str) -> _Judgement:
        parsed = parse_spdx(value)
        if not isinstance(parsed, str):
            status, deciding = policy.classify(parsed)
            return _Judgement(status, parsed.normalized, deciding)
        # Not SPDX: a trove classifier or a common name, possibly several joined by "; ".
        aliases: Mapping[str, list[str]] = _data()["aliases"]
        candidates: list[str] = []
        for part in (p.strip() for p in value.split(";")):
            if not part:
                continue
            spdx = parse_spdx(part)
            if not isinstance(spdx, str):
                candidates.extend(i for i in _ids(spdx))
                continue
            options = aliases.get(part.lower().strip(" .").replace("licence", "license"))
            if not options:
                return _Judgement(Status.UNKNOWN, value, [])
            candidates.extend(options)
        shared = policy.classify_candidates(candidates)
        if shared is None:
            return _Judgement(Status.UNKNOWN, value, [])
        return _Judgement(shared, f"{value!r} (read as {' / '.join(candidates)})", candidates)


_SPDX_HEADER = re.compile(
    r"^[ \t]*(?:#|//|/\*|\*|--|;|%|<!--|\{#|\.\.|rem\b|'|\"|REM\b)*[ \t]*"
    r"SPDX-License-Identifier:[ \t]*(?P<expr>[^\n]*)$",
    re.MULTILINE,
)
_TRAILERS = re.compile(r"(?:\*/|-->|#\}|\*\)|\"\"\"|'''|[\"',;])+\s*$")
