"""Templates: the manifest, sources at a version, answers, and sandboxed rendering to a tree."""

from __future__ import annotations

from bot.globs import matches_any, path_matches
from bot.template.answers import AnswerError, AnswerSet, coerce_answer, resolve_answers
from bot.template.manifest import (
    MANIFEST_NAME,
    Manifest,
    Migration,
    Question,
    Validator,
    load_manifest,
    parse_manifest,
    parse_tag_version,
)
from bot.template.render import render_template
from bot.template.sandbox import RenderLimits, Sandbox
from bot.template.source import ResolvedTemplate, list_versions, open_template, redact_url

__all__ = [
    "MANIFEST_NAME",
    "AnswerError",
    "AnswerSet",
    "Manifest",
    "Migration",
    "Question",
    "RenderLimits",
    "ResolvedTemplate",
    "Sandbox",
    "Validator",
    "coerce_answer",
    "list_versions",
    "load_manifest",
    "matches_any",
    "open_template",
    "parse_manifest",
    "parse_tag_version",
    "path_matches",
    "redact_url",
    "render_template",
    "resolve_answers",
]
