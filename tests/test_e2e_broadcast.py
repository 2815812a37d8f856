"""Announcements over real HTTP: the real bot against the project's local Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import services_of
from bot.clock import ManualClock
from bot.localapi import ApiError, FaultPlan, LocalBotApi, SentMessage
from db.connection import Database
from tests.support import (
    ADMIN_TELEGRAM_ID,
    Harness,
    add_team,
    at,
    eventually,
    live,
    reimport_without,
    report_says,
    running_harness,
    write_announcement,
)

FAST = {  # small pacing intervals: the whole module stays within a few seconds
    "messages_per_second": 5000,
    "broadcast_rate_per_second": 30,
    "broadcast_poll_seconds": 0.05,
    "broadcast_report_interval": 0.05,
}


@pytest.fixture
async def harness(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock, database: Path | str
) -> AsyncIterator[Harness]:
    """conftest's harness, with the broadcast pacing of FAST, on each engine."""
    async with running_harness(api, tmp_path, clock, database=database, **FAST) as h:
        yield h


def text_of(message: SentMessage) -> str:
    return message.text or ""




def announcements(harness: Harness, chat_id: int) -> list[SentMessage]:
    return [m for m in harness.api.messages_to(chat_id) if "Pengumuman dari" in text_of(m)]


async def test_pml_announces_to_the_team_with_read_receipts(harness: Harness) -> None:
    mahmud = await harness.register("M1", 601)
    putri = await harness.register("P1", 501)
    panji = await harness.register("P2", 502)
    prabu = await harness.register("P3", 503)  # M2's team: not a recipient

    await mahmud.send("/umumkan")
    ask = await mahmud.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
    assert "PPL tim Bapak/Ibu" in ask.text  # a PML has one audience: no question about it
    await mahmud.send_sticker()
    again = await mahmud.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
    assert again.text.startswith("Mohon kirim teks, foto atau dokumen.")
    await mahmud.send("x" * 3501)
    again = await mahmud.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
    assert "Teks terlalu panjang (3.501 karakter, maksimal 3.500)" in again.text
    preview = await write_announcement(mahmud, "<b>Ani & Budi</b> rapat besok 08.00")
    assert "Penerima: 2 petugas" in preview.text and "belum terdaftar" not in preview.text
    assert "<b>Ani & Budi</b> rapat besok 08.00" in preview.text  # shown as typed
    await mahmud.press(preview, "Kirim")
    report = await mahmud.wait_for(lambda m: "Status pengiriman pengumuman #1" in text_of(m))
    report = await report_says(harness, report, "Terkirim 2/2", "Selesai dikirim")
    assert "Dibaca 0" in report.text

    for user in (putri, panji):
        [message] = announcements(harness, user.chat_id)
        assert "Mahmud PML (PML)" in message.text
        assert message.text.endswith("<b>Ani & Budi</b> rapat besok 08.00")  # escaped: literal
        assert [e["type"] for e in message.entities] == ["bold"]  # only our own "Pengumuman"
        assert [b.text for b in message.buttons()] == ["✅ Sudah dibaca"]
    assert announcements(harness, prabu.chat_id) == []

    # A forged "Sudah dibaca" for Putri's row, pressed by Prabu, is refused.
    [for_putri] = announcements(harness, putri.chat_id)
    data = for_putri.button("Sudah dibaca").callback_data
    assert data is not None
    forged = await prabu.press_data(harness.api.messages_to(prabu.chat_id)[-1], data)
    assert "untuk penerima" in (await prabu.wait_answer(forged))["text"]
    assert await harness.scalar("SELECT COUNT(*) FROM broadcast_recipients"
                                " WHERE read_at IS NOT NULL") == 0

    query = await putri.press(for_putri, "Sudah dibaca")
    assert (await putri.wait_answer(query))["text"].startswith("Terima kasih")
    await eventually(lambda: live(harness, for_putri).buttons() == [])  # no second press
    await report_says(harness, report, "Dibaca 1")

    await mahmud.send("/pengumuman")
    listing = await mahmud.wait_for(lambda m: "Pengumuman terakhir" in text_of(m))
    assert "#1" in listing.text and "Terkirim 2/2 · Dibaca 1" in listing.text
    assert "Belum membaca (1): Panji PPL" in listing.text
    assert "Putri PPL" not in listing.text


