"""Templates written for cookiecutter: `cookiecutter.json` read as an evobot manifest.

The variables become questions (a list is a choice whose first entry is the default, a boolean
a yes/no, a mapping a YAML value), private `_` variables ride along unprompted, and the one
`{{cookiecutter.…}}` directory beside `cookiecutter.json` holds the files. Answers are
resolved as cookiecutter does without input (``--no-input``, as cruft runs it): every default
rendered in order with the answers so far. Hooks and `_extensions` never run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bot.errors import ManifestError
from bot.parsing import load_json
from bot.template.answer_types import AnswerSet, answer_set
from bot.template.copier import render_string
from bot.template.dialect import Dialect
from bot.template.manifest import Manifest, Question, QuestionType
from bot.template.sandbox import RenderLimits, Sandbox, SandboxFailure, using_sandbox
from bot.tree import NotRegularFileError, read_regular_file

__all__ = ["COOKIECUTTER_CONFIG", "load_cookiecutter_manifest", "resolve_cookiecutter_answers"]

COOKIECUTTER_CONFIG = "cookiecutter.json"


def _project_dir(root: Path) -> str:
    found = sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and "cookiecutter" in p.name and "{{" in p.name and "}}" in p.name
    )
    if len(found) != 1:
        raise ManifestError(
            f"{root}: a cookiecutter template holds exactly one `{{{{cookiecutter.…}}}}` "
            f"directory beside {COOKIECUTTER_CONFIG}; found {len(found)}"
        )
    return found[0]


def _question(raw: Any) -> Question:
    if isinstance(raw, list):
        return Question.model_construct(
            type="choice", help=None, default=raw[0] if raw else None, choices=list(raw),
            validator=None, when=True, secret=False, placeholder=None, multiselect=False,
        )  # fmt: skip
    qtype: QuestionType = (
        "bool" if isinstance(raw, bool) else "yaml" if isinstance(raw, dict) else "str"
    )
    return Question.model_construct(
        type=qtype, help=None, default=raw, choices=None, validator=None, when=True,
        secret=False, placeholder=None, multiselect=False,
    )  # fmt: skip


def load_cookiecutter_manifest(root: Path, *, name: str | None = None) -> Manifest:
    """Read the cookiecutter template in ``root`` into a manifest with its cookiecutter dialect."""
    path = root / COOKIECUTTER_CONFIG
    try:
        data, _executable = read_regular_file(path)
    except NotRegularFileError as exc:
        raise ManifestError(f"{path}: is {exc.kind}; it must be a regular file") from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read: {exc.strerror or exc}") from None
    raw = load_json(data, source=COOKIECUTTER_CONFIG, error=ManifestError)
    if not isinstance(raw, dict):
        raise ManifestError(f"{COOKIECUTTER_CONFIG}: must be a JSON object of variables")
    extensions = raw.get("_extensions") or []
    if extensions:
        raise ManifestError(
            f"{COOKIECUTTER_CONFIG}: _extensions ({', '.join(map(str, extensions))}): Jinja "
            "extensions are Python code that runs while rendering, and evobot runs no "
            "template code",
            hint="render without the extensions, or keep using cookiecutter for this template",
        )
    if raw.get("__prompts__") is not None and not isinstance(raw["__prompts__"], dict):
        raise ManifestError(f"{COOKIECUTTER_CONFIG}: __prompts__: must be an object")
    hooks_dir = root / "hooks"
    hooks = sorted(p.name for p in hooks_dir.iterdir()) if hooks_dir.is_dir() else []
    project_dir = _project_dir(root)
    copy = raw.get("_copy_without_render") or []
    if not isinstance(copy, list) or not all(isinstance(p, str) for p in copy):
        raise ManifestError(f"{COOKIECUTTER_CONFIG}: _copy_without_render: must be a list of text")
    env_vars = raw.get("_jinja2_env_vars") or {}
    context = {k: v for k, v in raw.items() if k != "__prompts__"}
    dialect = Dialect(
        kind="cookiecutter",
        config_file=COOKIECUTTER_CONFIG,
        templates_suffix="",
        envops=dict(env_vars) if isinstance(env_vars, dict) else {},
        not_run=tuple(f"hook: hooks/{h}" for h in hooks),
        context=context,
        copy_without_render=tuple(copy),
        project_dir=project_dir,
    )
    questions = {k: _question(v) for k, v in raw.items() if not k.startswith("_")}
    return Manifest(
        name=name or root.name or "template",
        questions=questions,
        files_dir=project_dir,
        dialect=dialect,
    )


def _render(box: Sandbox, dialect: Dialect, raw: Any, answers: Mapping[str, Any]) -> Any:
    """cookiecutter's ``render_variable``: None and booleans as they are, text rendered."""
    if raw is None or isinstance(raw, bool):
        return raw
    if isinstance(raw, dict):
        return {
            _render(box, dialect, k, answers): _render(box, dialect, v, answers)
            for k, v in raw.items()
        }
    if isinstance(raw, list):
        return [_render(box, dialect, v, answers) for v in raw]
    return render_string(box, dialect, str(raw), {"cookiecutter": dict(answers)})


def resolve_cookiecutter_answers(
    manifest: Manifest,
    given: Mapping[str, Any],
    *,
    ask: Callable[[str, Question, Any], Any] | None = None,
    limits: RenderLimits | None = None,
    on_invalid: Callable[[str, str], None] | None = None,
    sandbox: Sandbox | None = None,
) -> AnswerSet:
    """The `cookiecutter` dict for ``manifest``: ``given`` values over the defaults, rendered.

    A given answer to a choice must be one of its entries; private `_` variables keep the
    template's value. ``ask`` (a terminal) is offered each public variable's rendered default.
    """
    dialect = manifest.dialect
    assert dialect is not None and dialect.kind == "cookiecutter"
    context: dict[str, Any] = {}
    invalid: list[str] = []
    items = list(dialect.context.items())
    with using_sandbox(sandbox, limits) as box:
        try:
            for key, raw in items:
                if key.startswith("_") and not key.startswith("__"):
                    context[key] = raw
                    continue
                if key.startswith("__"):
                    context[key] = _render(box, dialect, raw, context)
                    continue
                if isinstance(raw, dict):
                    continue  # second pass
                if isinstance(raw, list):
                    options = [_render(box, dialect, o, context) for o in raw]
                    if key in given:
                        value = given[key]
                        if value not in raw and value not in options:
                            invalid.append(f"{key}: {value!r} is not one of {options!r}")
                            continue
                        value = _render(box, dialect, value, context)
                    elif ask is not None:
                        value = ask(key, manifest.questions[key], options[0] if options else None)
                    else:
                        value = options[0] if options else None
                    context[key] = value
                    continue
                if key in given:
                    value = given[key]
                    value = (
                        value if isinstance(value, bool) else _render(box, dialect, value, context)
                    )
                else:
                    value = _render(box, dialect, raw, context)
                    if ask is not None:
                        value = ask(key, manifest.questions[key], value)
                context[key] = value
            for key, raw in items:
                if key.startswith("_") and not key.startswith("__"):
                    continue
                if isinstance(raw, dict):
                    value = given.get(key, raw)
                    context[key] = _render(box, dialect, value, context)
        except SandboxFailure as exc:
            raise ManifestError(f"{COOKIECUTTER_CONFIG}: {exc.message}") from None
    return answer_set(context, given, dialect.context, invalid=invalid)
