"""The `template.yml` manifest: questions, excluded and skip-if-exists globs, migrations.

Validated with pydantic (``extra="forbid"``); every error names the file, the key and what is
wrong. Jinja in defaults, conditions and validators is only parsed here, never run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, TemplateSyntaxError
from jinja2.parser import Parser
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.consumer import parse_yaml_model
from bot.errors import EvobotError, ManifestError
from bot.globs import validate_glob
from bot.template.dialect import Dialect
from bot.tree import NotRegularFileError, read_regular_file, refuse_git_dir, safe_relpath

__all__ = [
    "MANIFEST_NAME",
    "Manifest",
    "Migration",
    "Question",
    "QuestionType",
    "Validator",
    "is_jinja_template",
    "load_manifest",
    "parse_manifest",
    "parse_tag_version",
]

MANIFEST_NAME = "template.yml"

QuestionType = Literal["str", "int", "float", "bool", "choice", "list", "yaml", "json", "path"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Only used to parse (never to run or render) the Jinja found in the manifest.
_PARSE_ENV = Environment(autoescape=False)  # noqa: S701  # nosec B701


def is_jinja_template(text: str) -> bool:
    """Whether ``text`` is a Jinja template string (``{{ ... }}`` or ``{% ... %}``)."""
    return "{{" in text or "{%" in text


def _check_template_syntax(text: str) -> None:
    try:
        _PARSE_ENV.parse(text)
    except TemplateSyntaxError as exc:
        raise ValueError(f"Jinja syntax error: {exc.message}") from None


def _check_expression_syntax(text: str) -> None:
    try:
        parser = Parser(_PARSE_ENV, text, state="variable")
        parser.parse_expression()
        if not parser.stream.eos:
            raise TemplateSyntaxError("unexpected text after the expression", 1)
    except TemplateSyntaxError as exc:
        raise ValueError(f"Jinja expression syntax error: {exc.message}") from None


def check_jinja(text: str) -> None:
    """Refuse text that is neither a valid Jinja template string nor a valid Jinja expression."""
    if is_jinja_template(text):
        _check_template_syntax(text)
    else:
        _check_expression_syntax(text)


def parse_tag_version(tag: str) -> Version | None:
    """The PEP 440 version a tag names (a leading ``v`` is allowed), or None."""
    text = tag[1:] if tag[:1] in ("v", "V") else tag
    try:
        return Version(text)
    except InvalidVersion:
        return None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Validator(_Model):
    """How an answer is validated: a regex it must fully match, or a Jinja expression that is
    true for a valid answer (the answer is ``value`` and also its own name)."""

    regex: str | None = None
    expr: str | None = None
    template: str | None = Field(
        default=None,
        description="copier style: a Jinja template that renders an error message, or nothing",
    )
    message: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Validator:
        given = [k for k in ("regex", "expr", "template") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of regex, expr or template")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"invalid regex {self.regex!r}: {exc}") from None
        if self.expr is not None:
            _check_expression_syntax(self.expr)
        if self.template is not None:
            _check_template_syntax(self.template)
        return self

    @property
    def describe(self) -> str:
        """The message shown when an answer fails this validator."""
        if self.message:
            return self.message
        if self.regex is not None:
            return f"must match the regex {self.regex!r}"
        return f"must satisfy {self.expr or self.template!r}"


class Question(_Model):
    """One question of the template: its type, help, default, choices, validation, condition."""

    type: QuestionType = "str"
    help: str | None = None
    default: Any = Field(
        default=None,
        description="a value, or a Jinja template string over earlier answers; none -> required",
    )
    choices: list[Any] | dict[str, Any] | None = None
    validator: Validator | None = None
    when: bool | str = True
    secret: bool = Field(default=False, description="never recorded in the answers file")
    placeholder: str | None = None
    multiselect: bool = False

    @field_validator("validator", mode="before")
    @classmethod
    def _validator_shorthand(cls, value: Any) -> Any:
        # A plain string is a regex, or a copier-style template when it holds Jinja.
        if isinstance(value, str):
            return {"template": value} if is_jinja_template(value) else {"regex": value}
        return value

    @field_validator("when")
    @classmethod
    def _when_is_jinja(cls, value: bool | str) -> bool | str:
        if isinstance(value, str):
            check_jinja(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if self.type == "choice" and not self.choices:
            raise ValueError("a 'choice' question needs a non-empty 'choices'")
        if self.type in ("bool", "list") and self.choices:
            raise ValueError(f"a '{self.type}' question cannot have 'choices'")
        if isinstance(self.default, str) and is_jinja_template(self.default):
            _check_template_syntax(self.default)
        return self

    @property
    def choice_values(self) -> list[Any]:
        """The values a choice may take (a mapping of choices maps labels to values)."""
        if self.choices is None:
            return []
        if isinstance(self.choices, dict):
            return list(self.choices.values())
        return list(self.choices)

    @property
    def required(self) -> bool:
        """A question without a default must be answered (unless its `when` is false)."""
        return self.default is None


class Migration(_Model):
    """Declarative changes applied when a consumer crosses ``version`` (never code)."""

    version: str
    rename_files: dict[str, str] = Field(default_factory=dict)
    delete_files: list[str] = Field(default_factory=list)
    rename_answers: dict[str, str] = Field(default_factory=dict)
    set_answers: dict[str, Any] = Field(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _pep440(cls, value: Any) -> Any:
        if isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str) or parse_tag_version(value) is None:
            raise ValueError(f"{value!r} is not a PEP 440 version")
        return value

    @field_validator("rename_files")
    @classmethod
    def _safe_renames(cls, value: dict[str, str]) -> dict[str, str]:
        return {_safe(k): _safe(v) for k, v in value.items()}

    @field_validator("delete_files")
    @classmethod
    def _safe_deletes(cls, value: list[str]) -> list[str]:
        return [_safe(p) for p in value]

    @field_validator("rename_answers")
    @classmethod
    def _identifiers(cls, value: dict[str, str]) -> dict[str, str]:
        for name in (*value.keys(), *value.values()):
            if not _IDENTIFIER.fullmatch(name):
                raise ValueError(f"{name!r} is not a valid answer name")
        return value

    @property
    def parsed_version(self) -> Version:
        parsed = parse_tag_version(self.version)
        assert parsed is not None  # checked by the validator
        return parsed


def _safe(path: str) -> str:
    """A safe relative path, never inside git's own directory (the message says why not)."""
    try:
        refuse_git_dir(path)
        return safe_relpath(path)
    except EvobotError as exc:
        raise ValueError(exc.message) from None


