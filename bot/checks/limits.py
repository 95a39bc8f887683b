"""Size and memory limits every checker applies, so one huge file cannot exhaust the worker.

A file over a checker's ``max_file_bytes`` option (default 1 MiB, see
:mod:`bot.checks.options`) is not analysed: it gets one info finding saying so, never an error
that blocks. Tools run in a subprocess (ruff, mypy) run under an address-space ceiling,
``max_memory_mb`` (default 2048); a run that hits it is reported as a checker that could not
run, naming the limit.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence

from bot.checks.base import Finding, Severity
from bot.checks.options import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_MEMORY_MB
from bot.tree import File

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_MAX_MEMORY_MB",
    "TOO_LARGE",
    "memory_ceiling",
    "not_analysed_for_target",
    "out_of_memory",
    "split_by_size",
    "too_large",
]

TOO_LARGE = "file-too-large"


def too_large(checker: str, path: str, size: int, limit: int) -> Finding:
    """The info finding of a file the checker did not analyse because of its size."""
    return Finding(
        checker=checker,
        rule=TOO_LARGE,
        severity=Severity.INFO,
        path=path,
        message=(
            f"not analysed: too large ({size} bytes, over {checker}'s limit of {limit}; "
            f"raise checks: checkers: {checker}: options: max_file_bytes to analyse it)"
        ),
    )


def not_analysed_for_target(checker: str, path: str, target: tuple[int, int]) -> Finding:
    """The info finding of a file valid only for a newer Python than evobot runs on."""
    return Finding(
        checker=checker,
        rule="not-analysed",
        severity=Severity.INFO,
        path=path,
        message=f"not analysed: needs Python >= {target[0]}.{target[1]} (the project's target; "
        f"evobot runs on {sys.version_info[0]}.{sys.version_info[1]}, whose parser refuses it); "
        "ruff judges its syntax for the target",
    )


def split_by_size(
    checker: str, paths: Sequence[str], tree: Mapping[str, File], limit: int
) -> tuple[list[str], dict[str, list[Finding]]]:
    """The paths within ``limit``, and a too-large finding for each of the others."""
    within: list[str] = []
    over: dict[str, list[Finding]] = {}
    for p in paths:
        size = len(tree[p].data)
        if size > limit:
            over[p] = [too_large(checker, p, size, limit)]
        else:
            within.append(p)
    return within, over


def memory_ceiling(megabytes: int) -> Callable[[], None]:
    """A ``preexec_fn`` that caps the child's address space (RLIMIT_AS) at ``megabytes``.

    Runs in the child after fork, so only the tool is limited, never evobot itself. Where the
    platform has no RLIMIT_AS the child runs unlimited.
    """
    limit = megabytes * 1024 * 1024

    def apply() -> None:
        try:
            import resource

            _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        except (ImportError, AttributeError, ValueError, OSError):
            return

    return apply


_OOM_SIGNS = (
    "memory allocation",
    "MemoryError",
    "out of memory",
    "Cannot allocate memory",
    "failed to allocate",
    "failed to map segment",
)


def out_of_memory(returncode: int, stderr: str) -> bool:
    """Whether a failed tool's exit looks like hitting the memory ceiling: an allocation
    failure, or the abort, kill or segfault (a stack that cannot be mapped) that follows one."""
    if returncode == 0:
        return False
    return returncode in (-6, -9, -11, 134, 137, 139) or any(s in stderr for s in _OOM_SIGNS)
