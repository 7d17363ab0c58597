"""Environment settings: secrets, database URL, config path. Secrets never leave this object."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "newsbot.yaml"


def default_database_path(root: Path = REPO_ROOT) -> Path:
    """Where the SQLite database lives when no URL is set: an absolute path, so a start from
    another folder opens the same bot. A source checkout keeps it beside the code
    (``data/newsbot.db``); an installed package in the user's data folder."""
    if (root / "pyproject.toml").is_file():
        return root / "data" / "newsbot.db"
    return user_data_path("newsbot") / "newsbot.db"


def default_database_url() -> str:
    return f"sqlite:///{default_database_path()}"


class Settings(BaseSettings):
    """Read once at start from the environment (``NEWSBOT_*`` plus the platforms' own names)."""

    model_config = SettingsConfigDict(env_prefix="NEWSBOT_", extra="ignore")

    config: Path = DEFAULT_CONFIG
    database_url: str = Field(default_factory=default_database_url)
    log_level: str = "INFO"
    # Platform tokens keep the platforms' conventional names, not the NEWSBOT_ prefix.
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_http_host: str = "0.0.0.0"
    slack_http_port: int = 3000
    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    discord_api_url: str | None = Field(default=None, validation_alias="DISCORD_API_URL")
    discord_gateway_url: str | None = Field(default=None, validation_alias="DISCORD_GATEWAY_URL")
    # /healthz, /readyz and /metrics: off unless a port is set (0 also means off), so two
    # processes on one host never fight over a default port.
    health_port: int | None = Field(default=None, ge=0, le=65535)
    health_host: str = "127.0.0.1"


def environment_variables() -> list[str]:
    """The names ``Settings`` reads, in declaration order (what every `--help` lists)."""
    names = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.append(alias if isinstance(alias, str) else f"NEWSBOT_{name.upper()}")
    return names
