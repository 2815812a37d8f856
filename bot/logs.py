"""Logging for the bot process: readable lines or one JSON object per line (`LOG_FORMAT`), and
never the token, the webhook secret or what a user wrote."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from telegram import TelegramObject, Update


def _safe(value: object) -> object:
    """A Telegram object as its kind and id only, a mapping as its size: an update carries
    names, phones and texts, and python-telegram-bot logs whole updates and the parameters of
    each Bot API call (a message's text) at DEBUG."""
    if isinstance(value, Update):
        kinds = [name for name in Update.ALL_TYPES if getattr(value, name, None) is not None]
        return f"<update {value.update_id} ({kinds[0] if kinds else 'unknown'})>"
    if isinstance(value, TelegramObject):
        return f"<{type(value).__name__}>"
    if isinstance(value, dict):
        return f"<{len(value)} fields>"
    if isinstance(value, (list, tuple)) and any(
            isinstance(item, (dict, TelegramObject)) for item in value):
        return f"<{len(value)} items>"
    return value


def _hides_data(value: object) -> bool:
    return _safe(value) is not value


class RedactFilter(logging.Filter):
    """Replaces every occurrence of a secret in a record's final message and traceback, and
    Telegram objects and mappings among its arguments by their kind or size."""

    def __init__(self, *secrets: str, placeholder: str = "<token>") -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]
        self._placeholder = placeholder

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(_hides_data(arg) for arg in record.args):
            record.args = tuple(_safe(arg) for arg in record.args)
        elif isinstance(record.args, TelegramObject):
            record.args = (_safe(record.args),)
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        changed = False
        for secret in self._secrets:
            if secret in message:
                message = message.replace(secret, self._placeholder)
                changed = True
            if record.exc_text and secret in record.exc_text:
                record.exc_text = record.exc_text.replace(secret, self._placeholder)
        if changed:
            record.msg, record.args = message, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    level: str, token: str | None, *secrets: str, fmt: str = "text"
) -> None:
    """Log to stderr at `level`; `token` and every other secret (the webhook's) redacted."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter(token or ""))
    handler.addFilter(RedactFilter(*secrets, placeholder="<secret>"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, and the Bot API URL carries the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
