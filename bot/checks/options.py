"""The typed options of each checker, as its policy's `options:` mapping is validated into them.

Every checker declares a frozen model with ``extra="forbid"``; the policy validates the merged
`options:` of each checker into it once, when it loads, so a misspelt or ill-typed option is
reported at load naming the file and key, and a checker receives its options already typed.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_MAX_MEMORY_MB",
    "CheckerOptions",
    "PositiveInt",
    "SizeLimitedOptions",
    "SubprocessOptions",
]

DEFAULT_MAX_FILE_BYTES = 1024 * 1024
DEFAULT_MAX_MEMORY_MB = 2048

# Strict: `"1MB"`, `1.5` and `true` are refused rather than coerced.
PositiveInt = Annotated[int, Field(strict=True, gt=0)]


class CheckerOptions(BaseModel):
    """The base of every checker's options: none, and no unknown key allowed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Where the rest of this checker's configuration lives, for the hint of an unknown option.
    configured_elsewhere: ClassVar[str] = ""


class SizeLimitedOptions(CheckerOptions):
    """Options of a checker that reads whole files: the size above which one is not analysed."""

    max_file_bytes: PositiveInt = Field(
        default=DEFAULT_MAX_FILE_BYTES,
        description="files larger than this get one info finding instead of being analysed",
    )


class SubprocessOptions(SizeLimitedOptions):
    """Options of a checker that runs a tool in a subprocess: its address-space ceiling."""

    max_memory_mb: PositiveInt = Field(
        default=DEFAULT_MAX_MEMORY_MB,
        description="address-space ceiling, in MiB, of the tool's subprocess",
    )
