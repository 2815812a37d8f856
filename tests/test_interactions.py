"""How many interactions each task takes, end to end over the local Bot API.

An interaction is a message the officer sends or a button they press; each test counts them
on the way and fails when a task needs more than the count in the README's table.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot import jobs
from bot.app import services_of
from bot.localapi import SimUser
from db.models import Role
from tests.conftest import Harness


@pytest.fixture
def engine() -> str:
    """SQLite only: the answers to presses and messages, Telegram behaviour that no SQL differs
    in (see tests/conftest.py)."""
    return "sqlite"


def text_of(message) -> str:
    return message.text or ""


class Officer:
    """A simulated officer whose sends and presses are counted."""

    def __init__(self, user: SimUser) -> None:
        self.user = user
        self.interactions = 0

    async def send(self, text: str) -> None:
        self.interactions += 1
        await self.user.send(text)

    async def send_photo(self, caption: str | None = None) -> None:
        self.interactions += 1
        await self.user.send_photo(caption)

    async def press(self, message, label: str) -> None:
        self.interactions += 1
        await self.user.press(message, label)

    async def wait_for(self, *parts: str):
        return await self.user.wait_for(lambda m: all(p in text_of(m) for p in parts))


async def officer(harness: Harness, officer_id: str, user_id: int) -> Officer:
    return Officer(await harness.register(officer_id, user_id))


async def test_guided_report_takes_five(harness: Harness) -> None:
    panji = await officer(harness, "P2", 502)  # one SLS
    await panji.send("/lapor")
    await panji.wait_for("Berapa ruta yang selesai didata hari ini?")
    for number in ("12", "14", "51"):
        await panji.send(number)
    summary = await panji.wait_for("Ringkasan laporan")
    await panji.press(summary, "Kirim")
    await panji.wait_for("Laporan tersimpan")
    assert await harness.scalar("SELECT progress_value FROM reports") == 12
    assert panji.interactions == 5


async def test_report_from_the_reminder_takes_five(harness: Harness) -> None:
    panji = await officer(harness, "P2", 502)
    services = services_of(harness.app)
    await jobs.send_reminders(services, day=date(2022, 10, 17), slot="16:00")
    reminder = await panji.wait_for("belum masuk")
    await panji.press(reminder, "Lapor sekarang")
    await panji.wait_for("Berapa ruta yang selesai didata hari ini?")
    for number in ("12", "14", "51"):
        await panji.send(number)
    await panji.press(await panji.wait_for("Ringkasan laporan"), "Kirim")
    await panji.wait_for("Laporan tersimpan")
    assert panji.interactions == 5


async def test_fast_report_takes_two(harness: Harness) -> None:
    panji = await officer(harness, "P2", 502)
    await panji.send("/lapor 12 14 51")
    # The summary says which number is which; the date and the note are changed from it.
    summary = await panji.wait_for("Ringkasan laporan", "12 ruta, 14 keluarga, 51 jiwa")
    assert [b.text for b in summary.buttons()][1:3] == ["Ubah tanggal", "➕ Catatan"]
    await panji.press(summary, "Kirim")
    await panji.wait_for("Laporan tersimpan")
    assert panji.interactions == 2


async def test_late_report_with_a_note_takes_six(harness: Harness) -> None:
    panji = await officer(harness, "P2", 502)
    await panji.send("/lapor 12 14 51")
    await panji.press(await panji.wait_for("Ringkasan laporan"), "Ubah tanggal")
    await panji.press(await panji.wait_for("tanggal berapa"), "Kemarin")
    await panji.press(await panji.wait_for("Ringkasan laporan", "(susulan)"), "➕ Catatan")
    await panji.wait_for("catatan singkat")
    await panji.send("Hujan deras")
    await panji.press(await panji.wait_for("Ringkasan laporan", "Hujan deras"), "Kirim")
    await panji.wait_for("Laporan tersimpan")
    row = await harness.scalar("SELECT report_date || '|' || note FROM reports")
    assert row == "2022-10-16|Hujan deras"
    assert panji.interactions == 6


async def test_day_off_takes_two_and_can_be_undone(harness: Harness) -> None:
    panji = await officer(harness, "P2", 502)
    await panji.send("/izin")
    await panji.press(await panji.wait_for("alasannya"), "Sakit")
    saved = await panji.wait_for("Izin tercatat: Sakit")
    assert await harness.scalar("SELECT reason FROM days_off") == "sakit"
    assert panji.interactions == 2

    await panji.press(saved, "Batalkan izin")
    await panji.wait_for("dibatalkan")
    assert await harness.scalar("SELECT COUNT(*) FROM days_off") == 0


async def test_announcement_takes_three(harness: Harness) -> None:
    await harness.register("P1", 501)
    mahmud = await officer(harness, "M1", 601)  # a PML: the team is the only audience
    await mahmud.send("/umumkan")
    await mahmud.wait_for("Tulis teks pengumuman")
    await mahmud.send("Rapat tim besok pukul 08.00")
    preview = await mahmud.wait_for("Pratinjau pengumuman")
    await mahmud.press(preview, "Kirim sekarang")
    await mahmud.wait_for("Status pengiriman pengumuman")
    assert mahmud.interactions == 3


async def test_problem_with_a_captioned_photo_takes_six(harness: Harness) -> None:
    panji = await officer(harness, "P2", 502)
    await panji.send("/kendala")
    await panji.press(await panji.wait_for("Pilih kategori"), "Dokumen KK tidak ada")
    ask = await panji.user.wait_for(
        lambda m: "terkait SLS" in text_of(m) or "uraian singkat" in text_of(m))
    if "terkait SLS" in text_of(ask):
        await panji.press(ask, ask.buttons()[0].text)
        await panji.wait_for("uraian singkat")
    await panji.send_photo("KK dibawa ke Selatpanjang")  # the photo and the description
    await panji.press(await panji.wait_for("Foto dan uraian diterima", "Seberapa mendesak"),
                      "Biasa")
    summary = await panji.wait_for("Ringkasan kendala", "KK dibawa ke Selatpanjang")
    await panji.press(summary, "Kirim")
    await panji.wait_for("tercatat")
    assert await harness.scalar(
        "SELECT CASE WHEN photo_file_id IS NULL THEN 'no photo' ELSE 'photo' END"
        " || '|' || description FROM problems"
    ) == "photo|KK dibawa ke Selatpanjang"
    assert panji.interactions == 6


async def pml_review_message(harness: Harness, mahmud: Officer):
    """The evening digest's review message of today's reports of P1 (two SLS) and P2."""
    for officer_id, user_id, numbers in (("P1", 501, "12 14 51"), ("P2", 502, "7 8 30")):
        ppl = await officer(harness, officer_id, user_id)
        await ppl.send(f"/lapor {numbers}")
        ask = await ppl.user.wait_for(
            lambda m: "Pilih SLS" in text_of(m) or "Ringkasan laporan" in text_of(m))
        if "Pilih SLS" in text_of(ask):
            await ppl.press(ask, ask.buttons()[0].text)
            ask = await ppl.wait_for("Ringkasan laporan")
        await ppl.press(ask, "Kirim")
        await ppl.wait_for("Laporan tersimpan")
    await jobs.send_digests(services_of(harness.app), day=date(2022, 10, 17), roles=[Role.PML])
    return await mahmud.wait_for("perlu ditinjau")


async def test_approving_every_report_of_the_digest_takes_two(harness: Harness) -> None:
    mahmud = await officer(harness, "M1", 601)
    review = await pml_review_message(harness, mahmud)
    assert "12 ruta, 14 keluarga, 51 jiwa" in review.text  # the numbers are in the message
    version = review.version
    await mahmud.press(review, "✅ Setujui semua")
    await mahmud.user.wait_edit(review, since_version=version)
    await mahmud.press(review, "✅ Ya, setujui 2 laporan")
    await mahmud.wait_for("2 laporan disetujui")
    assert await harness.scalar(
        "SELECT COUNT(*) FROM reports WHERE status = 'approved'") == 2
    assert mahmud.interactions == 2


async def test_returning_a_report_of_the_digest_takes_two(harness: Harness) -> None:
    mahmud = await officer(harness, "M1", 601)
    review = await pml_review_message(harness, mahmud)
    await mahmud.press(review, "↩️ 2")
    await mahmud.wait_for("alasan pengembalian")
    await mahmud.send("Jumlah jiwa perlu dicek")
    await mahmud.wait_for("dikembalikan")
    [second] = [line for line in review.text.splitlines() if line.startswith("2. ")]
    returned = await harness.scalar(
        "SELECT o.name FROM reports r JOIN officers o USING (officer_id)"
        " WHERE r.status = 'returned'")
    assert second.startswith(f"2. {returned} · ")
    assert mahmud.interactions == 2
