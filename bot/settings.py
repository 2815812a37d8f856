"""Settings from the environment or `.env`; every one is documented in `.env.example`."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.present.texts import languages


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_api_base_file_url: str = "https://api.telegram.org/file/bot"
    bot_username: str | None = None
    # Seconds to wait for the Bot API's answer before the request counts as failed (retried).
    telegram_read_timeout: float = Field(default=5.0, gt=0)
    database_path: Path = Path("data/regsosek.db")
    timezone: str = "Asia/Jakarta"
    admin_telegram_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    period_start: date = date(2022, 10, 15)
    period_end: date = date(2022, 11, 14)
    language: str = "id"  # a language with a text catalog (see _known_language)
    form_file: Path | None = None
    implausible_factor: float = Field(default=3.0, gt=1)
    persistence_flush_seconds: float = Field(default=1.0, gt=0)
    conversation_timeout_minutes: float = Field(default=30.0, gt=0)
    messages_per_second: float = Field(default=30, gt=0)
    chat_message_interval: float = Field(default=1.0, ge=0)
    concurrent_updates: int = Field(default=32, ge=1)
    # A chat sending more updates than this within one second is flooding: the rest are dropped
    # (0: no limit). Hints (registration, group, edit, flood) reach a chat once per interval.
    chat_updates_per_second: int = Field(default=5, ge=0)
    hint_interval_minutes: float = Field(default=5.0, gt=0)
    # Open connections to the Bot API (the replies and answers of all those updates share them).
    telegram_connections: int = Field(default=8, ge=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    rehearsal_start: datetime | None = None

    # Scheduling
    reminder_times: Annotated[list[time], NoDecode] = Field(
        default_factory=lambda: [time(16, 0), time(19, 0)]
    )
    digest_time_pml: time = time(20, 30)
    digest_time_koseka: time = time(21, 0)
    digest_time_admin: time = time(21, 30)
    days_off: Annotated[list[date], NoDecode] = Field(default_factory=list)
    missed_grace_hours: float = Field(default=2.0, ge=0)
    schedule_jobs: bool = True
    consecutive_missing_days: int = Field(default=2, ge=1)

    # Field problems
    problem_escalate_hours: float = Field(default=24, gt=0)

    # Announcements (broadcasts)
    broadcast_rate_per_second: float = Field(default=25, gt=0)
    broadcast_poll_seconds: float = Field(default=5, gt=0)
    broadcast_report_interval: float = Field(default=5, ge=0)

    @field_validator("admin_telegram_ids", "reminder_times", "days_off", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        known = languages()
        if value not in known:  # the value itself is not repeated: it may be a pasted secret
            raise ValueError(f"not a language with a text catalog: choose {', '.join(known)}")
        return value

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @model_validator(mode="after")
    def _period_order(self) -> Settings:
        if self.period_end < self.period_start:
            raise ValueError("PERIOD_END is before PERIOD_START")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def token(self) -> str:
        if self.telegram_bot_token is None:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in .env"
            )
        return self.telegram_bot_token.get_secret_value()


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning a validation error into one clear line naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        loc, message = first["loc"], first["msg"].removeprefix("Value error, ")
        if not loc:  # a check across settings; its message names them
            raise SettingsError(f"settings are invalid: {message}") from None
        # The environment variable, not pydantic's path into it (ADMIN_TELEGRAM_IDS, not ..._0).
        name = str(loc[0]).upper()
        item = f" (item {loc[1] + 1})" if len(loc) > 1 and isinstance(loc[1], int) else ""
        raise SettingsError(f"setting {name} is invalid{item}: {message}") from None