async def test_unread_names_are_shown_as_typed(harness: Harness) -> None:
    mahmud = await harness.register("M1", 601)
    await harness.register("P1", 501)
    await harness.register("P2", 502)
    async with harness.db.transaction() as conn:
        await conn.execute("UPDATE officers SET name = 'Siti <Ani>' WHERE officer_id = 'P2'")
        await conn.execute("UPDATE officers SET name = 'Putri &amp; Co' WHERE officer_id = 'P1'")
    await mahmud.send("/umumkan")
    await mahmud.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
    await mahmud.press(await write_announcement(mahmud, "Rapat besok"), "Kirim")
    report = await mahmud.wait_for(lambda m: "Status pengiriman pengumuman #1" in text_of(m))
    await report_says(harness, report, "Terkirim 2/2", "Selesai dikirim")

    await mahmud.send("/pengumuman")
    listing = await mahmud.wait_for(lambda m: "Pengumuman terakhir" in text_of(m))
    assert "Belum membaca (2):" in listing.text
    # As typed: neither markup nor an entity.
    assert "Siti <Ani>" in listing.text and "Putri &amp; Co" in listing.text


async def test_koseka_only_pml_counts_unlinked_and_admin_sees_all(harness: Harness) -> None:
    kartini = await harness.register("K1", 701)
    mahmud = await harness.register("M1", 601)  # M2 is not registered yet
    await harness.register("P1", 501)

    await kartini.send("/broadcast")  # the English alias
    choice = await kartini.wait_for(lambda m: "Untuk siapa" in text_of(m))
    assert [b.text for b in choice.buttons()] == ["Seluruh kecamatan (PML dan PPL)", "Hanya PML"]
    await kartini.send("kepada semua")  # text instead of a button: the same question again
    choice = await kartini.wait_for(lambda m: "Untuk siapa" in text_of(m))
    assert choice.text.startswith("Mohon pilih dengan tombol")
    await kartini.press(choice, "Hanya PML")
    await kartini.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
    preview = await write_announcement(kartini, "Rapat PML Jumat")
    assert "Penerima: 1 petugas" in preview.text
    assert "1 lainnya belum terdaftar di bot" in preview.text
    await kartini.press(preview, "Kirim")
    report = await kartini.wait_for(lambda m: "Status pengiriman pengumuman" in text_of(m))
    report = await report_says(harness, report, "Terkirim 1/1", "Selesai")
    assert "Belum terdaftar di bot (tidak menerima): 1" in report.text
    assert len(announcements(harness, mahmud.chat_id)) == 1
    assert announcements(harness, 501) == []  # only PML

    admin = harness.api.user(ADMIN_TELEGRAM_ID, "Admin")
    await admin.send("/pengumuman")
    listing = await admin.wait_for(lambda m: "Pengumuman terakhir" in text_of(m))
    assert "dari Kartini Koseka" in listing.text and "Belum membaca (1): Mahmud PML" in listing.text
    await mahmud.send("/pengumuman")  # a PML sees only their own: none
    await mahmud.wait_for(lambda m: "Belum ada pengumuman" in text_of(m))


