"""Paid broadcasts (BROADCAST_PAID): the setting, allow_paid_broadcast on the announcements,
their own pace outside the bot's rate limiter, the preview's cost line, and the local Bot
API's separate limit for them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from bot.clock import ManualClock
from bot.localapi import LocalBotApi
from bot.messaging.delivery import PacedRateLimiter
from bot.present import announcements as announcement_view
from bot.present.texts import Texts
from bot.settings import SettingsError, load_settings
from tests.support import running_harness, text_of, write_announcement

PAID = {"broadcast_paid": True, "broadcast_rate_per_second": 500,
        "broadcast_poll_seconds": 0.05, "broadcast_report_interval": 0.05}
FREE = {"broadcast_poll_seconds": 0.05, "broadcast_report_interval": 0.05}


# --------------------------------------------------------------------------- settings


def test_paid_is_off_by_default_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings(_env_file=None).broadcast_paid is False
    monkeypatch.setenv("BROADCAST_PAID", "true")
    monkeypatch.setenv("BROADCAST_RATE_PER_SECOND", "1000")
    settings = load_settings(_env_file=None)
    assert (settings.broadcast_paid, settings.broadcast_rate_per_second) == (True, 1000)


def test_a_rate_above_30_needs_paid_broadcasts() -> None:
    settings = load_settings(_env_file=None, broadcast_rate_per_second=30)
    assert settings.broadcast_rate_per_second == 30
    with pytest.raises(SettingsError, match="BROADCAST_PAID"):
        load_settings(_env_file=None, broadcast_rate_per_second=31)
    with pytest.raises(SettingsError, match="BROADCAST_RATE_PER_SECOND"):
        load_settings(_env_file=None, broadcast_paid=True, broadcast_rate_per_second=1001)


# --------------------------------------------------------------------------- cost line


@pytest.mark.parametrize(("recipients", "stars"), [(1, "1"), (10, "1"), (11, "2"),
                                                    (2_000, "200"), (20_001, "2.001")])
def test_cost_is_a_tenth_of_a_star_per_recipient_rounded_up(recipients: int, stars: str) -> None:
    line = announcement_view.paid_cost(Texts("id"), recipients)
    assert f"paling banyak <b>{stars} Telegram Stars</b>" in line
    assert "batas atas" in line


# --------------------------------------------------------------------------- over HTTP


def announcement_sends(api: LocalBotApi, chats: set[int]) -> list[dict[str, Any]]:
    return [r.params for r in api.calls("sendMessage")
            if int(r.params["chat_id"]) in chats and "Pengumuman" in str(r.params.get("text"))]


async def announce(api: LocalBotApi, tmp_path: Path, clock: ManualClock,
                   **overrides: object) -> tuple[str, list[dict[str, Any]]]:
    """M1 announces to the team (P1, P2); the preview's text and the announcements' requests."""
    async with running_harness(api, tmp_path, clock, **overrides) as harness:
        mahmud = await harness.register("M1", 601)
        await harness.register("P1", 501)
        await harness.register("P2", 502)
        await mahmud.send("/umumkan")
        await mahmud.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
        preview = await write_announcement(mahmud, "Rapat besok 08.00")
        await mahmud.press(preview, "Kirim")
        await mahmud.wait_for(lambda m: "Selesai dikirim" in text_of(m))
        return text_of(preview), announcement_sends(api, {501, 502})


async def test_paid_announcements_carry_allow_paid_broadcast(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    preview, sends = await announce(api, tmp_path, clock, **PAID)
    assert "Siaran berbayar: paling banyak 1 Telegram Stars" in preview  # 2 x 0.1, rounded up
    assert len(sends) == 2
    assert all(params.get("allow_paid_broadcast") is True for params in sends)
    others = [r for r in api.requests if r.method.startswith("send")
              and int(r.params["chat_id"]) not in (501, 502)]
    assert others and all("allow_paid_broadcast" not in r.params for r in others)


async def test_without_paid_the_parameter_and_the_cost_line_are_absent(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    preview, sends = await announce(api, tmp_path, clock, **FREE)
    assert "Siaran berbayar" not in preview and "Stars" not in preview
    assert len(sends) == 2
    assert all("allow_paid_broadcast" not in params for params in sends)


# --------------------------------------------------------------------------- own pace


async def test_paid_requests_pass_the_bots_rate_limiter() -> None:
    """The application's limiter holds messages to MESSAGES_PER_SECOND; a paid broadcast's
    request goes at once, however many messages wait their turn."""
    limiter = PacedRateLimiter(1)
    await limiter.initialize()

    async def call(*_args: Any, **_kwargs: Any) -> bool:
        return True

    async def message(data: dict[str, Any]) -> Any:
        return await limiter.process_request(call, (), {}, "sendMessage", data, None)

    waiting = [asyncio.ensure_future(message({"chat_id": n, "text": "x"})) for n in range(6)]
    try:
        paid = {"chat_id": 99, "text": "x", "allow_paid_broadcast": True}
        assert await asyncio.wait_for(message(paid), 3) is True  # the others take 5 s
        assert not all(task.done() for task in waiting)
    finally:
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        await limiter.shutdown()


# --------------------------------------------------------------------------- local Bot API


async def test_local_api_counts_paid_sends_against_their_own_limit(api: LocalBotApi) -> None:
    for chat in range(1, 8):
        api.user(chat)
    api.enforce_rate_limits(per_second=1, per_chat_per_second=None, paid_per_second=4)
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        await bot.send_message(1, "gratis")
        with pytest.raises(RetryAfter):
            await bot.send_message(2, "gratis lagi")  # beyond 1/s
        for chat in range(3, 7):  # 4 paid ones: within their own limit
            await bot.send_message(chat, "berbayar", allow_paid_broadcast=True)
        with pytest.raises(RetryAfter):
            await bot.send_message(7, "berbayar", allow_paid_broadcast=True)  # beyond 4/s
    assert api.fault_counts["rate_limit"] == 2
