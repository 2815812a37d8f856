"""/ringkasan and /ekspor over real HTTP: the real bot against the project's local Bot API."""

from __future__ import annotations

import asyncio
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.localapi import SentMessage
from handlers import digest as digest_handler
from tests.support import ADMIN_TELEGRAM_ID, Harness

PNG = b"\x89PNG\r\n\x1a\n"
SHEETS = ["reports", "progress per officer", "per desa", "per kecamatan"]


def text_of(message: SentMessage) -> str:
    return message.text or ""


async def report_today(harness: Harness, officer_id: str, user_id: int, numbers: str) -> None:
    """A PPL with one SLS reports today through the fast path."""
    user = await harness.register(officer_id, user_id)
    await user.send(f"/lapor {numbers}")
    summary = await user.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    await user.press(summary, "Kirim")
    await user.wait_for(lambda m: "Laporan tersimpan" in text_of(m))


def workbook(message: SentMessage):
    assert message.kind == "document" and message.file_bytes is not None
    return load_workbook(BytesIO(message.file_bytes), read_only=True)


async def test_pml_gets_the_team_digest(harness: Harness) -> None:
    await report_today(harness, "P2", 502, "12 14 51")
    await report_today(harness, "P3", 503, "7 7 30")
    mahmud = await harness.register("M1", 601)
    await mahmud.send("/ringkasan")
    digest = await mahmud.wait_for(lambda m: "Ringkasan harian tim Mahmud PML" in text_of(m))
    assert digest.entities  # sent as HTML: the header is bold, no raw tags shown
    assert "<b>" not in digest.text
    lines = digest.text.split("\n")
    assert lines[1] == "Senin, 17 Okt 2022 · data pukul 18.00 WIB"  # the injected clock
    ppl = [line for line in lines if line.startswith(("❌ ", "✅ ")) and "/" in line]
    # Missing first, though Panji sorts before Putri.
    assert ppl == ["❌ Putri PPL: 0/180 (0,0%)", "✅ Panji PPL: 12/120 (10,0%), +12 hari ini"]
    assert "Tim: 12/300 ruta (4,0%), +12 hari ini" in digest.text
    assert "Prabu" not in digest.text
    assert [m.kind for m in harness.api.messages_to(601)].count("photo") == 0


