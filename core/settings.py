"""Configuration from the environment and `.env`, validated once at start.

Tokens are `SecretStr` so they never end up in a log line or a traceback by accident.
"""

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///oncall.db"
SLACK_API_URL = "https://slack.com/api/"


class Settings(BaseSettings):
    """Every knob the bot reads; see the README's "Configuration" section."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    oncall_team_file: Path = Path("team.yaml")
    host: str = "0.0.0.0"
    port: int = 3000
    # Handoffs, reminders and notices posted on a schedule by `oncall serve` / `oncall worker`.
    oncall_announcements: bool = True
    # A message whose time passed less than this ago when the bot comes back is sent, late.
    announce_grace_hours: float = Field(default=6.0, ge=0, le=72)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        """slack_sdk joins method names onto the base URL, which needs its trailing slash."""
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, value: str) -> str:
        """Accept the common `postgres://` / `postgresql://` forms and use psycopg 3."""
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value


class MissingSetting(Exception):
    """A required setting is absent; the message names the variable and the README section."""


def require(value: SecretStr | None, variable: str) -> str:
    """The secret's value, or a one-line explanation of what to set."""
    if value is None or not value.get_secret_value():
        raise MissingSetting(
            f"{variable} is not set: see the README section 'Create the Slack app' "
            "(put it in the environment or in .env)"
        )
    return value.get_secret_value()
