"""Several bots on one database (BOT_SCOPE): two bots, each with its own token and local Bot
API, serving the two kecamatan of the test roster. Bot A: Tebing Tinggi (14.10.01: K1, M1,
M2, P1-P3); bot B: Merbau (14.10.05: K2, M3, P4). The admin A1 links in bot B."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from bot import jobs
from bot.app import services_of
from bot.clock import ManualClock
from bot.localapi import LocalBotApi, SentMessage, SimUser, UploadedFile
from bot.messaging import problem_alerts
from bot.settings import SettingsError, load_settings
from db import bots
from db import outbox as shared
from db.bots import Scope
from db.connection import Database
from db.models import Officer, Role
from tests.support import (
    PROCESS_START,
    REPLY_TIMEOUT,
    STARTUP_TIMEOUT,
    BotProcess,
    Harness,
    add_problem,
    at,
    bot_env,
    eventually,
    link_officers,
    load_roster,
    make_settings,
    query,
    report_says,
    text_of,
    write_announcement,
)

BOT_A, BOT_B = "regsosek_tebing_bot", "regsosek_merbau_bot"
SCOPE_A, SCOPE_B = "14.10.01", "14.10.05"
FAST = {
    "messages_per_second": 5000,
    "broadcast_rate_per_second": 30,
    "broadcast_poll_seconds": 0.05,
    "broadcast_report_interval": 0.05,
    "outbox_poll_seconds": 0.05,
}
# Chats: officer -> Telegram user id (= chat id).
CHATS = {"A1": 9101, "K1": 9201, "M1": 9202, "P1": 9203, "P2": 9204, "P3": 9205, "M2": 9206,
         "K2": 9301, "M3": 9302, "P4": 9303}
OF_A = ("K1", "M1", "M2", "P1", "P2", "P3")
OF_B = ("K2", "M3", "P4")


class Bots:
    def __init__(self, a: Harness, b: Harness) -> None:
        self.a, self.b = a, b

    def of(self, officer_id: str) -> Harness:
        return self.b if officer_id in (*OF_B, "A1") else self.a

    async def register(self, officer_id: str) -> SimUser:
        return await self.of(officer_id).register(officer_id, CHATS[officer_id])


@asynccontextmanager
async def two_bots(
    tmp_path: Path, clock: ManualClock, database: Path | str, **overrides: object
) -> AsyncIterator[Bots]:
    async with (
        LocalBotApi("1001:TOKEN-A", bot_id=1001, bot_username=BOT_A, clock=clock) as api_a,
        LocalBotApi("1002:TOKEN-B", bot_id=1002, bot_username=BOT_B, clock=clock) as api_b,
    ):
        values = {**FAST, "admin_telegram_ids": [], **overrides}
        settings_a = make_settings(tmp_path, api_a, database=database, bot_scope=SCOPE_A,
                                   bot_username=BOT_A, **values)
        settings_b = make_settings(tmp_path, api_b, database=database, bot_scope=SCOPE_B,
                                   bot_username=BOT_B, **values)
        codes = await load_roster(database, clock.now(), tmp_path)
        a = Harness(api_a, settings_a, clock, codes)
        b = Harness(api_b, settings_b, clock, codes)
        await a.start()
        try:
            await b.start()
            try:
                yield Bots(a, b)
            finally:
                await b.stop()
        finally:
            await a.stop()


@pytest.fixture
async def pair(
    tmp_path: Path, clock: ManualClock, database: Path | str
) -> AsyncIterator[Bots]:
    async with two_bots(tmp_path, clock, database) as found:
        yield found


async def link_all(pair: Bots) -> dict[str, SimUser]:
    """Every officer linked in their own bot, without the registration dialogue."""
    async with pair.a.db.transaction() as conn:
        for officer_id, chat in CHATS.items():
            await conn.execute(
                "UPDATE officers SET telegram_user_id = ?, telegram_chat_id = ? WHERE"
                " officer_id = ?", (chat, chat, officer_id))
        await bots.set_linked_bot(conn, "A1", BOT_B)
    return {oid: pair.of(oid).api.user(chat, oid) for oid, chat in CHATS.items()}


async def pair_scalar_is(harness: Harness, expected: object, sql: str, *params: object) -> bool:
    return await harness.scalar(sql, *params) == expected


async def to_everyone(admin: SimUser) -> None:
    """/umumkan to "Semua petugas", up to the question of the text."""
    await admin.send("/umumkan")
    await admin.press(await admin.wait_for(lambda m: "Untuk siapa" in text_of(m)),
                      "Semua petugas")
    await admin.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))


def announcements(api: LocalBotApi, chat_id: int) -> list[SentMessage]:
    return [m for m in api.messages_to(chat_id) if "Pengumuman dari" in text_of(m)]


# --- settings and the scope ------------------------------------------------------------------


def test_bot_scope_is_a_comma_list_of_wilayah_prefixes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, bot_scope="14.10, 91 ,14.10")
    assert settings.bot_scope == ["14.10", "91"]
    assert make_settings(tmp_path).bot_scope == []  # unset: everyone
    with pytest.raises(SettingsError, match=r"BOT_SCOPE is invalid.*'Riau'.*14\.10"):
        load_settings(_env_file=None, bot_scope="14,Riau")
    with pytest.raises(SettingsError, match="BOT_SCOPE"):
        load_settings(_env_file=None, bot_scope="14.1")


def test_a_scope_covers_its_prefixes_and_admins_linked_in_it() -> None:
    scope = Scope(BOT_A, ("14.10",))
    assert scope.covers("14.10.01") and scope.covers("14.10")
    assert not scope.covers("14.1") and not scope.covers("14.101.01") and not scope.covers(None)
    admin = Officer(officer_id="A1", name="Admin", role=Role.ADMIN)
    assert scope.serves(admin, BOT_A) and not scope.serves(admin, BOT_B)
    assert not scope.serves(admin, None)
    assert Scope(BOT_A).serves(admin, None)  # no scope: everyone, as for one regency


async def test_served_officers_and_the_bot_of_a_kecamatan(
    tmp_path: Path, database: Path | str
) -> None:
    await load_roster(database, at(17), tmp_path)
    db = Database(database)
    await db.open()
    try:
        async with db.transaction() as conn:
            await bots.set_linked_bot(conn, "A1", BOT_B)
            assert await bots.record(conn, Scope(BOT_A, (SCOPE_A,)), at(17)) == []
            assert await bots.record(conn, Scope(BOT_B, (SCOPE_B,)), at(17)) == []
            # A third bot for the whole kabupaten overlaps both: they are named.
            wide = await bots.record(conn, Scope("regsosek_kab_bot", ("14.10",)), at(17))
            await conn.execute("DELETE FROM bots WHERE username = 'regsosek_kab_bot'")
        assert {b.username for b in wide} == {BOT_A, BOT_B}
        conn = db.conn
        assert await bots.served_ids(conn, Scope(BOT_A, (SCOPE_A,))) == set(OF_A)
        assert await bots.served_ids(conn, Scope(BOT_B, (SCOPE_B,))) == {*OF_B, "A1"}
        assert await bots.served_ids(conn, Scope(BOT_A)) is None  # everyone
        assert await bots.serves(conn, Scope(BOT_B, (SCOPE_B,)), "A1")
        assert not await bots.serves(conn, Scope(BOT_A, (SCOPE_A,)), "P4")
        assert await bots.bot_for(conn, "14.10.05") == BOT_B
        assert await bots.bot_for(conn, "14.10.01") == BOT_A
        assert await bots.bot_for(conn, "91.01.01") is None
    finally:
        await db.close()


# --- registration -----------------------------------------------------------------------------


async def test_an_officer_of_the_other_scope_is_told_which_bot_to_open(pair: Bots) -> None:
    codes = pair.a.codes
    pandu_at_a = pair.a.api.user(CHATS["P4"], "Pandu")
    await pandu_at_a.send(f"/start {codes['P4']}")
    hint = await pandu_at_a.wait_for(lambda m: f"@{BOT_B}" in text_of(m))
    assert f"https://t.me/{BOT_B}?start={codes['P4']}" in hint.text
    assert "Selamat datang" not in hint.text
    assert await pair.a.scalar(
        "SELECT telegram_user_id FROM officers WHERE officer_id = 'P4'") is None
    assert await pair.a.scalar(
        "SELECT used_at FROM registration_codes WHERE officer_id = 'P4'") is None

    # The same code in the right bot links the account; the phone does the same elsewhere.
    pandu = await pair.register("P4")
    putri = pair.b.api.user(CHATS["P1"], "Putri")
    await putri.send_contact("081200000005")
    hint = await putri.wait_for(lambda m: f"@{BOT_A}" in text_of(m))
    assert "bagikan nomor HP" in hint.text
    await pair.register("P1")

    # Linked in bot B, Pandu writing to bot A is sent back to bot B.
    await pandu_at_a.send("/lapor 5 6 20")
    back = await pandu_at_a.wait_for(lambda m: "dilayani oleh" in text_of(m))
    assert f"@{BOT_B}" in back.text
    await pandu.send("/lapor 5 6 20")
    await pandu.wait_for(lambda m: "Ringkasan" in text_of(m))

    # An admin links in any bot, which serves them from then on.
    await pair.register("A1")
    assert await pair.a.scalar(
        "SELECT linked_bot FROM officers WHERE officer_id = 'A1'") == BOT_B
    assert await pair.a.scalar(
        "SELECT linked_bot FROM officers WHERE officer_id = 'P4'") == BOT_B
    assert await pair.a.scalar("SELECT scope FROM bots WHERE username = ?", BOT_A) == SCOPE_A


async def test_without_a_bot_for_the_kecamatan_the_hint_says_to_ask_the_admin(
    pair: Bots,
) -> None:
    async with pair.a.db.transaction() as conn:
        await conn.execute("DELETE FROM bots WHERE username = ?", (BOT_B,))
    pandu = pair.a.api.user(CHATS["P4"], "Pandu")
    await pandu.send(f"/start {pair.a.codes['P4']}")
    hint = await pandu.wait_for(lambda m: "admin BPS" in text_of(m))
    assert "tidak dilayani oleh bot ini" in hint.text and "t.me" not in hint.text


# --- announcements ----------------------------------------------------------------------------


async def test_an_admin_announcement_reaches_everyone_once_through_their_own_bot(
    pair: Bots,
) -> None:
    users = await link_all(pair)
    admin = users["A1"]
    await to_everyone(admin)
    preview = await write_announcement(admin, "Rapat koordinasi nasional")
    assert "Penerima: 9 petugas" in preview.text
    await admin.press(preview, "Kirim")
    report = await admin.wait_for(lambda m: "Status pengiriman pengumuman #1" in text_of(m))
    await report_says(pair.b, report, "Terkirim 9/9", "Selesai dikirim")

    for officer_id in (*OF_A, *OF_B):
        own, other = pair.of(officer_id).api, (pair.b if officer_id in OF_A else pair.a).api
        assert len(announcements(own, CHATS[officer_id])) == 1, officer_id
        assert announcements(other, CHATS[officer_id]) == [], officer_id
    assert await pair.a.scalar(
        "SELECT COUNT(*) FROM broadcast_recipients WHERE claimed_by = ?", BOT_A) == 6
    assert await pair.a.scalar(
        "SELECT COUNT(*) FROM broadcast_recipients WHERE claimed_by = ?", BOT_B) == 3

    # "Sudah dibaca" in bot A shows in the report that bot B edits.
    [for_putri] = announcements(pair.a.api, CHATS["P1"])
    await users["P1"].press(for_putri, "Sudah dibaca")
    await report_says(pair.b, report, "Dibaca 1")


async def test_an_attachment_goes_to_the_other_bots_officers_as_that_bots_own_file(
    pair: Bots,
) -> None:
    users = await link_all(pair)
    admin = users["A1"]
    await to_everyone(admin)
    photo = b"\xff\xd8\xff\xe0 formulir \xff\xd9"
    await admin.send_photo("Contoh formulir yang benar", data=photo)
    preview = await admin.wait_for(lambda m: "Pratinjau pengumuman" in text_of(m)
                                   )
    await admin.press(preview, "Kirim")
    report = await admin.wait_for(lambda m: "Status pengiriman pengumuman #1" in text_of(m))
    await report_says(pair.b, report, "Terkirim 9/9", "Selesai dikirim")

    sends = pair.a.api.calls("sendPhoto")
    assert len(sends) == len(OF_A)
    uploads = [c for c in sends if isinstance(c.params.get("photo"), UploadedFile)]
    assert len(uploads) == 1 and uploads[0].params["photo"].data == photo  # once, the bytes
    for officer_id in OF_A:
        [message] = [m for m in pair.a.api.messages_to(CHATS[officer_id]) if m.file_id]
        assert message.file_id.startswith("PHACAgUAAxkBAAI1001_")  # bot A's own file
        assert "Contoh formulir yang benar" in text_of(message)
    for officer_id in OF_B:
        [message] = [m for m in pair.b.api.messages_to(CHATS[officer_id]) if m.file_id]
        assert message.file_id.startswith("PHACAgUAAxkBAAI1002_")


async def test_an_attachment_another_bot_cannot_fetch_is_named_in_the_text(
    pair: Bots,
) -> None:
    users = await link_all(pair)
    pair.b.api.fail_next("getFile", 400, description="Bad Request: file is too big")
    admin = users["A1"]
    await to_everyone(admin)
    await admin.send_photo("Contoh formulir")
    preview = await admin.wait_for(lambda m: "Pratinjau pengumuman" in text_of(m)
                                   )
    await admin.press(preview, "Kirim")
    report = await admin.wait_for(lambda m: "Status pengiriman pengumuman #1" in text_of(m))
    await report_says(pair.b, report, "Terkirim 9/9", "Selesai dikirim")
    [message] = announcements(pair.a.api, CHATS["P1"])
    assert "Contoh formulir" in message.text and "Lampiran pengumuman ini tidak dapat" in (
        message.text)
    assert pair.a.api.calls("sendPhoto") == []
    assert len(pair.b.api.calls("sendPhoto")) == len(OF_B) + 1  # and the preview


# --- the shared outbox: messages across scopes ------------------------------------------------


async def test_an_escalation_to_an_admin_of_the_other_bot_goes_through_the_shared_outbox(
    pair: Bots, clock: ManualClock,
) -> None:
    await link_all(pair)
    problem = await add_problem(pair.a.db, "P1", photo_file_id=None, latitude=1.0,
                                longitude=102.5)
    clock.set(at(17) + timedelta(hours=49))
    services_a = services_of(pair.a.app)
    assert await problem_alerts.escalate_problems(services_a) == 2  # KOSEKA, then the admins

    admin_chat = CHATS["A1"]

    def escalations(api: LocalBotApi) -> list[SentMessage]:
        return [m for m in api.messages_to(admin_chat) if f"#{problem.id}" in text_of(m)]

    await eventually(lambda: escalations(pair.b.api))
    await eventually(lambda: pair.b.api.calls("sendLocation"))
    assert escalations(pair.a.api) == []  # bot A never wrote to the admin itself
    [message] = escalations(pair.b.api)
    assert "belum selesai setelah" in message.text
    assert [b.text for b in message.buttons()]  # its status buttons work in bot B
    await eventually(lambda: pair_scalar_is(
        pair.a, 2, "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND claimed_by = ?",
        BOT_B))
    # The KOSEKA of the same scope got it from bot A directly.
    assert [m for m in pair.a.api.messages_to(CHATS["K1"]) if f"#{problem.id}" in text_of(m)]
    assert await pair.a.scalar("SELECT COUNT(*) FROM outbox WHERE officer_id = 'K1'") == 0


async def test_a_shared_outbox_row_is_sent_once_and_a_crashed_claim_is_not_resent(
    pair: Bots,
) -> None:
    await link_all(pair)
    services_b = services_of(pair.b.app)
    now = services_b.clock.now()
    async with services_b.db.transaction() as conn:
        await shared.put(conn, "P4", "alert", [shared.Message("satu"), shared.Message("dua")],
                         now)
        # A claim of a row that a crash left 'sending' in bot B.
        await shared.put(conn, "M3", "alert", [shared.Message("terputus")], now)
        rows = await shared.pending_for(conn, services_b.scope, limit=10)
        crashed = next(r for r in rows if r.officer_id == "M3")
        assert await shared.claim(conn, crashed.id, BOT_B, now) is not None
        # Bot A serves none of them.
        assert await shared.pending_for(conn, services_of(pair.a.app).scope, limit=10) == []
    pandu = CHATS["P4"]
    await eventually(lambda: len(pair.b.api.messages_to(pandu)) == 2)
    assert [m.text for m in pair.b.api.messages_to(pandu)] == ["satu", "dua"]
    await pair.b.restart()
    assert await pair.b.scalar(
        "SELECT status || ':' || error FROM outbox WHERE id = ?", crashed.id
    ) == "failed:interrupted"
    assert pair.b.api.messages_to(CHATS["M3"]) == []
    assert pair.a.api.messages_to(pandu) == []


# --- scheduled messages -------------------------------------------------------------------


async def test_reminders_and_digests_go_only_to_the_bots_own_officers(pair: Bots) -> None:
    await link_all(pair)
    services_a, services_b = services_of(pair.a.app), services_of(pair.b.app)
    day = at(17).date()
    sent_a = await jobs.send_reminders(services_a, day=day, slot="16:00")
    sent_b = await jobs.send_reminders(services_b, day=day, slot="16:00")
    assert sorted(sent_a.recipients) == ["P1", "P2", "P3"]
    assert sent_b.recipients == ["P4"]
    digests_a = await jobs.send_digests(services_a, day=day, roles=[Role.PML, Role.ADMIN])
    digests_b = await jobs.send_digests(services_b, day=day, roles=[Role.PML, Role.ADMIN])
    assert sorted(digests_a.recipients) == ["M1", "M2"]
    assert sorted(digests_b.recipients) == ["A1", "M3"]  # the admin linked in bot B


# --- two real bot processes on one PostgreSQL database ------------------------------------


@pytest.mark.parametrize("engine", ["postgres"])  # the national set-up; SQLite: the tests above
async def test_two_bot_processes_on_one_database(
    tmp_path: Path, database: Path | str, processes: list[BotProcess],
) -> None:
    codes = await load_roster(database, PROCESS_START, tmp_path)
    async with (  # on the real clock, as the processes' rehearsal clock follows it
        LocalBotApi("1001:TOKEN-A", bot_id=1001, bot_username=BOT_A) as api_a,
        LocalBotApi("1002:TOKEN-B", bot_id=1002, bot_username=BOT_B) as api_b,
    ):
        fast = {"OUTBOX_POLL_SECONDS": "0.2", "BROADCAST_POLL_SECONDS": "0.2",
                "BROADCAST_REPORT_INTERVAL": "0.2", "CHAT_MESSAGE_INTERVAL": "0",
                "DATABASE_URL": str(database)}
        bot_a = BotProcess(bot_env(api_a, tmp_path / "unused.db", BOT_SCOPE=SCOPE_A,
                                   BOT_USERNAME=BOT_A, **fast), tmp_path, "bot-a")
        bot_b = BotProcess(bot_env(api_b, tmp_path / "unused.db", BOT_SCOPE=SCOPE_B,
                                   BOT_USERNAME=BOT_B, **fast), tmp_path, "bot-b")
        processes += [bot_a, bot_b]
        await bot_a.start()
        await bot_b.start()

        # Registration per scope: each bot links its own officers, and names the other bot
        # to an officer of the other scope.
        putri = api_a.user(CHATS["P1"], "Putri")
        await putri.send(f"/start {codes['P1']}")
        await bot_a.expect(putri, lambda m: "Selamat datang" in text_of(m), STARTUP_TIMEOUT)
        pandu = api_b.user(CHATS["P4"], "Pandu")
        await pandu.send(f"/start {codes['P4']}")
        await bot_b.expect(pandu, lambda m: "Selamat datang" in text_of(m), STARTUP_TIMEOUT)
        prabu_at_b = api_b.user(CHATS["P3"], "Prabu")
        await prabu_at_b.send(f"/start {codes['P3']}")
        hint = await bot_b.expect(prabu_at_b, lambda m: f"@{BOT_A}" in text_of(m))
        assert f"https://t.me/{BOT_A}?start={codes['P3']}" in hint.text
        admin = api_b.user(CHATS["A1"], "Admin")
        await admin.send(f"/start {codes['A1']}")
        await bot_b.expect(admin, lambda m: "Selamat datang" in text_of(m))

        # Everyone else linked in their own bot; the admin's announcement to everyone.
        others = {oid: CHATS[oid] for oid in (*OF_A, *OF_B) if oid not in ("P1", "P4")}
        await link_officers(database, others)
        users = {oid: (api_b if oid in OF_B else api_a).user(chat, oid)
                 for oid, chat in others.items()}
        await admin.send("/umumkan")
        choice = await bot_b.expect(admin, lambda m: "Untuk siapa" in text_of(m))
        await admin.press(choice, "Semua petugas")
        await bot_b.expect(admin, lambda m: "Tulis teks pengumuman" in text_of(m))
        await admin.send("Rapat koordinasi nasional")
        preview = await bot_b.expect(admin, lambda m: "Pratinjau pengumuman" in text_of(m))
        await admin.press(preview, "Kirim")
        report = await bot_b.expect(admin, lambda m: "Status pengiriman" in text_of(m))
        await eventually(lambda: "Selesai dikirim" in text_of(
            api_b.message(report.chat_id, report.message_id)), timeout=REPLY_TIMEOUT)
        assert "Terkirim 9/9" in text_of(api_b.message(report.chat_id, report.message_id))
        assert users  # every officer: once, from their own bot only
        for officer_id in (*OF_A, *OF_B):
            own, other = (api_b, api_a) if officer_id in OF_B else (api_a, api_b)
            assert len(announcements(own, CHATS[officer_id])) == 1, officer_id
            assert announcements(other, CHATS[officer_id]) == [], officer_id

        assert await bot_a.terminate() == 0
        assert await bot_b.terminate() == 0
    assert sorted(query(database, "SELECT username, scope FROM bots")) == sorted(
        [(BOT_A, SCOPE_A), (BOT_B, SCOPE_B)])


@pytest.mark.parametrize("engine", ["postgres"])  # SQLite has no notifications: it polls
async def test_on_postgresql_new_rows_wake_the_other_bot_at_once(
    tmp_path: Path, clock: ManualClock, database: Path | str,
) -> None:
    slow = {"outbox_poll_seconds": 60, "broadcast_poll_seconds": 60}
    async with two_bots(tmp_path, clock, database, **slow) as pair:
        users = await link_all(pair)
        admin = users["A1"]
        await to_everyone(admin)
        await admin.press(await write_announcement(admin, "Rapat besok"), "Kirim")
        # Bot A looks again only after a minute unless bot B's commit wakes it.
        await eventually(lambda: all(announcements(pair.a.api, CHATS[o]) for o in OF_A))
        # The same for a message left in the shared outbox.
        async with pair.a.db.transaction() as conn:
            await shared.put(conn, "P4", "alert", [shared.Message("Kendala baru")],
                             clock.now())
        await eventually(lambda: [m for m in pair.b.api.messages_to(CHATS["P4"])
                                  if m.text == "Kendala baru"])