async def test_a_slow_digest_is_announced_before_it_comes(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An admin's digest of a national roster takes a minute: the caller is told it is
    coming, then gets it."""
    ready = asyncio.Event()
    build = digest_handler.digest_for

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await ready.wait()  # the build takes as long as the test says
        return await build(*args, **kwargs)

    monkeypatch.setattr(digest_handler, "digest_for", slow)
    monkeypatch.setattr(digest_handler, "PREPARING_NOTICE_SECONDS", 0.05)
    mahmud = await harness.register("M1", 601)
    await mahmud.send("/ringkasan")
    await mahmud.wait_for(lambda m: "Ringkasan sedang disiapkan" in text_of(m))
    assert not any("Ringkasan harian" in text_of(m) for m in harness.api.messages_to(601))
    ready.set()
    await mahmud.wait_for(lambda m: "Ringkasan harian tim Mahmud PML" in text_of(m))


async def test_koseka_gets_text_and_charts_with_the_alias(harness: Harness) -> None:
    await report_today(harness, "P2", 502, "12 14 51")
    kartini = await harness.register("K1", 602)
    await kartini.send("/digest")
    digest = await kartini.wait_for(lambda m: "Ringkasan harian Kecamatan" in text_of(m))
    assert digest.text.startswith("Ringkasan harian Kecamatan Tebing Tinggi")
    assert "Tim Mahmud PML: 12/300 (4,0%), +12 hari ini, ❌ 1" in digest.text
    assert "Hari ini: +12 ruta · ❌ belum lapor 2 PPL" in digest.text
    first = await kartini.wait_for(lambda m: m.kind == "photo")
    second = await kartini.wait_for(lambda m: m.kind == "photo")
    assert first.text == "Kumulatif ruta Tebing Tinggi dan garis ideal"
    assert second.text == "Progres per tim PML, Kecamatan Tebing Tinggi"
    for photo in (first, second):
        assert photo.file_bytes is not None and photo.file_bytes.startswith(PNG)


async def test_ppl_is_refused_both_commands(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    await putri.send("/ringkasan")
    await putri.wait_for(lambda m: "hanya untuk PML, KOSEKA dan admin" in text_of(m))
    await putri.send("/ekspor")
    await putri.wait_for(lambda m: "Ekspor data hanya untuk" in text_of(m))
    assert all(m.kind == "text" for m in harness.api.messages_to(501))


async def test_pml_export_holds_only_the_team(harness: Harness) -> None:
    await report_today(harness, "P2", 502, "12 14 51")
    await report_today(harness, "P3", 503, "7 7 30")
    mahmud = await harness.register("M1", 601)
    await mahmud.send("/ekspor")
    document = await mahmud.wait_for(lambda m: m.kind == "document")
    assert document.file_name == "regsosek_tim_M1_2022-10-17.xlsx"
    assert "tim Mahmud PML" in text_of(document) and "Senin, 17 Okt 2022" in text_of(document)
    book = workbook(document)
    assert book.sheetnames == SHEETS
    reports = list(book["reports"].values)
    assert [(row[1], row[8]) for row in reports[1:]] == [("P2", 12)]  # not Prabu's 7
    officers = [row[:1] + row[4:] for row in list(book["progress per officer"].values)[1:]]
    assert officers == [("P1", 0, 180, 0.0), ("P2", 12, 120, 10.0)]
    assert list(book["per kecamatan"].values)[1:] == [("14.10.01", "Tebing Tinggi", 12, 300, 4.0)]


async def test_admin_export_and_digest_cover_the_regency(harness: Harness) -> None:
    await report_today(harness, "P2", 502, "12 14 51")
    await report_today(harness, "P3", 503, "7 7 30")
    admin = harness.api.user(ADMIN_TELEGRAM_ID, first_name="Admin")
    await admin.send("/export")
    document = await admin.wait_for(lambda m: m.kind == "document")
    assert document.file_name == "regsosek_kabupaten_2022-10-17.xlsx"
    book = workbook(document)
    assert sorted(row[1] for row in list(book["reports"].values)[1:]) == ["P2", "P3"]
    assert list(book["per kecamatan"].values)[1:] == [("14.10.01", "Tebing Tinggi", 19, 390, 4.9),
                                                      ("14.10.05", "Merbau", 0, 70, 0.0)]

    await admin.send("/ringkasan")
    digest = await admin.wait_for(lambda m: "Ringkasan harian Kabupaten" in text_of(m))
    assert "Total kabupaten: 19/460 (4,1%)" in digest.text
    photos = [await admin.wait_for(lambda m: m.kind == "photo") for _ in range(2)]
    assert [p.text for p in photos] == [
        "Kumulatif ruta Kabupaten Kepulauan Meranti dan garis ideal",
        "Progres per kecamatan",
    ]


async def test_an_export_too_large_for_a_chat_is_refused_with_the_way_to_get_it(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await report_today(harness, "P2", 502, "12 14 51")
    await report_today(harness, "P3", 503, "7 7 30")
    monkeypatch.setattr(digest_handler, "EXPORT_MAX_REPORTS", 1)
    admin = harness.api.user(ADMIN_TELEGRAM_ID, first_name="Admin")
    await admin.send("/ekspor")
    refusal = await admin.wait_for(lambda m: "terlalu besar" in text_of(m))
    assert refusal.text.startswith("Data Kabupaten Kepulauan Meranti terlalu besar untuk"
                                   " dikirim lewat Telegram: 2 laporan (paling banyak 1).")
    assert "python -m bot export" in refusal.text
    mahmud = await harness.register("M1", 601)  # his team has 1 report: within the limit
    await mahmud.send("/ekspor")
    await mahmud.wait_for(lambda m: m.kind == "document")
    monkeypatch.setattr(digest_handler, "EXPORT_MAX_REPORTS", 0)
    await mahmud.send("/ekspor")
    await mahmud.wait_for(lambda m: "Data tim Mahmud PML terlalu besar" in text_of(m))
    assert not any(m.kind == "document" for m in harness.api.messages_to(ADMIN_TELEGRAM_ID))
