"""Floods and strangers stall nobody: a chat refused with 429 waits alone, a chat that floods
is answered once, and hints reach a chat at most once per HINT_INTERVAL_MINUTES.

The windows run on the injected clock: the clock stands still unless a test moves it, so
every update of a test arrives "at the same moment" until then.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.localapi import LocalBotApi, SentMessage
from handlers.access import WINDOWS_KEY
from handlers.throttle import ChatWindows
from tests.support import Harness, eventually, running_harness


@pytest.fixture
def engine() -> str:
    """SQLite only: flood limits before any database work (see tests/conftest.py)."""
    return "sqlite"


STRANGER = 4242
NOT_REGISTERED = "belum terhubung"
TOO_FAST = "datang terlalu cepat"
HELP = "Perintah yang tersedia"
EDIT_IGNORED = "Pesan yang diubah tidak dibaca"
GROUP_HINT = "Mohon gunakan chat pribadi"
HINT_INTERVAL = timedelta(minutes=5)  # the default HINT_INTERVAL_MINUTES

pytestmark = pytest.mark.filterwarnings(  # PTB warns whenever it builds a RetryAfter
    "ignore::telegram.warnings.PTBDeprecationWarning"
)


def text_of(message: SentMessage) -> str:
    return message.text or ""


def count(messages: list[SentMessage], mark: str) -> int:
    return sum(mark in text_of(m) for m in messages)


def windows(harness: Harness) -> ChatWindows:
    assert harness.app is not None
    return harness.app.bot_data[WINDOWS_KEY]


async def test_a_stranger_flooding_a_refused_chat_does_not_delay_an_officer(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    async with running_harness(api, tmp_path, clock, chat_updates_per_second=5) as harness:
        panji = await harness.register("P2", 502)  # one SLS: /lapor 12 14 51 is one step
        # Telegram refuses the stranger's chat for 8 s (that chat's own flood limit).
        api.fail_next("sendMessage", 429, chat_id=STRANGER, retry_after=8)
        stranger = api.user(STRANGER, "Tamu")
        for number in range(30):
            await stranger.send(f"halo {number}")
        await eventually(lambda: api.fault_counts["429"] >= 1)  # the refusal is on now

        started = time.monotonic()
        await panji.send("/lapor 12 14 51")
        summary = await panji.wait_for(lambda m: "Kirim" in str(m.buttons()), timeout=15)
        waited = time.monotonic() - started

        assert waited < 1.0, f"the officer's summary took {waited:.1f} s"
        assert "Ringkasan" in text_of(summary)
        # The stranger gets the registration hint once, when the 8 s are over, and nothing
        # for the other 29 messages (25 of them dropped as a flood, without a notice).
        hint = await stranger.wait_for(lambda m: NOT_REGISTERED in text_of(m), timeout=15)
        await eventually(lambda: windows(harness).flooded == 25)
        assert stranger.inbox == [hint]


async def test_a_stranger_gets_the_registration_hint_once_per_interval(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    async with running_harness(api, tmp_path, clock, chat_updates_per_second=5) as harness:
        stranger = api.user(STRANGER, "Tamu")
        for number in range(30):
            await stranger.send(f"/lapor {number} 1 1")
        hint = await stranger.wait_for(lambda m: NOT_REGISTERED in text_of(m))
        await eventually(lambda: windows(harness).flooded == 25)  # all 30 handled
        assert stranger.inbox == [hint]

        clock.advance(HINT_INTERVAL)
        await stranger.send("/progres")
        again = await stranger.wait_for(lambda m: NOT_REGISTERED in text_of(m))
        assert stranger.inbox == [hint, again]


async def test_a_told_stranger_costs_no_database_work_and_may_still_register(
    harness: Harness,
) -> None:
    handled = await _count_handled(harness)
    panji = harness.api.user(502, "Panji")  # P2's phone, not linked yet
    for number in range(4):
        await panji.send(f"halo {number}")
    hint = await panji.wait_for(lambda m: NOT_REGISTERED in text_of(m))
    await panji.send(f"/start {harness.codes['P2']}")  # a registration always goes through
    await panji.wait_for(lambda m: "Selamat datang" in text_of(m))
    await panji.send("/bantuan")
    await panji.wait_for(lambda m: HELP in text_of(m) and "Selamat datang" not in text_of(m))
    # The first "halo", the registration and /bantuan reached the database; the three other
    # messages were dropped before it, without a second hint.
    assert await _count_handled(harness) == handled + 3
    assert count(panji.inbox, NOT_REGISTERED) == 1 and panji.inbox[0] == hint


async def test_an_officer_who_floods_is_answered_then_told_once(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    async with running_harness(api, tmp_path, clock, chat_updates_per_second=5) as harness:
        putri = await harness.register("P1", 501)
        welcomed = len(putri.inbox)
        clock.advance(timedelta(seconds=2))  # the registration is another second

        def answers(mark: str) -> int:
            return count(putri.inbox[welcomed:], mark)

        for _ in range(30):
            await putri.send("/bantuan")
        await putri.wait_for(lambda m: TOO_FAST in text_of(m))
        await eventually(lambda: windows(harness).flooded == 25)
        # The five within the limit are answered, the flood is told once, the rest dropped.
        assert answers(HELP) == 5 and answers(TOO_FAST) == 1

        clock.advance(timedelta(seconds=2))  # calmer now: answered again
        await putri.send("/bantuan")
        await eventually(lambda: answers(HELP) == 6)
        for _ in range(10):  # a second flood soon after: no second notice
            await putri.send("/bantuan")
        await eventually(lambda: windows(harness).flooded == 25 + 6)
        assert answers(HELP) == 10 and answers(TOO_FAST) == 1


async def test_a_group_gets_its_hint_once_per_interval(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    group = harness.api.group(-100123, "Tim")
    first_id = await group.send(putri, "/lapor")
    hint = await group.wait_for(lambda m: m.reply_to_message_id == first_id)
    handled = await _count_handled(harness)
    for text in ("/progres", "/bantuan", "/lapor 1 1 4"):
        await group.send(putri, text)
    # The group's updates are handled one at a time: once the last is recorded, the two
    # before it are done.
    await eventually(lambda: _handled(harness, handled + 3))
    assert harness.api.messages_to(group.chat_id) == [hint]
    assert GROUP_HINT in text_of(hint)

    harness.clock.advance(HINT_INTERVAL)
    last_id = await group.send(putri, "/bantuan")
    again = await group.wait_for(lambda m: m.reply_to_message_id == last_id)
    assert harness.api.messages_to(group.chat_id) == [hint, again]


async def _count_handled(harness: Harness) -> int:
    """Updates recorded by the gate's de-duplication (past the flood step)."""
    return int(str(await harness.scalar("SELECT COUNT(*) FROM processed_updates")))


async def _handled(harness: Harness, updates: int) -> bool:
    return await _count_handled(harness) == updates


async def test_edits_get_their_hint_once_per_interval(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    message_id = await panji.send("halo")

    def edit(text: str) -> None:
        harness.api.add_update({"edited_message": {
            "message_id": message_id, "from": panji.to_api(),
            "chat": {"id": 502, "type": "private", "first_name": "P2"},
            "date": 1666000000, "edit_date": 1666000060, "text": text,
        }})

    for text in ("halo 1", "halo 2", "halo 3"):
        edit(text)
    await panji.send("/bantuan")  # answered once the edits before it are handled
    await panji.wait_for(lambda m: HELP in text_of(m))
    assert count(panji.inbox, EDIT_IGNORED) == 1

    harness.clock.advance(HINT_INTERVAL)
    edit("halo 4")
    await panji.wait_for(lambda m: EDIT_IGNORED in text_of(m))
    assert count(panji.inbox, EDIT_IGNORED) == 2
