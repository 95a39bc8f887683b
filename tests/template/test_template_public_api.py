"""The names other parts of evobot code against are exported, and only on purpose."""

from __future__ import annotations

import inspect

import bot.template


def test_contract_names_are_exported() -> None:
    contract = {
        "Manifest",
        "Question",
        "Migration",
        "load_manifest",
        "ResolvedTemplate",
        "open_template",
        "resolve_answers",
        "AnswerSet",
        "render_template",
        "RenderLimits",
    }
    assert contract <= set(bot.template.__all__)
    for name in bot.template.__all__:
        assert hasattr(bot.template, name), name


def test_contract_signatures_keep_their_parameters() -> None:
    params = inspect.signature(bot.template.open_template).parameters
    assert list(params)[:5] == ["source", "subdir", "vcs_ref", "git_http_headers", "cache_dir"]
    assert all(p.kind is p.KEYWORD_ONLY for name, p in params.items() if name != "source")
    answers = inspect.signature(bot.template.resolve_answers).parameters
    assert list(answers)[:3] == ["manifest", "given", "ask"]
    render = inspect.signature(bot.template.render_template).parameters
    assert list(render)[:3] == ["template", "answers", "limits"]
    limits = bot.template.RenderLimits()
    assert (limits.timeout_s, limits.memory_bytes, limits.in_process) == (30.0, 1 << 30, False)