async def test_ppl_is_refused_politely(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    for command in ("/umumkan", "/broadcast"):
        await putri.send(command)
        refusal = await putri.wait_for(lambda m: "hanya dapat dikirim oleh PML" in text_of(m))
        assert "Mohon maaf" in refusal.text
    await putri.send("Halo semua")  # not in a flow: nothing was started
    await putri.wait_for(lambda m: "tidak sedang ditunggu bot" in text_of(m))
    assert await harness.scalar("SELECT COUNT(*) FROM broadcasts") == 0


async def test_admin_schedules_for_one_kecamatan(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    kartini = await harness.register("K1", 701)
    admin = harness.api.user(ADMIN_TELEGRAM_ID, "Admin")

    await admin.send("/umumkan")
    choice = await admin.wait_for(lambda m: "Untuk siapa" in text_of(m))
    assert [b.text for b in choice.buttons()] == [
        "Semua petugas", "Semua PPL", "Semua PML", "Semua KOSEKA", "Satu kecamatan…"]
    stale = choice.button("Semua PPL").callback_data  # the buttons go once one is pressed
    assert stale is not None
    await admin.press(choice, "Satu kecamatan…")
    kecamatan = await admin.wait_for(lambda m: "Pilih kecamatan" in text_of(m))
    # The kecamatan of the roster, not the 7,285 of the national list.
    assert [b.text for b in kecamatan.buttons()] == ["Tebing Tinggi", "Merbau"]
    await admin.press(kecamatan, "Tebing Tinggi")
    await admin.wait_for(lambda m: "Kecamatan Tebing Tinggi" in text_of(m))
    await admin.send("Pendataan <i>dimulai</i> & lancar")
    when = await admin.wait_for(lambda m: "Pratinjau pengumuman" in text_of(m))
    await admin.press(when, "Jadwalkan")
    await admin.wait_for(lambda m: "Kapan dikirim" in text_of(m))
    await admin.send("25:99")
    bad = await admin.wait_for(lambda m: "Kapan dikirim" in text_of(m))
    assert bad.text.startswith("Waktu tidak dapat dibaca.")
    await admin.send("17:30")
    past = await admin.wait_for(lambda m: "Kapan dikirim" in text_of(m))
    assert past.text.startswith("Waktu Senin, 17 Okt 2022 pukul 17.30 WIB sudah lewat.")
    await admin.send("19:30")
    preview = await admin.wait_for(lambda m: "Pratinjau pengumuman" in text_of(m))
    assert "Dikirim: Senin, 17 Okt 2022 pukul 19.30 WIB" in preview.text
    # K1, M1, M2, P1, P2, P3 are in 14.10.01; only K1 and P1 have registered.
    assert "Penerima: 2 petugas" in preview.text and "4 lainnya belum terdaftar" in preview.text

    # A button of an earlier step is refused politely and changes nothing.
    old = await admin.press_data(choice, stale)
    assert (await admin.wait_answer(old))["text"].startswith("Tombol ini sudah tidak berlaku.")
    await admin.press(preview, "Kirim")
    report = await admin.wait_for(lambda m: "Status pengiriman pengumuman" in text_of(m))
    assert "Dijadwalkan Senin, 17 Okt 2022 pukul 19.30 WIB" in report.text

    outbox = services_of(harness.app).outbox
    assert outbox is not None
    await outbox.run_until_idle()  # nothing is due before 19:30 on the injected clock
    assert announcements(harness, putri.chat_id) == []
    harness.clock.set(at(17, 19, 30))
    outbox.wake()
    await putri.wait_for(lambda m: "Pengumuman dari Admin (Admin BPS)" in text_of(m))
    message = await kartini.wait_for(lambda m: "Pengumuman dari" in text_of(m))
    assert message.text.endswith("Pendataan <i>dimulai</i> & lancar")
    await report_says(harness, report, "Terkirim 2/2", "Selesai dikirim")


async def test_a_scheduled_announcement_goes_to_its_audience_as_it_is_when_sent(
    harness: Harness,
) -> None:
    putri = await harness.register("P1", 501)
    panji = await harness.register("P2", 502)
    admin = harness.api.user(ADMIN_TELEGRAM_ID, "Admin")
    await admin.send("/umumkan")
    await admin.press(await admin.wait_for(lambda m: "Untuk siapa" in text_of(m)), "Semua PPL")
    await admin.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
    await admin.send("Besok rapat di kantor camat")
    preview = await admin.wait_for(lambda m: "Pratinjau pengumuman" in text_of(m))
    await admin.press(preview, "Jadwalkan")
    await admin.wait_for(lambda m: "Kapan dikirim" in text_of(m))
    await admin.send("19:30")
    preview = await admin.wait_for(lambda m: "Pratinjau pengumuman" in text_of(m))
    assert "Penerima: 2 petugas" in preview.text and "2 lainnya belum terdaftar" in preview.text
    await admin.press(preview, "Kirim")
    report = await admin.wait_for(lambda m: "Status pengiriman pengumuman" in text_of(m))

    # Before 19:30, Panji leaves the roster (re-imported without him); Prabu and Pandu register.
    await reimport_without(harness, "P2")
    prabu = await harness.register("P3", 503)
    await harness.register("P4", 504)
    harness.clock.set(at(17, 19, 30))
    outbox = services_of(harness.app).outbox
    assert outbox is not None
    outbox.wake()
    report = await report_says(harness, report, "Terkirim 3/3", "Selesai dikirim")
    assert "Belum terdaftar" not in report.text
    assert len(announcements(harness, putri.chat_id)) == 1
    assert len(announcements(harness, prabu.chat_id)) == 1
    assert announcements(harness, panji.chat_id) == []
    assert await harness.scalar(
        "SELECT COUNT(*) FROM broadcast_recipients WHERE officer_id = 'P2'") == 0


async def test_a_stored_announcement_whose_report_fails_never_asks_to_try_again(
    harness: Harness,
) -> None:
    mahmud = await harness.register("M1", 601)
    putri = await harness.register("P1", 501)
    await mahmud.send("/umumkan")
    await mahmud.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
    preview = await write_announcement(mahmud, "Apel pagi jam 7")
    # The delivery report (the next message to the PML) is refused with a 500.
    limit = harness.api.fault_counts["500"] + 1
    harness.api.set_faults(FaultPlan(rate_500=1.0, methods=frozenset({"sendMessage"}),
                                     chats=frozenset({601}), limit=limit))
    await mahmud.press(preview, "Kirim")
    told = await mahmud.wait_for(lambda m: "sudah tersimpan" in text_of(m))
    harness.api.clear_faults()
    assert told.text.startswith("Pengumuman #1 sudah tersimpan dan akan dikirim")
    assert "coba lagi" not in told.text
    await putri.wait_for(lambda m: "Apel pagi jam 7" in text_of(m))
    await mahmud.send("/pengumuman")
    listing = await mahmud.wait_for(lambda m: "Pengumuman terakhir" in text_of(m))
    assert "Terkirim 1/1" in listing.text
    assert not any("coba lagi" in text_of(m) for m in harness.api.messages_to(601))
    assert await harness.scalar("SELECT COUNT(*) FROM broadcasts") == 1


async def test_cancel_at_any_step_and_stale_kirim(harness: Harness) -> None:
    mahmud = await harness.register("M1", 601)
    await harness.register("P1", 501)
    await mahmud.send("/umumkan")
    await mahmud.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
    await mahmud.send("/batal")
    await mahmud.wait_for(lambda m: "Pengumuman dibatalkan" in text_of(m))

    await mahmud.send("/umumkan")
    await mahmud.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
    preview = await write_announcement(mahmud, "Sampai jumpa")
    kirim = preview.button("Kirim").callback_data
    assert kirim is not None
    await mahmud.press(preview, "Batal")
    await mahmud.wait_for(lambda m: "Pengumuman dibatalkan" in text_of(m))
    late = await mahmud.press_data(preview, kirim)  # the Kirim of a cancelled draft
    assert (await mahmud.wait_answer(late))["text"].startswith("Tombol ini sudah tidak berlaku.")
    assert await harness.scalar("SELECT COUNT(*) FROM broadcasts") == 0
    assert announcements(harness, 501) == []


async def test_blocked_recipient_counts_as_unreachable(harness: Harness) -> None:
    maryam = await harness.register("M2", 602)
    await harness.register("P3", 503)
    harness.api.blocked_users.add(503)
    await maryam.send("/umumkan")
    await maryam.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
    await maryam.press(await write_announcement(maryam, "Besok libur"), "Kirim")
    report = await maryam.wait_for(lambda m: "Status pengiriman pengumuman" in text_of(m))
    await report_says(harness, report, "Terkirim 0/1", "Tidak terjangkau 1", "Selesai")
    assert await harness.scalar("SELECT unreachable_at FROM officers WHERE officer_id='P3'")
    assert len([c for c in harness.api.calls("sendMessage") if c.status == 403]) == 1


async def test_photo_announcement_keeps_the_file_id(harness: Harness) -> None:
    mahmud = await harness.register("M1", 601)
    putri = await harness.register("P1", 501)
    await mahmud.send("/umumkan")
    await mahmud.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
    await mahmud.send_photo()  # no caption: the text is asked next
    await mahmud.wait_for(lambda m: "Lampiran diterima" in text_of(m))
    await mahmud.send("y" * 901)
    too_long = await mahmud.wait_for(lambda m: "terlalu panjang" in text_of(m))
    assert "(901 karakter, maksimal 900)" in too_long.text
    preview = await write_announcement(mahmud, "Contoh pengisian kuesioner")
    [shown] = [m for m in harness.api.messages_to(mahmud.chat_id) if m.kind == "photo"]
    await mahmud.press(preview, "Kirim")
    await mahmud.wait_for(lambda m: "Status pengiriman pengumuman" in text_of(m))
    photo = await putri.wait_for(lambda m: m.kind == "photo")
    assert photo.file_id == shown.file_id  # sent by file_id, not uploaded again
    assert photo.text is not None and photo.text.endswith("Contoh pengisian kuesioner")
    assert [b.text for b in photo.buttons()] == ["✅ Sudah dibaca"]


# --- 300 recipients, faults and a restart ----------------------------------------------------

EXTRA = 300


class Faults:
    """Answers some announcement requests with 500 and then with 429, like a busy Telegram."""

    def __init__(self, chats: set[int], *, errors_at: set[int], throttled_from: int,
                 throttled: int) -> None:
        self.chats = chats
        self.errors_at = errors_at
        self.throttled_from = throttled_from
        self.throttled = throttled
        self.calls = 0
        self.served_500 = 0
        self.served_429 = 0

    def __call__(self, method: str, params: dict[str, Any]) -> tuple[int, dict] | None:
        if method != "sendMessage" or int(params.get("chat_id", 0)) not in self.chats:
            return None
        self.calls += 1
        if self.calls in self.errors_at:
            self.served_500 += 1
            return 500, ApiError(500, "Internal Server Error").body()
        if self.calls >= self.throttled_from and self.served_429 < self.throttled:
            self.served_429 += 1
            error = ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            return 429, error.body()
        return None


async def pending_rows(path: Path | str) -> int:
    db = Database(path)
    await db.open()
    try:
        async with db.conn.execute(
            "SELECT COUNT(*) FROM broadcast_recipients WHERE status IN ('pending', 'sending')"
        ) as cur:
            row = await cur.fetchone()
    finally:
        await db.close()
    return int(row[0])


# PTB warns whenever it builds a RetryAfter (int -> timedelta migration of retry_after).
# SQLite only: faults and a restart of Telegram's side; the claims' SQL runs on PostgreSQL in
# test_broadcast and test_multibot.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
@pytest.mark.parametrize("engine", ["sqlite"])
async def test_300_recipients_get_it_exactly_once_despite_faults_and_a_restart(
    harness: Harness,
) -> None:
    mahmud = await harness.register("M1", 601)
    chats = await add_team(harness, EXTRA)
    faults = Faults(set(chats), errors_at={40, 41}, throttled_from=120, throttled=2)
    harness.api.fault_hook = faults

    await mahmud.send("/umumkan")
    await mahmud.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
    preview = await write_announcement(mahmud, "Target minggu ini: 25 ruta per PPL")
    assert "Penerima: 300 petugas" in preview.text
    assert "2 lainnya belum terdaftar" in preview.text  # P1 and P2
    await mahmud.press(preview, "Kirim")
    report = await mahmud.wait_for(lambda m: "Status pengiriman pengumuman" in text_of(m))

    # Telegram is throttling (the rate limiter waits out retry_after=1): restart right now.
    await eventually(lambda: faults.served_429 == faults.throttled)
    await harness.stop()
    left = await pending_rows(harness.settings.database)
    assert 0 < left < EXTRA  # stopped halfway
    await harness.start()

    report = await report_says(harness, report, "Terkirim 300/300", "Selesai dikirim")
    assert "Gagal 0 · Tidak terjangkau 0 · Menunggu 0" in report.text
    assert "Belum terdaftar di bot (tidak menerima): 2" in report.text
    for chat in chats:
        assert len(announcements(harness, chat)) == 1, chat
    assert faults.served_500 == 2 and faults.served_429 == faults.throttled
    assert await harness.scalar(
        "SELECT COUNT(*) FROM broadcast_recipients WHERE status = 'sent' AND attempts = 1"
    ) == EXTRA  # every row claimed once: nothing was sent twice

    # Read receipts after the restart reach the same report.
    reader = harness.api.user(chats[7])
    [message] = announcements(harness, chats[7])
    await reader.wait_answer(await reader.press(message, "Sudah dibaca"))
    await report_says(harness, report, "Dibaca 1")
