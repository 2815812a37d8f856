"""Settings from the environment or `.env`; every one is documented in `.env.example`."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.present.texts import languages
from db.engine import is_postgres_url, masked


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


# What Telegram accepts as a webhook's secret_token: 1-256 of A-Z, a-z, 0-9, _ and -.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def parse_listen(value: str) -> tuple[str, int]:
    """`host:port` (`[::1]:8080` for IPv6) as (host, port); ValueError when malformed."""
    host, sep, port = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError("not host:port (e.g. 127.0.0.1:8080)")
    return host, int(port)


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


# A wilayah code prefix of BOT_SCOPE: a province (`14`), a kabupaten (`14.10`) or a kecamatan
# (`14.10.01`).
_SCOPE_PREFIX = re.compile(r"^\d{2}(\.\d{2}(\.\d{2,3})?)?$")

# Messages a second Telegram sends for free, and with paid broadcasts (0.1 Star a message above
# the free ones).
FREE_BROADCAST_RATE = 30
PAID_BROADCAST_RATE = 1000


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_api_base_file_url: str = "https://api.telegram.org/file/bot"
    bot_username: str | None = None
    # Seconds to wait for the Bot API's answer; a request without one in time may have been
    # carried out, and is not sent again (bot/messaging/retryable.py).
    telegram_read_timeout: float = Field(default=5.0, gt=0)
    database_path: Path = Path("data/regsosek.db")
    # PostgreSQL instead of the SQLite file: a libpq URI (postgresql://user:password@host/db,
    # or ?host=/run/postgresql for a unix socket). A secret: shown with its password masked.
    database_url: SecretStr | None = None
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
    # text: readable lines; json: one JSON object per line, for log collectors.
    log_format: Literal["text", "json"] = "text"
    rehearsal_start: datetime | None = None

    # Scheduling
    reminder_times: Annotated[list[time], NoDecode] = Field(
        default_factory=lambda: [time(16, 0), time(19, 0)]
    )
    digest_time_pml: time = time(20, 30)
    digest_time_koseka: time = time(21, 0)
    digest_time_admin: time = time(21, 30)
    days_off: Annotated[list[date], NoDecode] = Field(default_factory=list)
    # Digests and escalations missed, failed or left by a crash go out at start-up this long.
    missed_grace_hours: float = Field(default=2.0, ge=0)
    schedule_jobs: bool = True
    consecutive_missing_days: int = Field(default=2, ge=1)
    digest_shard_officers: int = Field(default=10_000, ge=1)

    # Field problems
    problem_escalate_hours: float = Field(default=24, gt=0)

    # Deployment: webhook mode when WEBHOOK_URL is set, long polling otherwise.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1:8080"
    health_listen: str | None = None  # polling mode: /healthz and /metrics, off when empty
    health_stale_seconds: float = Field(default=300, gt=0)

    # Announcements (broadcasts)
    # Above FREE_BROADCAST_RATE only with BROADCAST_PAID (Telegram's paid broadcasts).
    broadcast_rate_per_second: float = Field(default=25, gt=0, le=PAID_BROADCAST_RATE)
    broadcast_paid: bool = False
    broadcast_poll_seconds: float = Field(default=5, gt=0)
    broadcast_report_interval: float = Field(default=5, ge=0)

    # Several bots on one database: the wilayah code prefixes of the officers this bot serves
    # (empty: everyone), and how often the shared outbox is looked at for messages that
    # another bot's process left for this bot's officers.
    bot_scope: Annotated[list[str], NoDecode] = Field(default_factory=list)
    outbox_poll_seconds: float = Field(default=2, gt=0)

    @field_validator("admin_telegram_ids", "reminder_times", "days_off", "bot_scope",
                     mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("webhook_url", "webhook_secret", "health_listen", "database_url",
                     mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("not an absolute https:// URL")
        return value.strip()

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not is_postgres_url(value.get_secret_value().strip()):
            # the value itself is not repeated: it holds a password
            raise ValueError("not a PostgreSQL URL (postgresql://user:password@host:port/db)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET.match(value.get_secret_value()):
            # the value itself is not repeated: it is a secret
            raise ValueError("use 1 to 256 characters: letters, digits, _ and -")
        return value

    @field_validator("webhook_listen", "health_listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen(value)
        return value

    @field_validator("bot_scope")
    @classmethod
    def _scope(cls, value: list[str]) -> list[str]:
        for prefix in value:
            if not _SCOPE_PREFIX.match(prefix):
                raise ValueError(
                    f"{prefix!r} is not a wilayah code prefix: a province (14), a kabupaten"
                    " (14.10) or a kecamatan (14.10.01)")
        return sorted(set(value))

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

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError("WEBHOOK_URL is set without WEBHOOK_SECRET: set both")
        return self

    @model_validator(mode="after")
    def _paid_rate(self) -> Settings:
        if self.broadcast_rate_per_second > FREE_BROADCAST_RATE and not self.broadcast_paid:
            raise ValueError(
                f"BROADCAST_RATE_PER_SECOND above {FREE_BROADCAST_RATE} needs BROADCAST_PAID=true")
        return self

    @property
    def webhook_mode(self) -> bool:
        return self.webhook_url is not None

    @property
    def webhook_path(self) -> str:
        """The path the webhook is served on: the path of WEBHOOK_URL (a reverse proxy in front
        passes it on unchanged)."""
        return urlsplit(self.webhook_url or "").path or "/"

    def listen_address(self) -> tuple[str, int] | None:
        """Where /healthz and /metrics are served (the webhook too, in webhook mode); None in
        polling mode without HEALTH_LISTEN."""
        if self.webhook_mode:
            return parse_listen(self.webhook_listen)
        return parse_listen(self.health_listen) if self.health_listen else None

    @property
    def database(self) -> Path | str:
        """Where the data is: DATABASE_URL when set, else the SQLite file DATABASE_PATH."""
        if self.database_url is not None:
            return self.database_url.get_secret_value().strip()
        return self.database_path

    @property
    def database_name(self) -> str:
        """The database as it may be shown: a URL's password masked."""
        return masked(self.database)

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
