"""The one interface every checker implements, and the finding it reports.

A checker reads an in-memory tree and returns findings. Checkers that look at one file at a
time implement :meth:`Checker.check_file`, whose result the content-addressed cache stores under
(checker, checker version, config digest, file digest, dependency fingerprint). Checkers that are
cheaper in one batch (ruff, bandit) override :meth:`Checker.check_files`; checkers that read
other files to judge one (imports) say which in :meth:`Checker.dependencies`, and
:meth:`Checker.dependency_fingerprint` turns that (by default with the path) into the key part.
A checker declares its options model in :attr:`Checker.options_model` and reads them, typed,
from :attr:`CheckContext.options`; the config digest covers them.
"""

from __future__ import annotations

import enum
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.checks.options import CheckerOptions
from bot.errors import CheckError
from bot.tree import File

__all__ = ["CheckContext", "Checker", "Finding", "Severity", "options_error_text"]

OptionsT = TypeVar("OptionsT", bound=CheckerOptions)


class Severity(enum.StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {s: i for i, s in enumerate(Severity)}


class Finding(BaseModel):
    """One thing a checker found. Never holds a secret value: only where and what kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checker: str
    rule: str
    severity: Severity
    path: str
    line: int | None = None
    message: str


@dataclass(frozen=True)
class CheckContext:
    """What a checker sees: the whole tree, the paths to judge, and its own typed options."""

    tree: Mapping[str, File]
    paths: Sequence[str]
    options: CheckerOptions = field(default_factory=CheckerOptions)

    def options_as(self, model: type[OptionsT]) -> OptionsT:
        """The options as ``model`` (the checker's own options class).

        The policy hands each checker an instance of its own model; a context built without
        options (a test, a caller outside the runner) gets that model's defaults.
        """
        if isinstance(self.options, model):
            return self.options
        try:
            return model.model_validate(self.options.model_dump(exclude_unset=True))
        except ValidationError as exc:
            raise CheckError(options_error_text(exc, "options")) from None


class Checker(ABC):
    """Base class of every checker. Subclasses set ``name``, ``version`` and, when they take
    options besides ``max_file_bytes``, ``options_model``."""

    name: ClassVar[str]
    version: ClassVar[str]
    options_model: ClassVar[type[CheckerOptions]] = CheckerOptions

    def applies_to(self, path: str) -> bool:
        """Whether this checker looks at ``path`` at all (by default, every file)."""
        return True

    def config_digest(self, ctx: CheckContext) -> str:
        """A digest of everything besides the file itself that changes this checker's verdict."""
        blob = json.dumps(ctx.options.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def dependencies(self, path: str, ctx: CheckContext) -> Sequence[str]:
        """Other paths of the tree whose content this checker reads to judge ``path``."""
        return ()

    def dependency_fingerprint(self, path: str, ctx: CheckContext) -> str:
        """A digest of everything besides the file's bytes and the config that its findings
        depend on; the cache keys on it.

        By default: the path itself and the sorted digests of :meth:`dependencies` (a missing
        one counts as absent). A checker may narrow it to the facts it actually uses (the
        validator keys on whether the path is test code and on how each of the file's imports
        resolves, not on the path and whole files), so that near-identical trees share cache
        entries. It must change whenever the findings could.
        """
        h = hashlib.sha256(f"path\0{path}\n".encode())
        for dep in sorted(set(self.dependencies(path, ctx))):
            f = ctx.tree.get(dep)
            h.update(f"{dep}\0{f.sha256 if f is not None else '-'}\n".encode())
        return h.hexdigest()

    @abstractmethod
    def check_file(self, path: str, file: File, ctx: CheckContext) -> list[Finding]:
        """Findings for one file."""

    def check_files(self, paths: Sequence[str], ctx: CheckContext) -> dict[str, list[Finding]]:
        """Findings for several files; override when one batch is cheaper than many calls."""
        return {p: self.check_file(p, ctx.tree[p], ctx) for p in paths}


def options_error_text(exc: ValidationError, where: str, *, sep: str = ".") -> str:
    """A pydantic error as ``where<sep>key.path: what is wrong`` lines, in plain words."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}{sep}{loc}: {msg}" if loc else f"{where}: {msg}")
    return "\n".join(lines)
