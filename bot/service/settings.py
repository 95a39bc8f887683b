"""The service's settings: environment variables (``EVOBOT_*``) and an optional settings file,
validated once at start-up into one frozen object that is passed down, never read at import.

A missing or invalid setting stops start-up with one line naming it; no secret is ever part of a
message or a ``repr`` (pydantic's ``SecretStr``, and the App key is only read, never echoed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import EvobotError
from bot.forge.auth import AppCredentials, register_secret

__all__ = ["SETTINGS_FILE_ENV", "ServiceSettings", "SettingsError", "load_settings"]

SETTINGS_FILE_ENV = "EVOBOT_SETTINGS_FILE"
MAX_KEY_BYTES = 64 * 1024


class SettingsError(EvobotError):
    """A service setting that is missing or invalid; the message names the variable."""

    exit_code = 2


class ServiceSettings(BaseSettings):
    """Everything `evobot serve` and `evobot worker` need, named as the environment names it."""

    model_config = SettingsConfigDict(
        env_prefix="EVOBOT_",
        extra="ignore",  # the same file and environment also hold the CLI's other variables
        frozen=True,
        case_sensitive=False,
    )

    app_id: str | None = None
    client_id: str | None = None
    private_key_file: Path | None = None
    private_key: SecretStr | None = None
    webhook_secret: SecretStr
    state_dir: Path = Path("./evobot-state")
    database_url: str | None = None
    github_url: str = "https://api.github.com"
    workers: int = Field(default=2, ge=0, le=64)
    org_policy: Path | None = None
    heal_interval: float = Field(default=300.0, ge=5.0)
    heal_window_hours: float = Field(default=72.0, gt=0, le=72.0)
    lease_seconds: float = Field(default=300.0, ge=5.0)
    shutdown_grace: float = Field(default=20.0, ge=0.0)
    max_attempts: int = Field(default=5, ge=1, le=50)
    # Whether the service runs rollouts (a release tag starts one); off: it only records.
    rollouts: bool = True

    @field_validator("webhook_secret")
    @classmethod
    def _secret_not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty: refusing to trust any delivery")
        if len(value.get_secret_value()) < 8:
            raise ValueError("must be at least 8 characters long")
        return value

    @field_validator("github_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("org_policy")
    @classmethod
    def _policy_readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_file():
            raise ValueError(f"{value} is not a readable file")
        return value

    @model_validator(mode="after")
    def _app_identity(self) -> ServiceSettings:
        if not (self.app_id or self.client_id):
            raise ValueError("EVOBOT_APP_ID (or EVOBOT_CLIENT_ID) is not set")
        if self.private_key is None and self.private_key_file is None:
            raise ValueError("EVOBOT_PRIVATE_KEY_FILE (or EVOBOT_PRIVATE_KEY) is not set")
        return self

    @property
    def issuer(self) -> str:
        """The JWT issuer: the client id when set (GitHub's recommendation), else the App id."""
        return str(self.client_id or self.app_id)

    def private_key_pem(self) -> str:
        """The App's private key text, read from the file when it is given as one."""
        if self.private_key is not None:
            return self.private_key.get_secret_value().replace("\\n", "\n")
        assert self.private_key_file is not None
        path = self.private_key_file.expanduser()
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_KEY_BYTES + 1)
        except OSError as exc:
            raise SettingsError(
                f"EVOBOT_PRIVATE_KEY_FILE: cannot read {path}: {exc.strerror or exc}"
            ) from None
        if len(data) > MAX_KEY_BYTES:
            raise SettingsError(f"EVOBOT_PRIVATE_KEY_FILE: {path} is larger than a key")
        try:
            return data.decode("ascii")
        except UnicodeDecodeError:
            raise SettingsError(f"EVOBOT_PRIVATE_KEY_FILE: {path} is not a PEM file") from None

    def credentials(self) -> AppCredentials:
        """The App credentials; a key that is not a PEM private key stops start-up."""
        pem = self.private_key_pem()
        which = "EVOBOT_PRIVATE_KEY" if self.private_key is not None else "EVOBOT_PRIVATE_KEY_FILE"
        if "PRIVATE KEY" not in pem:
            raise SettingsError(f"{which}: not a PEM private key")
        return AppCredentials(self.issuer, pem)

    def secret(self) -> str:
        return self.webhook_secret.get_secret_value()


def _variable(loc: tuple[int | str, ...]) -> str:
    return "EVOBOT_" + "_".join(str(part) for part in loc).upper() if loc else "settings"


def load_settings(settings_file: Path | None = None, **overrides: Any) -> ServiceSettings:
    """Validate the settings: ``overrides`` (command-line options, None ignored) over the
    environment over ``settings_file`` (``EVOBOT_NAME=value`` lines; default: the file named by
    ``EVOBOT_SETTINGS_FILE``). Raises :class:`SettingsError` with one line naming the setting."""
    import os

    named = os.environ.get(SETTINGS_FILE_ENV)
    file = settings_file or (Path(named) if named else None)
    if file is not None:
        _check_settings_file(file)
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        settings = ServiceSettings(_env_file=file, **given)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = _variable(tuple(error["loc"]))
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "missing":
            raise SettingsError(f"{where} is not set") from None
        if where == "settings":
            raise SettingsError(message) from None
        raise SettingsError(f"{where}: {message[:1].lower()}{message[1:]}") from None
    register_secret(settings.secret())
    if settings.private_key is not None:
        register_secret(settings.private_key.get_secret_value())
    return settings


def _check_settings_file(path: Path) -> None:
    """A settings file that cannot be read stops start-up (pydantic-settings would skip it)."""
    try:
        path.expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"{SETTINGS_FILE_ENV}: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{SETTINGS_FILE_ENV}: {path} is not UTF-8 text") from None
