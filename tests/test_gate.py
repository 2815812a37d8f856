"""The access gate fails closed: whatever goes wrong inside it stops the update there."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import Application

from bot.context import BotContext, NotLetIn
from handlers.errors import describe
from tests.support import Harness


@pytest.fixture
def engine() -> str:
    """SQLite only: the access gate's answers, Telegram behaviour; its lookups run on both
    engines in the e2e tests (see tests/conftest.py)."""
    return "sqlite"

APOLOGY = "Mohon maaf, terjadi gangguan"
NOT_REGISTERED = "belum terhubung"
GROUP_HINT = "Mohon gunakan chat pribadi"
STRANGER = 4242


def texts(messages) -> list[str]:
    return [m.text or "" for m in messages]


def hint_interval(harness: Harness) -> timedelta:
    """A chat gets the same hint once per HINT_INTERVAL_MINUTES: the time to wait for another."""
    return timedelta(minutes=harness.settings.hint_interval_minutes)


async def test_whitespace_only_text_from_a_stranger_gets_the_registration_hint(
    harness: Harness,
) -> None:
    stranger = harness.api.user(STRANGER)
    await stranger.send("   ")
    answer = await stranger.next_message()
    assert NOT_REGISTERED in (answer.text or "")
    harness.clock.advance(hint_interval(harness))
    await stranger.send("\n\t")
    await stranger.wait_for(lambda m: m is not answer and NOT_REGISTERED in (m.text or ""))
    assert all(APOLOGY not in text for text in texts(stranger.inbox))
    assert len(stranger.inbox) == 2


async def test_whitespace_only_text_from_an_officer_changes_nothing(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    await panji.send("   ")
    await panji.send("/lapor 12 14 51")
    await panji.wait_for(lambda m: "Kirim" in str(m.buttons()))
    assert all(APOLOGY not in text for text in texts(panji.inbox))


async def test_a_refusal_that_cannot_be_sent_still_stops_the_update(harness: Harness) -> None:
    stranger = harness.api.user(STRANGER)
    harness.api.fail_next("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    await stranger.send("/lapor 12 14 51")
    # The chat's updates are handled in order: once the next one is answered, the first is
    # done, and it left nothing behind it (no apology, no handler run without an officer).
    await stranger.send("/progres")
    await stranger.wait_for(lambda m: NOT_REGISTERED in (m.text or ""))
    assert len(stranger.inbox) == 1
    assert harness.api.calls("answerCallbackQuery") == []


async def test_a_database_failure_in_the_gate_stops_the_update(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    async with harness.db.transaction() as conn:
        await conn.execute("ALTER TABLE officers RENAME TO officers_away")
    try:
        await putri.send("/lapor 12 14 51")
        apology = await putri.wait_for(lambda m: APOLOGY in (m.text or ""))
    finally:
        async with harness.db.transaction() as conn:
            await conn.execute("ALTER TABLE officers_away RENAME TO officers")
    await putri.send("/progres")
    progress = await putri.wait_for(lambda m: m.message_id > apology.message_id)
    # One apology, and nothing of /lapor: the report flow never ran without an officer.
    after = texts(putri.inbox[putri.inbox.index(apology):])
    assert sum(APOLOGY in text for text in after) == 1
    assert "Kirim" not in str(apology.buttons()) and progress.text
    assert await harness.scalar("SELECT COUNT(*) FROM reports") == 0


async def test_a_group_where_the_bot_cannot_post_gets_nothing_more(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    group = harness.api.group(-100777, "Tim Banglas")
    harness.api.fail_next(
        "sendMessage", 403, description="Forbidden: bot was kicked from the supergroup chat"
    )
    await group.send(putri, "/lapor 12 14 51")
    last = await group.send(putri, "/bantuan")
    hint = await group.wait_for(lambda m: m.reply_to_message_id == last)
    assert GROUP_HINT in (hint.text or "")
    assert harness.api.messages_to(group.chat_id) == [hint]  # no apology in the group
    assert await harness.scalar("SELECT COUNT(*) FROM reports") == 0


async def test_registration_happens_only_in_a_private_chat(harness: Harness) -> None:
    stranger = harness.api.user(STRANGER, first_name="Tamu")
    group = harness.api.group(-100778, "Tim")
    first = await group.send(stranger, f"/start {harness.codes['P2']}")
    await group.wait_for(lambda m: m.reply_to_message_id == first)
    harness.clock.advance(hint_interval(harness))
    last = await group.send(stranger, "/bantuan")
    await group.wait_for(lambda m: m.reply_to_message_id == last)
    linked = "SELECT telegram_user_id FROM officers WHERE officer_id='P2'"
    assert await harness.scalar(linked) is None
    assert stranger.inbox == []


def test_an_officer_is_required_without_assert() -> None:
    context = BotContext(Application.builder().token("1:x").build())
    with pytest.raises(NotLetIn):
        context.require_officer()


@pytest.mark.parametrize("folder", ["handlers", "conversations"])
def test_no_access_check_is_an_assert(folder: str) -> None:
    """`python -O` strips asserts: no check that an officer was let in may be one."""
    root = Path(__file__).resolve().parent.parent / folder
    found = []
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assert) and "officer" in ast.unparse(node.test):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_error_logs_name_the_update_never_its_text_or_phone() -> None:
    update = Update.de_json(
        {
            "update_id": 77,
            "message": {
                "message_id": 5, "date": 1666000000, "text": "rahasia 081299998888",
                "chat": {"id": 501, "type": "private"},
                "from": {"id": 501, "is_bot": False, "first_name": "Putri"},
                "contact": {"phone_number": "081299998888", "first_name": "Putri"},
            },
        },
        None,
    )
    line = describe(update)
    assert line == "update 77 (chat 501, message)"
    assert "0812" not in line and "rahasia" not in line
