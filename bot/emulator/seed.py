"""The seed file: app, installations, repositories, CI rules and webhook an emulator starts with."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.consumer import pydantic_error_text
from bot.errors import EvobotError
from bot.parsing import load_yaml

__all__ = [
    "AppSeed",
    "CiRule",
    "CommitSeed",
    "FaultSettings",
    "InstallationSeed",
    "Limits",
    "RenderSeed",
    "RepoSeed",
    "Seed",
    "SeedError",
    "WebhookSeed",
    "load_seed",
    "parse_seed",
]


class SeedError(EvobotError):
    """A seed file that is missing, malformed or names things that do not exist."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AppSeed(_Model):
    id: int = 1
    client_id: str = "Iv1.0123456789abcdef"
    slug: str = "evobot"
    name: str = "evobot"
    owner: str = "evobot-org"
    private_key: str | None = Field(default=None, description="PEM text")
    private_key_path: Path | None = None


class InstallationSeed(_Model):
    id: int
    account: str
    account_type: Literal["Organization", "User"] = "Organization"
    repositories: list[str] | None = Field(
        default=None, description="full names; None means every repository of the account"
    )


class CiRule(_Model):
    """One of: a command run in a checkout, a fast file rule, or a fixed outcome."""

    name: str = "ci"
    command: str | None = None
    timeout: float = 120.0
    fail_if_file_matches: str | None = None
    fail_if_content_matches: str | None = None
    always: Literal["success", "failure"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> CiRule:
        kinds = [
            self.command,
            self.fail_if_file_matches,
            self.fail_if_content_matches,
            self.always,
        ]
        if sum(k is not None for k in kinds) > 1:
            raise ValueError(
                "a CI rule has one of command, fail_if_file_matches, "
                "fail_if_content_matches or always"
            )
        return self


class CommitSeed(_Model):
    message: str = "update"
    files: dict[str, str] = Field(default_factory=dict)
    delete: list[str] = Field(default_factory=list)
    tag: str | None = None


class RenderSeed(_Model):
    template: str = Field(description="OWNER/REPO of a seeded template repository")
    ref: str | None = None
    subdir: str | None = None
    answers: dict[str, Any] = Field(default_factory=dict)
    ring: str | int | None = None


class RepoSeed(_Model):
    full_name: str
    private: bool = True
    default_branch: str = "main"
    description: str | None = None
    files: dict[str, str] = Field(default_factory=dict)
    executable: list[str] = Field(default_factory=list)
    from_dir: Path | None = None
    from_git: Path | None = Field(default=None, description="a git repository to mirror")
    render: RenderSeed | None = None
    commits: list[CommitSeed] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list, description="tags on the last seeded commit")
    required_checks: list[str] = Field(
        default_factory=list, description="required on the default branch by a ruleset"
    )
    protection_checks: list[str] = Field(
        default_factory=list,
        description="required on the default branch by classic branch protection",
    )
    ci: CiRule | None = None
    collaborators: dict[str, Literal["admin", "maintain", "write", "triage", "read"]] = Field(
        default_factory=dict
    )

    @field_validator("full_name")
    @classmethod
    def _owner_slash_name(cls, value: str) -> str:
        parts = value.split("/")
        if len(parts) != 2 or not all(parts) or value.endswith(".git"):
            raise ValueError(f"expected OWNER/NAME, got {value!r}")
        return value

    @property
    def owner(self) -> str:
        return self.full_name.split("/")[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/")[1]


class WebhookSeed(_Model):
    url: str | None = None
    secret: str | None = None
    timeout: float = 10.0


class Limits(_Model):
    rate_limit: int = Field(default=5000, description="requests per hour per installation")
    anonymous_rate_limit: int = 60
    secondary_per_minute: int = Field(default=80, description="content-creating requests")
    secondary_per_hour: int = Field(
        default=500, description="content-creating requests in any sliding hour"
    )
    concurrent: int = 100
    refusal_status: Literal[403, 429] = Field(
        default=403, description="GitHub answers a hit rate limit with 403 or 429"
    )


class FaultSettings(_Model):
    error_rate: float = Field(default=0.0, ge=0, le=1, description="fraction answered 5xx")
    error_statuses: list[int] = Field(default_factory=lambda: [500, 502, 503])
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    timeout_delay: float = Field(default=5.0, description="real seconds a timeout hangs")
    latency: float = Field(default=0.0, description="real seconds added to every API request")
    only: str | None = Field(default=None, description="regex on 'METHOD /route' to limit faults")


class Seed(_Model):
    app: AppSeed = Field(default_factory=AppSeed)
    installations: list[InstallationSeed] = Field(default_factory=list)
    users: dict[str, Literal["User", "Organization"]] = Field(default_factory=dict)
    repos: list[RepoSeed] = Field(default_factory=list)
    webhook: WebhookSeed = Field(default_factory=WebhookSeed)
    ci: CiRule | None = Field(default=None, description="default rule for repos without one")
    ci_workers: int = Field(default=2, ge=1, description="CI jobs that run at the same time")
    limits: Limits = Field(default_factory=Limits)
    faults: FaultSettings = Field(default_factory=FaultSettings)
    clock_speed: float = 1.0
    random_seed: int = 0

    @model_validator(mode="after")
    def _consistent(self) -> Seed:
        names = [r.full_name for r in self.repos]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"repositories seeded twice: {', '.join(dupes)}")
        for repo in self.repos:
            if repo.render and repo.render.template not in names:
                raise ValueError(
                    f"{repo.full_name}: render.template {repo.render.template!r} "
                    "is not a seeded repository"
                )
        return self


def parse_seed(data: Any, *, source: str = "seed", base_dir: Path | None = None) -> Seed:
    """Validate a seed mapping; relative paths in it are resolved against ``base_dir``."""
    if isinstance(data, Seed):
        return data
    try:
        seed = Seed.model_validate(data or {})
    except ValidationError as exc:
        raise SeedError(pydantic_error_text(exc, source)) from exc
    if base_dir is not None:
        if seed.app.private_key_path and not seed.app.private_key_path.is_absolute():
            seed.app.private_key_path = base_dir / seed.app.private_key_path
        for repo in seed.repos:
            if repo.from_dir and not repo.from_dir.is_absolute():
                repo.from_dir = base_dir / repo.from_dir
            if repo.from_git and not repo.from_git.is_absolute():
                repo.from_git = base_dir / repo.from_git
    return seed


def load_seed(path: Path) -> Seed:
    """Read and validate a YAML seed file."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise SeedError(f"cannot read seed file {path}: {exc.strerror or exc}") from None
    data = load_yaml(text, source=str(path), error=SeedError)
    return parse_seed(data, source=str(path), base_dir=path.parent)