class Manifest(_Model):
    """The parsed `template.yml`. The template's version is its git tag, not a manifest key."""

    name: str = Field(min_length=1)
    description: str = ""
    version: str | None = Field(default=None, description="informational; the git tag rules")
    questions: dict[str, Question] = Field(default_factory=dict)
    exclude: list[str] = Field(default_factory=list)
    skip_if_exists: list[str] = Field(default_factory=list)
    migrations: list[Migration] = Field(default_factory=list)
    files_dir: str = "files"
    dialect: Dialect | None = Field(
        default=None,
        description="set by evobot when it reads a copier.yml or cookiecutter.json",
    )
    allow_case_collisions: bool = Field(
        default=False,
        description="render paths differing only in letter case (A.txt, a.txt); they are one "
        "file on macOS and Windows, so this is refused unless set",
    )

    @field_validator("questions", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, dict):
            for key in value:
                if not isinstance(key, str):
                    raise ValueError(
                        f"question name {key!r} is not text (YAML reads on/off/yes/no/true/false"
                        " and numbers as values; quote the name)"
                    )
        return value

    @field_validator("questions")
    @classmethod
    def _question_names(cls, value: dict[str, Question]) -> dict[str, Question]:
        for name in value:
            if not _IDENTIFIER.fullmatch(name):
                raise ValueError(f"question name {name!r} is not an identifier ([A-Za-z_][\\w]*)")
        return value

    @field_validator("exclude", "skip_if_exists")
    @classmethod
    def _globs(cls, value: list[str]) -> list[str]:
        for pattern in value:
            validate_glob(pattern)
        return value

    @field_validator("files_dir")
    @classmethod
    def _files_dir(cls, value: str) -> str:
        if value.strip("/") in ("", "."):
            return "."  # the template's own directory (copier without `_subdirectory`)
        return _safe(value)

    @model_validator(mode="after")
    def _files_dir_not_root(self) -> Manifest:
        if self.files_dir == "." and self.dialect is None:
            raise ValueError(
                "files_dir: '.' would render template.yml itself; keep the files in a "
                "subdirectory (the default is 'files')"
            )
        return self

    @field_validator("dialect", mode="before")
    @classmethod
    def _dialect_not_from_yaml(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, Dialect):
            raise ValueError(
                "is not a template.yml key: evobot sets it when it reads a copier.yml or a "
                "cookiecutter.json"
            )
        return value

    @field_validator("migrations")
    @classmethod
    def _unique_versions(cls, value: list[Migration]) -> list[Migration]:
        seen: dict[Version, str] = {}
        for m in value:
            if m.parsed_version in seen:
                raise ValueError(f"versions {seen[m.parsed_version]!r} and {m.version!r} repeat")
            seen[m.parsed_version] = m.version
        return sorted(value, key=lambda m: m.parsed_version)

    def migrations_between(
        self, from_version: str | None, to_version: str | None
    ) -> list[Migration]:
        """Migrations with ``from_version < version <= to_version``, in version order.

        A bound that is None or not a PEP 440 version is open on that side.
        """
        low = parse_tag_version(from_version) if from_version else None
        high = parse_tag_version(to_version) if to_version else None
        return [
            m
            for m in self.migrations
            if (low is None or m.parsed_version > low)
            and (high is None or m.parsed_version <= high)
        ]


def parse_manifest(text: str | bytes, *, source: str = MANIFEST_NAME) -> Manifest:
    """Parse and validate manifest content; errors name ``source``, the key and the problem."""
    return parse_yaml_model(text, Manifest, source=source, error=ManifestError)


def load_manifest(directory: Path) -> Manifest:
    """Read and validate ``directory/template.yml``, which must be a regular file.

    A symlink is refused without being followed, and the message says nothing of where it
    points: a template must not make evobot read (and quote, in a YAML error) a host file.
    """
    path = directory / MANIFEST_NAME
    try:
        data, _executable = read_regular_file(path)
    except NotRegularFileError as exc:
        raise ManifestError(
            f"{path}: is {exc.kind}; {MANIFEST_NAME} must be a regular file, and evobot never "
            "follows a link to read it",
            hint=f"commit the manifest itself as {MANIFEST_NAME}, not a link to it",
        ) from None
    except FileNotFoundError:
        raise ManifestError(
            f"{path}: not found; a template directory holds a {MANIFEST_NAME}",
            hint="pass --subdir when the template lives in a subdirectory of the repository",
        ) from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_manifest(data, source=str(path))
