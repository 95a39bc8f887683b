"""Use cases: sequences of reads, decisions and writes, written against ports, with typed results.

The CLI, the webhook service's worker, the GitHub Action and the benchmarks all call these, so
"evolve a remote consumer and open its PR" and "revert a merged evolution" happen one way. A use
case takes the :class:`~bot.forge.port.Forge` port, a :class:`~bot.clock.Clock` and a
:class:`TemplateFetcher`; it never reads the environment or the wall clock itself.
"""

from __future__ import annotations

from bot.pipeline.evolve import (
    SECRET_BLOCK,
    CheckOptions,
    ChecksSummary,
    EvolvePrOptions,
    EvolvePrResult,
    evolve_pr,
)
from bot.pipeline.fetch import GitTemplateFetcher, TemplateFetcher
from bot.pipeline.revert import RevertPrOptions, RevertPrResult, revert_pr
from bot.pipeline.template_access import TemplateAccess

__all__ = [
    "SECRET_BLOCK",
    "CheckOptions",
    "ChecksSummary",
    "EvolvePrOptions",
    "EvolvePrResult",
    "GitTemplateFetcher",
    "RevertPrOptions",
    "RevertPrResult",
    "TemplateAccess",
    "TemplateFetcher",
    "evolve_pr",
    "revert_pr",
]
