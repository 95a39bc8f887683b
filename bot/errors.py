"""The one root error of evobot and its few families.

Every error meant for a person carries a message that names what is wrong and where; the CLI,
the web edge and the Action each turn it into an exit code, an HTTP status or an `::error::`
line in exactly one place.
"""

from __future__ import annotations

__all__ = [
    "CheckError",
    "ConsumerConfigError",
    "EvobotError",
    "ForgeError",
    "ManifestError",
    "MergeError",
    "ReadError",
    "RenderError",
    "TemplateSourceError",
    "WebhookError",
    "WriteError",
]


class EvobotError(Exception):
    """Root of every error evobot raises on purpose. ``message`` is for people."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """The message, followed by the hint when there is one."""
        if self.hint:
            return f"{self.message}\nhint: {self.hint}"
        return self.message


class ManifestError(EvobotError):
    """A `template.yml` that is missing, malformed or invalid."""


class TemplateSourceError(EvobotError):
    """A template source (directory, git repository, ref) that cannot be read."""


class RenderError(EvobotError):
    """A template that cannot be rendered safely: bad paths, Jinja errors, sandbox violations."""


class ConsumerConfigError(EvobotError):
    """A consumer's `.evobot.yml` that is missing, malformed or invalid."""


class MergeError(EvobotError):
    """An evolution that cannot be applied (a dirty work tree, a failing `git merge-file`)."""


class CheckError(EvobotError):
    """A checker that could not run, or a policy that is invalid."""


class ForgeError(EvobotError):
    """A GitHub call that failed for good. Never carries a token or key in its message."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class ReadError(EvobotError):
    """A file or directory that cannot be read: no permission, a file where a directory must be,
    or another operating-system error. The message names the path."""


class WriteError(EvobotError):
    """A tree that cannot be written to disk: a path taken by a file or directory of the other
    kind, or an operating-system error. Nothing of the tree has been written when it is raised."""


class WebhookError(EvobotError):
    """A webhook delivery that is refused: unsigned, badly signed, too large or malformed.

    ``status`` is the HTTP status the web edge answers with (401 for a signature problem).
    """

    def __init__(self, message: str, *, status: int = 400, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
