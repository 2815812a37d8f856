"""Settings from the environment and `.env`, one-line errors, and the token kept out of sight."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, time
from pathlib import Path

import pytest

from bot.cli import main
from bot.logs import RedactFilter, setup_logging
from bot.settings import Settings, SettingsError, load_settings
from tests.support import clear_settings_env

TOKEN = "987654321:AAH-super-secret-TokenValue_xyz"
SETTING_NAMES = [name.upper() for name in Settings.model_fields]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    clear_settings_env(monkeypatch, tmp_path)
    return monkeypatch


def test_defaults(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.database_path == Path("data/regsosek.db")
    assert settings.timezone == "Asia/Jakarta"
    assert str(settings.tz) == "Asia/Jakarta"
    assert settings.period_start == date(2022, 10, 15)
    assert settings.period_end == date(2022, 11, 14)
    assert settings.language == "id"
    assert settings.reminder_times == [time(16, 0), time(19, 0)]
    assert settings.admin_telegram_ids == []
    assert settings.days_off == []
    assert settings.telegram_bot_token is None
    assert settings.bot_username is None
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"


def test_comma_lists_are_parsed(env: pytest.MonkeyPatch) -> None:
    env.setenv("ADMIN_TELEGRAM_IDS", "1, 2,3")
    env.setenv("REMINDER_TIMES", "07:30, 18:00")
    env.setenv("DAYS_OFF", "2022-10-23,2022-10-30")
    settings = load_settings()
    assert settings.admin_telegram_ids == [1, 2, 3]
    assert settings.reminder_times == [time(7, 30), time(18, 0)]
    assert settings.days_off == [date(2022, 10, 23), date(2022, 10, 30)]


def test_single_admin_id_and_empty_list(env: pytest.MonkeyPatch) -> None:
    env.setenv("ADMIN_TELEGRAM_IDS", "42")
    assert load_settings().admin_telegram_ids == [42]
    env.setenv("ADMIN_TELEGRAM_IDS", "")
    assert load_settings().admin_telegram_ids == []


def test_dotenv_in_the_current_directory_is_read_and_environment_wins(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        "TIMEZONE=Asia/Makassar\nLANGUAGE=en\nADMIN_TELEGRAM_IDS=7,8\n", encoding="utf-8"
    )
    settings = load_settings()
    assert (settings.timezone, settings.language, settings.admin_telegram_ids) == (
        "Asia/Makassar", "en", [7, 8]
    )
    env.setenv("LANGUAGE", "id")
    assert load_settings().language == "id"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIMEZONE", "Mars/Olympus"),
        ("PERIOD_START", "kemarin"),
        ("ADMIN_TELEGRAM_IDS", "abc"),
        ("ADMIN_TELEGRAM_IDS", "1, 2,x"),
        ("LANGUAGE", "fr"),
        ("REMINDER_TIMES", "16:00,25:00"),
        ("LOG_LEVEL", "LOUD"),
        ("IMPLAUSIBLE_FACTOR", "0.5"),
    ],
)
def test_malformed_setting_is_one_line_naming_it(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    name: str, value: str,
) -> None:
    env.setenv("DATABASE_PATH", str(tmp_path / "regsosek.db"))
    env.setenv(name, value)
    assert main(["db", "migrate"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert f"setting {name} is invalid" in lines[0]
    # The environment variable's own name, not a path into it such as ADMIN_TELEGRAM_IDS_0.
    assert f"{name}_" not in lines[0]
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (tmp_path / "regsosek.db").exists()


def test_list_item_error_says_which_item(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("ADMIN_TELEGRAM_IDS", "1, 2,x")
    assert main(["db", "migrate"]) == 2
    assert "ADMIN_TELEGRAM_IDS is invalid (item 3)" in capsys.readouterr().err


def test_period_end_before_start(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("DATABASE_PATH", str(tmp_path / "regsosek.db"))
    env.setenv("PERIOD_START", "2022-10-15")
    env.setenv("PERIOD_END", "2022-10-01")
    assert main(["db", "migrate"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "PERIOD_END is before PERIOD_START" in lines[0]
    assert "Value error" not in lines[0]
    assert not (tmp_path / "regsosek.db").exists()


def test_load_settings_raises_settings_error(env: pytest.MonkeyPatch) -> None:
    env.setenv("TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match="TIMEZONE"):
        load_settings()


@pytest.mark.parametrize("token", [None, "", "   "])
def test_run_without_token(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], token: str | None
) -> None:
    if token is not None:
        env.setenv("TELEGRAM_BOT_TOKEN", token)
    assert main(["run"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "TELEGRAM_BOT_TOKEN" in lines[0]


def test_token_is_not_in_repr(env: pytest.MonkeyPatch) -> None:
    env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.token() == TOKEN
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert TOKEN not in settings.model_dump_json()


def test_token_is_not_in_setting_errors(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    env.setenv("TIMEZONE", "Mars/Olympus")
    assert main(["db", "migrate"]) == 2
    env.setenv("TIMEZONE", "Asia/Jakarta")
    env.setenv("LANGUAGE", TOKEN)  # the token pasted into the wrong setting
    assert main(["db", "migrate"]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 2
    assert "TIMEZONE" in captured.err and "LANGUAGE" in captured.err
    assert TOKEN not in captured.err + captured.out


# Logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "httpx", "apscheduler")}
    yield
    root.handlers[:] = [
        h for h in root.handlers if not any(isinstance(f, RedactFilter) for f in h.filters)
    ]
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_token_is_redacted_from_log_lines(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("INFO", TOKEN)
    url = f"https://api.telegram.org/bot{TOKEN}/getUpdates"
    logging.getLogger("telegram.ext.Updater").warning("request to %s failed", url)
    logging.getLogger("bot.test").info(f"plain message with {url}")
    logging.getLogger("bot.test").info("nothing secret here: %d", 42)
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert "request to https://api.telegram.org/bot<token>/getUpdates failed" in err
    assert "plain message with https://api.telegram.org/bot<token>/getUpdates" in err
    assert "nothing secret here: 42" in err


def test_token_is_redacted_from_tracebacks(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("INFO", TOKEN)
    log = logging.getLogger("telegram.ext.Application")
    try:
        raise ConnectionError(f"cannot reach https://api.telegram.org/bot{TOKEN}/getMe")
    except ConnectionError:
        log.exception("polling stopped")
    err = capsys.readouterr().err
    assert "polling stopped" in err
    assert "Traceback (most recent call last)" in err
    assert "ConnectionError: cannot reach https://api.telegram.org/bot<token>/getMe" in err
    assert TOKEN not in err


def test_request_logging_is_quiet_and_levels_apply(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("WARNING", TOKEN)
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/x", TOKEN)
    logging.getLogger("bot.test").info("info is below WARNING")
    logging.getLogger("bot.test").error("shown")
    err = capsys.readouterr().err
    assert "HTTP Request" not in err
    assert "info is below WARNING" not in err
    assert "ERROR bot.test: shown" in err


def test_setup_without_token_still_logs(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("INFO", None)
    logging.getLogger("bot.test").info("started")
    err = capsys.readouterr().err
    assert "INFO bot.test: started" in err
    assert "<token>" not in err


def test_env_example_documents_every_setting() -> None:
    import re
    from pathlib import Path

    from bot.settings import Settings

    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text("utf-8")
    documented = set(re.findall(r"^([A-Z_]+)=", example, re.M))
    assert documented == {name.upper() for name in Settings.model_fields}


def test_webhook_settings(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings()
    assert not settings.webhook_mode and settings.listen_address() is None
    env.setenv("HEALTH_LISTEN", "0.0.0.0:9090")
    assert load_settings().listen_address() == ("0.0.0.0", 9090)

    env.setenv("WEBHOOK_URL", "https://bot.example.go.id/telegram/webhook")
    env.setenv("WEBHOOK_SECRET", "s3cret_value-1")
    settings = load_settings()
    assert settings.webhook_mode and settings.webhook_path == "/telegram/webhook"
    assert settings.listen_address() == ("127.0.0.1", 8080)  # WEBHOOK_LISTEN's default
    env.setenv("WEBHOOK_LISTEN", "[::1]:8443")
    assert load_settings().listen_address() == ("::1", 8443)
    assert "s3cret_value-1" not in repr(load_settings())

    for name, value, expected in [
        ("WEBHOOK_URL", "bot.example.go.id/hook", "WEBHOOK_URL is invalid"),
        ("WEBHOOK_LISTEN", "8080", "WEBHOOK_LISTEN is invalid"),
        ("WEBHOOK_LISTEN", "127.0.0.1:99999", "WEBHOOK_LISTEN is invalid"),
        ("WEBHOOK_SECRET", "has spaces " + TOKEN, "WEBHOOK_SECRET is invalid"),
        ("WEBHOOK_SECRET", "", "WEBHOOK_URL is set without WEBHOOK_SECRET"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT is invalid"),
    ]:
        with env.context() as scoped:
            scoped.setenv(name, value)
            with pytest.raises(SettingsError, match=expected) as raised:
                load_settings()
            assert TOKEN not in str(raised.value)


def test_json_logs_are_one_object_a_line_without_secrets_or_user_data(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from telegram import Update

    setup_logging("DEBUG", TOKEN, "webhook-secret-123", fmt="json")
    log = logging.getLogger("telegram.ext.Application")
    log.info("request to https://api.telegram.org/bot%s/getMe", TOKEN)
    log.warning("webhook secret %s refused", "webhook-secret-123")
    update = Update.de_json({"update_id": 77, "message": {
        "message_id": 1, "date": 1666000000, "text": "/lapor 12 14 51",
        "from": {"id": 502, "is_bot": False, "first_name": "Panji"},
        "chat": {"id": 502, "type": "private", "first_name": "Panji"},
        "contact": {"phone_number": "081200000006", "first_name": "Panji"},
    }}, None)
    log.debug("Processing update %s", update)  # python-telegram-bot does this at DEBUG
    logging.getLogger("telegram.Bot").debug(  # and this, for every call
        "Calling Bot API endpoint `%s` with parameters `%s`", "sendMessage",
        {"chat_id": 502, "text": "Panji: /lapor 12 14 51"})
    try:
        raise ConnectionError(f"cannot reach https://api.telegram.org/bot{TOKEN}/getMe")
    except ConnectionError:
        log.exception("polling stopped")
    lines = capsys.readouterr().err.splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["level"] for e in entries] == ["INFO", "WARNING", "DEBUG", "DEBUG", "ERROR"]
    assert entries[0]["message"] == "request to https://api.telegram.org/bot<token>/getMe"
    assert entries[1]["message"] == "webhook secret <secret> refused"
    assert entries[2]["message"] == "Processing update <update 77 (message)>"
    assert entries[3]["message"] == (
        "Calling Bot API endpoint `sendMessage` with parameters `<2 fields>`")
    assert entries[4]["logger"] == "telegram.ext.Application"
    assert "ConnectionError: cannot reach" in entries[4]["exception"]
    text = "\n".join(lines)
    for secret in (TOKEN, "webhook-secret-123", "Panji", "081200000006", "12 14 51"):
        assert secret not in text
