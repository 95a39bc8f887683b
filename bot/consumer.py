"""A consumer's `.evobot.yml`: where it came from, with which answers, and what the bot may touch.

Written on the first render and updated on every evolution, with sorted keys and stable
formatting so that re-writing an unchanged config changes no byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import ConsumerConfigError, EvobotError
from bot.globs import validate_glob
from bot.parsing import load_yaml
from bot.redact import redact_url, url_credentials
from bot.tree import NotRegularFileError, git_dir_rule, read_regular_file

__all__ = [
    "CONFIG_NAME",
    "DEFAULT_MAX_CHURN_LINES",
    "AutoMergeSettings",
    "ConsumerConfig",
    "PrSettings",
    "RolloutSettings",
    "TemplateVersion",
    "dump_consumer_config",
    "load_consumer_config",
    "parse_consumer_config",
    "parse_yaml_model",
    "pydantic_error_text",
    "refuse_credentials",
]

CONFIG_NAME = ".evobot.yml"

Ring = Literal["canary"] | int | None
M = TypeVar("M", bound=BaseModel)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TemplateVersion(_Model):
    """The template version last applied: the ref people read and the commit that pins it."""

    ref: str | None = None
    commit: str

    @field_validator("commit")
    @classmethod
    def _commit_is_hex(cls, value: str) -> str:
        if not value or any(c not in "0123456789abcdef" for c in value.lower()):
            raise ValueError("must be a full git commit id (hex)")
        return value


class RolloutSettings(_Model):
    """Where this consumer sits in a rollout: the canary ring, or a wave number."""

    ring: Ring = None

    @field_validator("ring")
    @classmethod
    def _wave_not_negative(cls, value: Ring) -> Ring:
        if isinstance(value, int) and value < 0:
            raise ValueError("a wave number is 0 or more")
        return value


def _label_name(name: str) -> str:
    """A GitHub label name: 1 to 50 characters, not only spaces."""
    if not name.strip() or len(name) > 50:
        raise ValueError(f"{name!r} is not a label name (1 to 50 characters)")
    return name


DEFAULT_MAX_CHURN_LINES = 200


class AutoMergeSettings(_Model):
    """Opt-in: the bot merges its own evolution PR once its checks are green, GitHub says it
    merges without conflict, and it changes at most ``max_churn_lines`` lines (added + removed;
    unset: 200)."""

    enabled: bool = False
    max_churn_lines: int | None = Field(default=None, ge=0)

    @property
    def churn_limit(self) -> int:
        return DEFAULT_MAX_CHURN_LINES if self.max_churn_lines is None else self.max_churn_lines


class PrSettings(_Model):
    """How the bot's PRs on this consumer look and whether it may merge them. ``labels`` cost
    one more content-creating request per PR, so there are none unless listed (the bot finds
    its PRs by branch)."""

    labels: list[Annotated[str, AfterValidator(_label_name)]] = Field(
        default_factory=list, max_length=20
    )
    auto_merge: AutoMergeSettings | None = None


def _protect_glob(pattern: str) -> str:
    """A `protect` entry is a glob in evobot's one path dialect (bot.globs)."""
    return validate_glob(pattern)


def _outside_git_dir(pattern: str) -> str:
    """A `protect` entry may not name git's own directory: evobot never writes there."""
    rule = git_dir_rule(pattern)
    if rule is not None:
        raise ValueError(
            f"{pattern!r}: {rule}; evobot never writes there, so there is nothing to protect: "
            "remove the entry"
        )
    return pattern


class ConsumerConfig(_Model):
    """The parsed `.evobot.yml` of one consumer."""

    template: str = Field(min_length=1, description="template source: a path or git URL")
    template_subdir: str | None = None
    version: TemplateVersion
    answers: dict[str, Any] = Field(default_factory=dict)
    rollout: RolloutSettings = Field(default_factory=RolloutSettings)
    protect: list[
        Annotated[str, AfterValidator(_protect_glob), AfterValidator(_outside_git_dir)]
    ] = Field(default_factory=list)
    checks: dict[str, Any] | None = Field(
        default=None, description="check policy overrides; validated by bot.checks.policy"
    )
    pr: PrSettings | None = Field(
        default=None, description="labels for the bot's PRs, and whether it may merge them"
    )
    dashboard_issue: bool | None = Field(
        default=None,
        description="opt-in: one issue listing pending, blocked, skipped and reverted evolutions",
    )


def pydantic_error_text(exc: ValidationError, source: str) -> str:
    """Render a pydantic error as ``source: key.path: what is wrong`` lines."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"{source}: {where}: {err['msg']}")
    return "\n".join(lines)


def parse_yaml_model(
    text: str | bytes, model: type[M], *, source: str, error: type[EvobotError]
) -> M:
    """Parse YAML holding one mapping and validate it as ``model``.

    Every problem becomes an ``error`` whose message names ``source``, the key and what is
    wrong; `.evobot.yml` and `template.yml` are both read through here.
    """
    raw = load_yaml(text, source=source, error=error)
    if not isinstance(raw, dict):
        raise error(f"{source}: must be a mapping of keys, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(pydantic_error_text(exc, source)) from None


def parse_consumer_config(text: str | bytes, *, source: str = CONFIG_NAME) -> ConsumerConfig:
    """Parse and validate `.evobot.yml` content; errors name ``source`` and the key."""
    return parse_yaml_model(text, ConsumerConfig, source=source, error=ConsumerConfigError)


def load_consumer_config(root: Path) -> ConsumerConfig:
    """Read ``root/.evobot.yml``."""
    path = root / CONFIG_NAME
    try:
        # Never through a link: a YAML error would quote a line of whatever it points to.
        data, _executable = read_regular_file(path)
    except NotRegularFileError as exc:
        raise ConsumerConfigError(
            f"{path}: is {exc.kind}; evobot keeps its settings in this file, as a regular file"
        ) from None
    except FileNotFoundError:
        raise ConsumerConfigError(
            f"{path}: not found; this directory was not rendered by evobot",
            hint="run `evobot render TEMPLATE DEST` first",
        ) from None
    except OSError as exc:
        raise ConsumerConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_consumer_config(data, source=str(path))


def refuse_credentials(template: str, *, where: str = CONFIG_NAME) -> None:
    """Refuse a template URL carrying credentials: they are never written into `.evobot.yml`."""
    found = url_credentials(template)
    if found:
        raise ConsumerConfigError(
            f"{where}: the template URL {redact_url(template)} carries credentials "
            f"({', '.join(found)}); evobot does not write credentials into {CONFIG_NAME}",
            hint="remove them from the URL and pass the token in $EVOBOT_TEMPLATE_TOKEN instead "
            "(sent only to the hosts in $EVOBOT_TEMPLATE_TOKEN_HOSTS, by default the GitHub host)",
        )


def dump_consumer_config(config: ConsumerConfig) -> str:
    """Serialise with sorted keys and block style, so identical configs give identical bytes.

    A template URL with credentials in it is refused (see :func:`refuse_credentials`).
    """
    refuse_credentials(config.template)
    data = config.model_dump(mode="json", exclude_none=True)
    if not data.get("rollout"):
        data.pop("rollout", None)
    return yaml.safe_dump(data, sort_keys=True, default_flow_style=False, allow_unicode=True)
