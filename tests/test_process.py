"""The real bot process (`python -m bot run`) against the local Bot API: report, stop, restart."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.localapi import FaultPlan, LocalBotApi
from tests.support import (
    PROCESS_START,
    REPLY_TIMEOUT,
    STARTUP_TIMEOUT,
    WEBHOOK_SECRET,
    BotProcess,
    bot_env,
    load_roster,
    query,
    text_of,
    webhook_overrides,
    with_password,
)

USER_ID = 7702


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    """The local Bot API on the real clock: the bot process runs on a rehearsal clock, which
    follows the real one, and dates the officers' messages by it."""
    async with LocalBotApi() as server:
        yield server


@pytest.fixture
async def roster(
    tmp_path: Path, engine: str, database: Path | str
) -> tuple[Path | str, dict[str, str]]:
    """The test roster, in a SQLite file in a folder the bot creates, or on PostgreSQL (the
    bot process then runs with DATABASE_URL)."""
    db_path = tmp_path / "data" / "regsosek.db" if engine == "sqlite" else with_password(database)
    codes = await load_roster(db_path, PROCESS_START, tmp_path)
    return db_path, codes


@pytest.fixture
async def processes() -> AsyncIterator[list[BotProcess]]:
    """Every bot process a test starts; all are killed at the end, whatever happened."""
    started: list[BotProcess] = []
    try:
        yield started
    finally:
        for process in started:
            await process.kill()


async def test_register_report_and_stop_on_sigterm(
    api: LocalBotApi, tmp_path: Path, roster: tuple[Path | str, dict[str, str]],
    processes: list[BotProcess],
) -> None:
    db_path, codes = roster
    bot = BotProcess(bot_env(api, db_path), tmp_path, "bot")
    processes.append(bot)
    await bot.start()

    panji = api.user(USER_ID, first_name="Panji")  # P2: one SLS, so no SLS question
    await panji.send(f"/start {codes['P2']}")
    await bot.expect(panji, lambda m: "Selamat datang" in text_of(m), STARTUP_TIMEOUT)
    await panji.send("/lapor 12 14 51")
    summary = await bot.expect(panji, lambda m: "Ringkasan laporan" in text_of(m))
    await panji.press(summary, "Kirim")
    saved = await bot.expect(panji, lambda m: "Laporan tersimpan" in text_of(m))
    assert "12 dari 120 ruta" in saved.text

    assert await bot.terminate() == 0
    assert query(db_path, "SELECT telegram_user_id FROM officers WHERE officer_id = 'P2'") == [
        (USER_ID,)
    ]
    rows = query(db_path, "SELECT officer_id, report_date, sls_code, values_json FROM reports")
    assert len(rows) == 1
    officer_id, report_date, sls_code, values = rows[0]
    assert (officer_id, sls_code) == ("P2", "1410012006001")
    assert report_date == PROCESS_START.date().isoformat()
    assert json.loads(values) == {"households": 12, "families": 14, "persons": 51}
    output = bot.output()
    assert "Application started" in output  # the log was written, and...
    assert api.token not in output  # ...never with the token, nor the database's password
    assert "s3cr3t" not in output


async def test_flow_resumes_at_the_same_step_after_a_restart(
    api: LocalBotApi, tmp_path: Path, roster: tuple[Path | str, dict[str, str]],
    processes: list[BotProcess],
) -> None:
    db_path, codes = roster
    # No periodic flush during the test: the state must be written on the way down.
    env = bot_env(api, db_path, PERSISTENCE_FLUSH_SECONDS="3600")
    first = BotProcess(env, tmp_path, "first")
    processes.append(first)
    await first.start()

    panji = api.user(USER_ID, first_name="Panji")
    await panji.send(f"/start {codes['P2']}")
    await first.expect(panji, lambda m: "Selamat datang" in text_of(m), STARTUP_TIMEOUT)
    await panji.send("/lapor")
    await first.expect(panji, lambda m: "Berapa ruta" in text_of(m))
    await panji.send("12")
    await first.expect(panji, lambda m: "Berapa keluarga" in text_of(m))

    assert await first.terminate() == 0
    assert query(
        db_path, "SELECT COUNT(*) FROM bot_persistence WHERE kind LIKE 'conversation:%'"
    ) == [(1,)]
    assert query(db_path, "SELECT COUNT(*) FROM reports") == [(0,)]
    sent_before_restart = len(panji.inbox)

    second = BotProcess(env, tmp_path, "second")
    processes.append(second)
    await second.start()
    await panji.send("14")
    persons = await second.expect(panji, lambda m: True, STARTUP_TIMEOUT)
    assert "jiwa" in text_of(persons), f"expected the persons question, got {text_of(persons)!r}"
    await panji.send("51")
    summary = await second.expect(panji, lambda m: "Ringkasan laporan" in text_of(m))
    await panji.press(summary, "Kirim")
    await second.expect(panji, lambda m: "Laporan tersimpan" in text_of(m))
    assert len(panji.inbox) > sent_before_restart

    assert await second.terminate() == 0
    rows = query(db_path, "SELECT officer_id, values_json FROM reports")
    assert [(o, json.loads(v)) for o, v in rows] == [
        ("P2", {"households": 12, "families": 14, "persons": 51})
    ]
    output = first.output() + second.output()
    assert api.token not in output


async def test_webhook_mode_finishes_the_update_in_hand_on_sigterm_and_logs_json(
    api: LocalBotApi, tmp_path: Path, roster: tuple[Path | str, dict[str, str]],
    processes: list[BotProcess],
) -> None:
    db_path, codes = roster
    webhook = {name.upper(): str(value) for name, value in webhook_overrides().items()}
    bot = BotProcess(bot_env(api, db_path, LOG_FORMAT="json", **webhook), tmp_path, "bot")
    processes.append(bot)
    await bot.start()

    panji = api.user(USER_ID, first_name="Panji")
    await panji.send(f"/start {codes['P2']}")
    await bot.expect(panji, lambda m: "Selamat datang" in text_of(m), STARTUP_TIMEOUT)
    assert api.calls("getUpdates") == [] and api.webhook_deliveries
    await panji.send("/lapor 12 14 51")
    summary = await bot.expect(panji, lambda m: "Ringkasan laporan" in text_of(m))

    # The answer to Kirim is held back by the Bot API, so SIGTERM finds the update in hand.
    api.set_faults(FaultPlan(slow_rate=1.0, slow_seconds=1.0,
                             methods=frozenset({"answerCallbackQuery"})))
    since = len(api.requests)
    await panji.press(summary, "Kirim")
    await api.wait_request("answerCallbackQuery", since=since, timeout=REPLY_TIMEOUT)
    assert await bot.terminate() == 0
    # The handler ran to its end after SIGTERM: the confirmation was written, then the exit.
    assert "Laporan tersimpan" in text_of(api.message(USER_ID, summary.message_id))
    assert query(db_path, "SELECT COUNT(*) FROM reports") == [(1,)]
    assert api.webhook_url  # kept: Telegram holds the updates that come while the bot is down

    lines = bot.stderr_path.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any("webhook mode" in entry["message"] for entry in entries)
    output = bot.output()
    for secret in (api.token, WEBHOOK_SECRET, "Panji", "081200000006", "12 14 51"):
        assert secret not in output
