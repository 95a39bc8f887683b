"""The `TemplateFetcher` port: how a use case gets a consumer's evolution from its template.

Fetching a template is the pipeline's only use of git: :class:`GitTemplateFetcher` clones (or
reuses a cached mirror of) the template with the credentials the use case chose, renders the
old and new versions and merges them into the consumer's files. Tests may pass another fetcher.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from bot.consumer import ConsumerConfig
from bot.evolution import Evolution, evolve_consumer
from bot.template.source import resolve_ref
from bot.tree import File

__all__ = ["GitTemplateFetcher", "TemplateFetcher"]


@runtime_checkable
class TemplateFetcher(Protocol):
    """Evolve a consumer's files to a template version (default: the newest)."""

    def evolve(
        self,
        ours: Mapping[str, File],
        config: ConsumerConfig,
        *,
        vcs_ref: str | None,
        git_http_headers: Sequence[str],
    ) -> Evolution:
        """The evolution of ``ours`` (with its ``config``) to ``vcs_ref``; ``git_http_headers``
        authenticate to the template's git host and go nowhere else."""
        ...

    def resolve_ref(self, source: str, ref: str, *, git_http_headers: Sequence[str]) -> str:
        """The full commit id ``ref`` names in the template ``source`` (copier records a
        `git describe` name such as `v1.2.0-3-gabc1234`, cruft a branch or tag)."""
        ...


@dataclass(frozen=True)
class GitTemplateFetcher:
    """Fetch templates with git, keeping clones under ``cache_dir`` (default: none kept)."""

    cache_dir: Path | None = None

    def evolve(
        self,
        ours: Mapping[str, File],
        config: ConsumerConfig,
        *,
        vcs_ref: str | None,
        git_http_headers: Sequence[str],
    ) -> Evolution:
        return evolve_consumer(
            ours,
            config,
            vcs_ref=vcs_ref,
            git_http_headers=git_http_headers,
            cache_dir=self.cache_dir,
        )

    def resolve_ref(self, source: str, ref: str, *, git_http_headers: Sequence[str]) -> str:
        return resolve_ref(source, ref, git_http_headers=git_http_headers, cache_dir=self.cache_dir)
