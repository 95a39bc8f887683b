"""Templates written for copier: `copier.yml` read as an evobot manifest, its answers resolved.

Reads `copier.yml`/`copier.yaml` (several YAML documents, `!include` of other YAML files inside
the template) into a :class:`~bot.template.manifest.Manifest` carrying a copier
:class:`~bot.template.dialect.Dialect`, and resolves answers the way copier does with
``--defaults``: every string setting rendered with the answers so far, answers cast to the
question's type, choices and validators enforced, questions whose ``when`` is false hidden from
the answers file but still given their default. Nothing of copier is imported, and nothing a
template asks to run (``_tasks``, ``_migrations``, Jinja extensions) ever runs.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from bot.errors import ManifestError
from bot.template.answer_types import AnswerSet, answer_set
from bot.template.dialect import ENVOPS_KEYS, Dialect
from bot.template.manifest import Manifest, Migration, Question, QuestionType
from bot.template.sandbox import RenderLimits, Sandbox, SandboxFailure, using_sandbox
from bot.tree import NotRegularFileError, read_regular_file

__all__ = [
    "COPIER_CONFIG_NAMES",
    "DEFAULT_EXCLUDE",
    "copier_config_path",
    "hidden_questions",
    "load_copier_manifest",
    "render_string",
    "resolve_copier_answers",
]

COPIER_CONFIG_NAMES = ("copier.yml", "copier.yaml")
DEFAULT_EXCLUDE = (
    "copier.yaml",
    "copier.yml",
    "~*",
    "*.py[co]",
    "__pycache__",
    ".git",
    ".DS_Store",
    ".svn",
)
_MAX_CONFIG_BYTES = 1 << 20
_MAX_INCLUDES = 64
_MAX_ALIASES = 100
_MAX_DEPTH = 50
_TRUE = frozenset({"y", "yes", "t", "true", "on"})
_FALSE = frozenset({"n", "no", "f", "false", "off", "~", "null", "none"})
_TYPES = frozenset({"str", "int", "float", "bool", "yaml", "json", "path"})
_MISSING = object()


def copier_config_path(root: Path) -> Path | None:
    """The `copier.yml` or `copier.yaml` of the template in ``root``, or None."""
    found = [root / name for name in COPIER_CONFIG_NAMES if (root / name).exists()]
    if len(found) > 1:
        raise ManifestError(
            f"{root}: holds both copier.yml and copier.yaml; copier refuses that too",
            hint="keep one of them",
        )
    return found[0] if found else None


def _read(path: Path, label: str) -> bytes:
    try:
        data, _executable = read_regular_file(path)
    except NotRegularFileError as exc:
        raise ManifestError(
            f"{label}: is {exc.kind}; evobot reads only regular files of a template"
        ) from None
    except OSError as exc:
        raise ManifestError(f"{label}: cannot read: {exc.strerror or exc}") from None
    if len(data) > _MAX_CONFIG_BYTES:
        raise ManifestError(f"{label}: larger than {_MAX_CONFIG_BYTES} bytes")
    return data


def _check_events(data: bytes, label: str) -> None:
    """Refuse alias bombs and deep nesting before anything is built."""
    aliases = depth = 0
    try:
        for event in yaml.parse(data, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > _MAX_ALIASES:
                    raise ManifestError(f"{label}: too many aliases (more than {_MAX_ALIASES})")
            elif isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > _MAX_DEPTH:
                    raise ManifestError(f"{label}: nested deeper than {_MAX_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        text = " ".join(str(exc).split())
        raise ManifestError(f"{label}: not valid YAML: {text}") from None


def _flatten(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if isinstance(item, list):
            out.extend(_flatten(item))
        elif item is not None:
            out.append(item)
    return out


def _load_documents(path: Path, root: Path, label: str, budget: list[int]) -> list[Any]:
    """Every YAML document of ``path``, `!include` resolved (glob patterns inside ``root``)."""
    data = _read(path, label)
    _check_events(data, label)
    real_root = root.resolve()

    class _Loader(yaml.SafeLoader):
        """The safe loader plus copier's `!include`."""

    def include(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise ManifestError(f"{label}: `!include` takes a file name or glob")
        pattern = str(loader.construct_scalar(node))
        if PurePosixPath(pattern).is_absolute() or ".." in PurePosixPath(pattern).parts:
            raise ManifestError(
                f"{label}: `!include {pattern}`: must be a relative path inside the template"
            )
        found: list[Any] = []
        for included in sorted(root.glob(pattern)):
            if not included.resolve().is_relative_to(real_root):
                raise ManifestError(
                    f"{label}: `!include {pattern}` leads outside the template; refused"
                )
            budget[0] -= 1
            if budget[0] < 0:
                raise ManifestError(f"{label}: more than {_MAX_INCLUDES} `!include` files")
            name = included.relative_to(root).as_posix()
            found.extend(_load_documents(included, root, name, budget))
        return found

    _Loader.add_constructor("!include", include)
    try:
        return _flatten(list(yaml.load_all(data, Loader=_Loader)))
    except yaml.YAMLError as exc:
        text = " ".join(str(exc).split())
        raise ManifestError(f"{label}: not valid YAML: {text}") from None


def _merged_config(path: Path, root: Path) -> dict[str, Any]:
    """copier's merge: later documents override, list settings (`_exclude`...) concatenate."""
    docs = _load_documents(path, root, path.name, [_MAX_INCLUDES])
    merged: dict[str, Any] = {}
    lists: dict[str, list[Any]] = {}
    for doc in docs:
        if not isinstance(doc, dict):
            raise ManifestError(f"{path.name}: each YAML document must be a mapping")
        for key, value in doc.items():
            if not isinstance(key, str):
                raise ManifestError(f"{path.name}: key {key!r} is not text; quote it")
            if key in ("_exclude", "_jinja_extensions", "_secret_questions", "_skip_if_exists"):
                if not isinstance(value, list):
                    raise ManifestError(f"{path.name}: {key}: must be a list")
                lists.setdefault(key, []).extend(value)
            merged.setdefault(key, value)  # the first document to set a key wins, as in copier
    merged.update(lists)
    return merged


def _describe_task(task: Any) -> str:
    if isinstance(task, dict):
        command = task.get("command", task)
        when = task.get("when")
        text = _describe_task(command)
        return f"{text} (when {when})" if when is not None else text
    if isinstance(task, list):
        return shlex.join(str(part) for part in task)
    return str(task)


_MOVE = frozenset({"mv", "git mv"})
_REMOVE = frozenset({"rm", "git rm"})


def _declarative(command: Any) -> tuple[dict[str, str], list[str]] | None:
    """The renames and deletions a migration command states, when it is plainly one."""
    if isinstance(command, dict):
        if "when" in command:
            return None
        command = command.get("command")
    if isinstance(command, str):
        if any(c in command for c in "{}$`;|&<>*?\n"):
            return None
        try:
            argv = shlex.split(command)
        except ValueError:
            return None
    elif isinstance(command, list) and all(isinstance(a, str) for a in command):
        argv = list(command)
        if any("{" in a for a in argv):
            return None
    else:
        return None
    if argv[:1] == ["git"]:
        argv = ["git " + argv[1], *argv[2:]] if len(argv) > 1 else argv
    if not argv:
        return None
    verb, args = argv[0], [a for a in argv[1:] if not a.startswith("-")]
    if verb in _MOVE and len(args) == 2:
        return {args[0]: args[1]}, []
    if verb in _REMOVE and args:
        return {}, args
    return None


def _migrations(raw: Any, label: str) -> tuple[list[Migration], list[str]]:
    """(evobot migrations for the declarative steps, descriptions of every step not run)."""
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        raise ManifestError(f"{label}: _migrations: must be a list")
    steps: dict[str, tuple[dict[str, str], list[str]]] = {}
    not_run: list[str] = []
    for entry in raw:
        if not isinstance(entry, dict) or "version" not in entry:
            raise ManifestError(f"{label}: _migrations: each entry needs a `version`")
        version = str(entry["version"])
        commands: list[Any] = []
        if "command" in entry:
            if entry.get("when") is not None:
                not_run.append(f"migration {version}: {_describe_task(entry)}")
                continue
            commands = [entry["command"]]
        else:
            for stage in ("before", "after"):
                commands.extend(entry.get(stage) or [])
        for command in commands:
            found = _declarative(command)
            if found is None:
                not_run.append(f"migration {version}: {_describe_task(command)}")
                continue
            renames, deletes = steps.setdefault(version, ({}, []))
            renames.update(found[0])
            deletes.extend(found[1])
    migrations: list[Migration] = []
    for version, (renames, deletes) in steps.items():
        try:
            migrations.append(
                Migration(version=version, rename_files=renames, delete_files=deletes)
            )
        except ValueError:
            not_run.append(f"migration {version}: renames/deletions not understood")
    return migrations, not_run


def _question_spec(name: str, raw: Any, label: str) -> dict[str, Any]:
    spec = dict(raw) if isinstance(raw, dict) else {"default": raw}
    known = {
        "type",
        "help",
        "default",
        "choices",
        "when",
        "validator",
        "secret",
        "multiselect",
        "placeholder",
        "multiline",
        "qmark",
        "ask",
    }
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ManifestError(f"{label}: {name}: unknown question keys {', '.join(unknown)}")
    if spec.get("secret") and "default" not in spec:
        raise ManifestError(f"{label}: {name}: a secret question needs a default (as in copier)")
    if "type" not in spec or spec["type"] in ("", None):
        default = spec.get("default", _MISSING)
        inferred = type(default).__name__
        spec["type"] = inferred if inferred in _TYPES else "yaml"
    return spec


def _evobot_question(spec: Mapping[str, Any]) -> Question:
    """An approximation of the copier question for prompts and help (never for resolution)."""
    ctype: Any = spec.get("type")
    choices = spec.get("choices")
    plain_choices = isinstance(choices, list | dict) and choices
    if spec.get("multiselect"):
        qtype: QuestionType = "list"
    elif plain_choices:
        qtype = "choice"
    elif ctype in _TYPES:
        qtype = ctype
    else:
        qtype = "str"
    values: Any = None
    if plain_choices and isinstance(choices, dict):
        values = dict(choices)
    elif plain_choices and isinstance(choices, list):
        values = [c[1] if isinstance(c, list) and len(c) == 2 else c for c in choices]
    return Question.model_construct(
        type=qtype,
        help=spec.get("help") if isinstance(spec.get("help"), str) else None,
        default=spec.get("default"),
        choices=values if qtype == "choice" else None,
        validator=None,
        when=True,
        secret=bool(spec.get("secret")),
        placeholder=spec.get("placeholder") if isinstance(spec.get("placeholder"), str) else None,
        multiselect=bool(spec.get("multiselect")),
    )


def load_copier_manifest(root: Path, *, name: str | None = None) -> Manifest:
    """Read the copier template in ``root`` into a manifest carrying its copier dialect."""
    path = copier_config_path(root)
    if path is None:
        raise ManifestError(f"{root}: no copier.yml or copier.yaml")
    label = path.name
    raw = _merged_config(path, root)
    settings = {k[1:]: v for k, v in raw.items() if k.startswith("_")}
    extensions = settings.get("jinja_extensions") or []
    if extensions:
        raise ManifestError(
            f"{label}: _jinja_extensions ({', '.join(map(str, extensions))}): Jinja extensions "
            "are Python code that runs while rendering, and evobot runs no template code",
            hint="render without the extensions (most filters have plain Jinja equivalents), "
            "or keep using copier for this template",
        )
    if settings.get("external_data"):
        raise ManifestError(
            f"{label}: _external_data reads files of the destination while rendering; "
            "evobot renders from the template and the answers alone"
        )
    subdirectory = settings.get("subdirectory") or ""
    if not isinstance(subdirectory, str) or "{{" in subdirectory or "{%" in subdirectory:
        raise ManifestError(
            f"{label}: _subdirectory {subdirectory!r}: only a plain directory name is supported"
        )
    suffix = settings.get("templates_suffix", ".jinja")
    suffix = "" if suffix is None else str(suffix)
    envops = settings.get("envops") or {}
    if not isinstance(envops, dict):
        raise ManifestError(f"{label}: _envops: must be a mapping")
    bad = sorted(set(envops) - ENVOPS_KEYS)
    if bad:
        raise ManifestError(f"{label}: _envops: unsupported options {', '.join(bad)}")
    if envops.get("undefined") not in (None, "jinja2.Undefined", "jinja2.StrictUndefined"):
        raise ManifestError(
            f"{label}: _envops.undefined: {envops['undefined']!r}; "
            "use jinja2.Undefined or jinja2.StrictUndefined"
        )
    exclude = settings.get("exclude")
    if exclude is None:
        exclude = list(DEFAULT_EXCLUDE) if subdirectory.strip("/") in ("", ".") else []
    questions_raw = {
        k: _question_spec(k, v, label) for k, v in raw.items() if not k.startswith("_")
    }
    secret = [str(s) for s in settings.get("secret_questions") or []]
    for q in secret:
        if q in questions_raw:
            questions_raw[q]["secret"] = True
    tasks = settings.get("tasks") or []
    if not isinstance(tasks, list):
        raise ManifestError(f"{label}: _tasks: must be a list")
    migrations, not_run_migrations = _migrations(settings.get("migrations"), label)
    not_run = [f"task: {_describe_task(t)}" for t in tasks] + not_run_migrations
    messages = {
        f"message_{k}": str(settings[f"message_{k}"])
        for k in ("before_copy", "after_copy", "before_update", "after_update")
        if settings.get(f"message_{k}")
    }
    dialect = Dialect(
        kind="copier",
        config_file=label,
        templates_suffix=suffix,
        envops=dict(envops),
        exclude=tuple(str(e) for e in exclude),
        skip_if_exists=tuple(str(e) for e in settings.get("skip_if_exists") or []),
        answers_file=str(settings.get("answers_file") or ".copier-answers.yml"),
        secret_questions=tuple(q for q, s in questions_raw.items() if s.get("secret")),
        messages=messages,
        not_run=tuple(not_run),
        questions=questions_raw,
    )
    try:
        return Manifest(
            name=name or root.name or "template",
            questions={k: _evobot_question(v) for k, v in questions_raw.items()},
            migrations=migrations,
            files_dir=subdirectory.strip("/") or ".",
            dialect=dialect,
        )
    except ValueError as exc:
        raise ManifestError(f"{label}: {exc}") from None


# --- answers ----------------------------------------------------------------------------------


def cast_to_bool(value: Any) -> bool:
    """copier's reading of a boolean: numbers, YAML's words for true/false/null, else truth."""
    try:
        return bool(float(value))
    except (TypeError, ValueError):
        pass
    if isinstance(value, str):
        lower = value.strip().lower()
        if not lower or lower in _FALSE:
            return False
        if lower in _TRUE:
            return True
    return bool(value)


def _cast_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise ValueError(f"cannot convert {value!r} to text")


def _cast(type_name: str, value: Any) -> Any:
    if value is None and type_name not in ("json", "yaml"):
        raise ValueError(f"no value for a question of type {type_name}")
    try:
        if type_name == "bool":
            return cast_to_bool(value)
        if type_name == "int":
            return int(value)
        if type_name == "float":
            result = float(value)
            if not math.isfinite(result):
                raise ValueError(f"{value!r} is not a finite number")
            return result
        if type_name == "str":
            return _cast_str(value)
        if type_name == "path":
            return str(value)
        if type_name == "json":
            return json.loads(value) if isinstance(value, str | bytes) else value
        if type_name == "yaml":
            if not isinstance(value, str):
                return value
            return yaml.safe_load(value)
    except (TypeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{value!r} is not valid {type_name}: {exc}") from None
    raise ValueError(f"unknown type {type_name!r}")


def render_string(box: Sandbox, dialect: Dialect, source: str, context: Mapping[str, Any]) -> str:
    """``source`` rendered in the sandbox with the dialect's Jinja; plain text as it is."""
    if not any(d in source for d in dialect.delimiters):
        if dialect.envops.get("keep_trailing_newline", True) is False and source.endswith("\n"):
            return source[:-1]
        return source
    value = box.request(
        {
            "op": "eval",
            "kind": "template",
            "source": source,
            "context": dict(context),
            "dialect": dialect.worker_options(),
        }
    )["value"]
    return str(value)


class _Resolver:
    """One pass over the questions, in order, as copier asks them with ``--defaults``."""

    def __init__(self, box: Sandbox, dialect: Dialect, base: Mapping[str, Any]) -> None:
        self.box = box
        self.dialect = dialect
        self.context: dict[str, Any] = dict(base)

    def render(self, value: Any, extra: Mapping[str, Any] | None = None) -> Any:
        if isinstance(value, str):
            return render_string(self.box, self.dialect, value, {**self.context, **(extra or {})})
        if isinstance(value, list):
            return [self.render(v, extra) for v in value]
        return value

    def choices(self, spec: Mapping[str, Any]) -> list[Any]:
        raw = spec.get("choices")
        if not raw:
            return []
        if isinstance(raw, str):
            raw = yaml.safe_load(self.render(raw)) or []
        pairs: list[Any] = []
        items = list(raw.values()) if isinstance(raw, dict) else list(raw)
        for item in items:
            if isinstance(item, list) and len(item) == 2:
                item = item[1]
            if isinstance(item, dict) and "value" in item:
                validator = item.get("validator")
                if validator and str(self.render(validator)).strip():
                    continue  # a disabled choice
                item = item["value"]
            pairs.append(self.render(item))
        return pairs

    def parse(self, name: str, spec: Mapping[str, Any], value: Any) -> Any:
        type_name = str(self.render(spec.get("type", "yaml")))
        if type_name not in _TYPES:
            raise ValueError(f"unsupported type {type_name!r}")
        choices = [_cast(type_name, c) for c in self.choices(spec)]
        if spec.get("multiselect"):
            if isinstance(value, str):
                value = yaml.safe_load(value)
            if not isinstance(value, list):
                raise ValueError("expected a list of choices")
            cast = [_cast(type_name, v) for v in value]
            for item in cast:
                if choices and item not in choices:
                    raise ValueError(f"{item!r} is not one of the choices")
            return [c for c in choices if c in cast] if choices else cast
        result = _cast(type_name, value)
        if choices and result not in choices:
            allowed = ", ".join(repr(c) for c in choices)
            raise ValueError(f"{result!r} is not one of {allowed}")
        return result

    def problem(self, name: str, spec: Mapping[str, Any], value: Any) -> str | None:
        validator = spec.get("validator")
        if not validator:
            return None
        message = str(self.render(validator, {name: value})).strip()
        return message or None


def resolve_copier_answers(
    manifest: Manifest,
    given: Mapping[str, Any],
    *,
    ask: Callable[[str, Question, Any], Any] | None = None,
    limits: RenderLimits | None = None,
    on_invalid: Callable[[str, str], None] | None = None,
    sandbox: Sandbox | None = None,
) -> AnswerSet:
    """copier's answers for ``manifest`` from ``given`` (and ``ask``, else the defaults).

    A question whose ``when`` is false drops a given answer and takes its default (which the
    templates see but the answers file never records, as in copier).
    """
    dialect = manifest.dialect
    assert dialect is not None and dialect.kind == "copier"
    given = {k: v for k, v in given.items() if not k.startswith("_")}
    values: dict[str, Any] = {}
    missing: list[str] = []
    invalid: list[str] = []
    base = {"_copier_conf": {"answers_file": dialect.answers_file, "sep": "/", "os": "linux"}}
    with using_sandbox(sandbox, limits) as box:
        resolver = _Resolver(box, dialect, {**base, **given})
        for name, spec in dialect.questions.items():
            try:
                when = cast_to_bool(resolver.render(spec.get("when", True)))
                default = spec.get("default", _MISSING)
                if default is not _MISSING:
                    default = resolver.render(default)
                question = manifest.questions[name]
                if when and name in given:
                    raw, source = given[name], "given"
                elif when and ask is not None:
                    raw, source = (
                        ask(name, question, None if default is _MISSING else default),
                        "asked",
                    )
                elif default is _MISSING:
                    if when:
                        missing.append(name)
                    continue
                else:
                    raw, source = default, "default"
                try:
                    value = resolver.parse(name, spec, raw)
                    problem = (
                        resolver.problem(name, spec, value)
                        if when and not spec.get("secret")
                        else None
                    )
                except ValueError as exc:
                    problem = str(exc)
                if problem is not None:
                    if on_invalid is not None and source == "asked":
                        on_invalid(name, problem)
                    where = (
                        f" (the default in {dialect.config_file})" if source == "default" else ""
                    )
                    invalid.append(f"{name}: {problem}{where}")
                    continue
            except SandboxFailure as exc:
                raise ManifestError(f"{dialect.config_file}: {name}: {exc.message}") from None
            values[name] = value
            resolver.context[name] = value
    return answer_set(values, given, dialect.questions, missing=missing, invalid=invalid)


def hidden_questions(box: Sandbox, dialect: Dialect, values: Mapping[str, Any]) -> frozenset[str]:
    """Questions the answers file leaves out: secret ones and those whose `when` is false."""
    hidden = set(dialect.secret_questions)
    context = {"_copier_conf": {"answers_file": dialect.answers_file}, **values}
    for name, spec in dialect.questions.items():
        when = spec.get("when", True)
        if isinstance(when, str):
            when = render_string(box, dialect, when, context)
        if not cast_to_bool(when):
            hidden.add(name)
    return frozenset(hidden)
