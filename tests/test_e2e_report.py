"""The daily report over real HTTP: the real bot against the project's local Bot API, getting
its updates by long polling and by webhook (the `mode` fixture): both behave the same."""

from __future__ import annotations

import json
from datetime import date

import pytest

from db import reports
from tests.support import Harness, at


@pytest.fixture(params=[("polling", "sqlite"), ("webhook", "sqlite"), ("polling", "postgres")],
                ids=lambda variant: "-".join(variant))
def variant(request: pytest.FixtureRequest) -> tuple[str, str]:
    """How updates come, and the engine: both ways on SQLite, and PostgreSQL by polling (how
    updates come changes no SQL)."""
    return request.param


@pytest.fixture
def mode(variant: tuple[str, str]) -> str:
    return variant[0]


@pytest.fixture
def engine(variant: tuple[str, str]) -> str:
    return variant[1]


def text_of(message) -> str:
    return message.text or ""


async def test_stepwise_report_is_saved_only_after_kirim(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    await putri.send("/lapor")  # for today: no date question
    ask_sls = await putri.wait_for(lambda m: "Pilih SLS" in text_of(m))
    await putri.press(ask_sls, "RT 002 Banglas")
    await putri.wait_for(lambda m: "Berapa ruta yang selesai didata hari ini?" in text_of(m))
    await putri.send("12")
    await putri.wait_for(lambda m: "Berapa keluarga" in text_of(m))
    await putri.send("14")
    await putri.wait_for(lambda m: "Berapa jiwa" in text_of(m))
    await putri.send("51")
    summary = await putri.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    assert "Senin, 17 Okt 2022" in summary.text
    assert "RT 002 Banglas" in summary.text
    assert "12 ruta, 14 keluarga, 51 jiwa" in summary.text
    assert [b.text for b in summary.buttons()] == [
        "Kirim", "Ubah tanggal", "➕ Catatan", "Ubah", "Batal"
    ]
    assert "<b>12</b>" not in summary.text  # parsed HTML, not raw tags, reaches the user
    assert await harness.scalar("SELECT COUNT(*) FROM reports") == 0

    before = len(harness.api.messages_to(501))
    await putri.press(summary, "Kirim")
    saved = await putri.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    assert "12 dari 180 ruta (6,7%)" in saved.text
    # Written under the summary the officer confirmed, whose buttons are gone: no new message.
    assert saved.message_id == summary.message_id
    assert saved.text.startswith("Ringkasan laporan") and "RT 002 Banglas" in saved.text
    assert any(e["type"] == "bold" for e in saved.entities)  # the summary keeps its HTML
    assert saved.buttons() == []
    assert len(harness.api.messages_to(501)) == before
    row = await harness.scalar(
        "SELECT values_json || '|' || report_date || '|' || sls_code || '|' || late FROM reports"
    )
    values, report_date, sls, late = str(row).split("|")
    assert json.loads(values) == {"households": 12, "families": 14, "persons": 51}
    assert (report_date, sls, late) == ("2022-10-17", "1410012005002", "0")


async def test_fast_path_and_correction_keeps_every_revision(harness: Harness) -> None:
    panji = await harness.register("P2", 502)  # one SLS: no SLS question
    await panji.send("/lapor 12 14 51")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    await panji.press(summary, "Kirim")
    await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))

    await panji.send("/lapor 15 16 60")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    assert "Sudah ada laporan untuk Sen, 17 Okt" in summary.text
    # Plainly a replacement, not an addition.
    assert "MENGGANTI" in summary.text and "tidak ditambahkan" in summary.text
    assert "12 ruta menjadi 15 ruta" in summary.text
    await panji.press(summary, "Kirim (ganti)")
    updated = await panji.wait_for(lambda m: "Laporan diperbarui" in text_of(m))
    assert "15 dari 120 ruta" in updated.text
    assert await harness.scalar("SELECT COUNT(*) FROM reports") == 1
    assert await harness.scalar("SELECT progress_value FROM reports") == 15
    assert await harness.scalar("SELECT COUNT(*) FROM report_revisions") == 2
    assert await harness.scalar("SELECT MIN(progress_value) FROM report_revisions") == 12


async def test_fast_path_is_the_report_of_the_day_it_was_sent(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    harness.clock.set(at(18, 0, 5))  # handled five minutes after midnight ...
    await panji.send("/lapor 12 14 51", date=at(17, 23, 59))  # ... sent a minute before it
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    assert "Senin, 17 Okt 2022" in summary.text
    assert "(susulan)" not in summary.text
    await panji.press(summary, "Kirim")
    await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    assert await harness.scalar("SELECT report_date || '|' || late FROM reports") == "2022-10-17|0"

    await panji.send("/lapor 9 10 30")  # sent now: today's report
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    assert "Selasa, 18 Okt 2022" in summary.text and "Sudah ada laporan" not in summary.text


async def test_bad_inputs_get_an_explanation_and_the_same_question(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    await panji.send("/lapor 12 14 51")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    await panji.press(summary, "Ubah tanggal")
    ask_date = await panji.wait_for(lambda m: "tanggal berapa" in text_of(m))
    await panji.send("20/10")  # future
    again = await panji.wait_for(lambda m: "belum tiba" in text_of(m))
    assert "tanggal berapa" in again.text
    await panji.send("10/10")  # before the period
    await panji.wait_for(
        lambda m: "periode pendataan" in text_of(m) and "tanggal berapa" in text_of(m)
    )
    await panji.send("kemarin dulu")
    await panji.wait_for(lambda m: "tidak dapat dibaca" in text_of(m))
    await panji.send("15/10")  # catch-up inside the period
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    assert "Sabtu, 15 Okt 2022 (susulan)" in summary.text
    await panji.press(summary, "Ubah")
    choose = await panji.wait_for(lambda m: "ingin diubah" in text_of(m))
    await panji.press(choose, choose.buttons()[1].text)  # the first number
    question = "Berapa ruta yang selesai didata pada Sab, 15 Okt?"
    await panji.wait_for(lambda m: question in text_of(m))
    for bad, expected in [("dua belas", "angka bulat"), ("-3", "negatif"), ("999", "Maksimal 60")]:
        await panji.send(bad)
        reply = await panji.wait_for(lambda m: expected in text_of(m))
        assert question in reply.text  # the same question again
    await panji.send_photo()
    await panji.wait_for(lambda m: "angka bulat" in text_of(m) and question in text_of(m))
    await panji.send("20")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    await panji.press(summary, "Ubah")
    choose = await panji.wait_for(lambda m: "ingin diubah" in text_of(m))
    await panji.press(choose, choose.buttons()[3].text)  # persons
    persons = "Berapa jiwa yang selesai didata pada Sab, 15 Okt?"
    await panji.wait_for(lambda m: persons in text_of(m))
    await panji.send("13")  # fewer persons than families
    await panji.wait_for(
        lambda m: "lebih kecil dari jumlah keluarga" in text_of(m) and persons in text_of(m)
    )
    query = await panji.press(ask_date, "Hari ini")  # a button from an earlier step
    assert "tidak berlaku" in (await panji.wait_answer(query))["text"]
    await panji.send("/batal")
    await panji.wait_for(lambda m: "Dibatalkan" in text_of(m))
    assert await harness.scalar("SELECT COUNT(*) FROM reports") == 0


async def test_a_broken_cross_field_rule_lets_either_number_be_corrected(
    harness: Harness,
) -> None:
    panji = await harness.register("P2", 502)
    await panji.send("/lapor")
    await panji.wait_for(lambda m: "Berapa ruta" in text_of(m))
    for number in ("12", "14", "13"):  # fewer persons than families
        await panji.send(number)
    broken = await panji.wait_for(lambda m: "lebih kecil" in text_of(m))
    # Both numbers named, and a button for each: the families may be the wrong one.
    assert "Jumlah jiwa (13) lebih kecil dari jumlah keluarga (14)" in broken.text
    assert "Berapa jiwa yang selesai didata hari ini?" in broken.text
    assert [b.text for b in broken.buttons()] == ["Ubah jiwa (13)", "Ubah keluarga (14)"]
    await panji.press(broken, "Ubah keluarga (14)")
    await panji.wait_for(lambda m: text_of(m).startswith("Berapa keluarga yang selesai"))
    await panji.send("15")  # still more than the 13 persons kept meanwhile
    again = await panji.wait_for(lambda m: "lebih kecil" in text_of(m))
    assert "Jumlah jiwa (13) lebih kecil dari jumlah keluarga (15)" in again.text
    assert [b.text for b in again.buttons()] == ["Ubah keluarga (15)", "Ubah jiwa (13)"]
    await panji.press(again, "Ubah jiwa (13)")
    await panji.wait_for(lambda m: text_of(m).startswith("Berapa jiwa yang selesai"))
    await panji.send("45")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    assert "12 ruta, 15 keluarga, 45 jiwa" in summary.text
    await panji.press(summary, "Kirim")
    await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    values = json.loads(str(await harness.scalar("SELECT values_json FROM reports")))
    assert values == {"households": 12, "families": 15, "persons": 45}


async def test_late_report_is_flagged(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    await panji.send("/lapor")
    await panji.wait_for(lambda m: "Berapa ruta yang selesai didata hari ini?" in text_of(m))
    for value in ("5", "5", "20"):
        await panji.send(value)
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    await panji.press(summary, "Ubah tanggal")
    ask_date = await panji.wait_for(lambda m: "tanggal berapa" in text_of(m))
    assert [b.text for b in ask_date.buttons()] == [
        "Hari ini (Sen, 17 Okt)", "Kemarin (Min, 16 Okt)"
    ]
    await panji.press(ask_date, "Kemarin")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    await panji.press(summary, "➕ Catatan")
    await panji.wait_for(lambda m: "catatan singkat" in text_of(m))
    await panji.send("Hujan deras, <b>perahu</b> & jalan licin")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    assert "Minggu, 16 Okt 2022 (susulan)" in summary.text
    assert "<b>perahu</b> & jalan" in summary.text  # shown as typed, not as markup
    await panji.press(summary, "Kirim")
    await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    assert await harness.scalar("SELECT late FROM reports") == 1
    assert (
        await harness.scalar("SELECT note FROM reports")
        == "Hujan deras, <b>perahu</b> & jalan licin"
    )


async def test_edit_from_summary_then_send(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    await panji.send("/lapor 12 14 51")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    await panji.press(summary, "Ubah")
    choose = await panji.wait_for(lambda m: "ingin diubah" in text_of(m))
    await panji.press(choose, "Keluarga selesai didata hari ini")
    await panji.wait_for(lambda m: "Berapa keluarga" in text_of(m))
    await panji.send("13")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    assert "<b>13</b>" not in summary.text and "13" in summary.text
    await panji.press(summary, "Kirim")
    await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    values = json.loads(str(await harness.scalar("SELECT values_json FROM reports")))
    assert values == {"households": 12, "families": 13, "persons": 51}


async def test_kirim_never_overwrites_a_report_saved_after_the_summary(harness: Harness) -> None:
    panji = await harness.register("P2", 502)

    async def saved_meanwhile(households: int) -> None:  # e.g. from another device
        async with harness.db.statement() as conn:
            await reports.save_report(
                conn, officer_id="P2", report_date=date(2022, 10, 17), sls_code="1410012006001",
                values={"households": households, "families": households,
                        "persons": 4 * households},
                progress_value=households, note=None, late=False, now=harness.clock.now())

    async def stored() -> tuple[object, object]:
        return (await harness.scalar("SELECT progress_value FROM reports"),
                await harness.scalar("SELECT revision FROM reports"))

    await panji.send("/lapor 12 14 51")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    assert "Sudah ada laporan" not in summary.text  # Kirim means: a new report
    await saved_meanwhile(20)
    await panji.press(summary, "Kirim")
    # Not saved over: the summary again, now with the report it would replace.
    again = await panji.wait_for(lambda m: "Sudah ada laporan" in text_of(m))
    assert "(20 ruta)" in again.text
    assert await stored() == (20, 1)

    await saved_meanwhile(25)  # and once more, after this summary was shown
    await panji.press(again, "Kirim (ganti)")
    third = await panji.wait_for(lambda m: "(25 ruta)" in text_of(m))
    assert "Sudah ada laporan" in third.text
    assert await stored() == (25, 2)

    await panji.press(third, "Kirim (ganti)")  # replacing what the officer saw: saved
    await panji.wait_for(lambda m: "Laporan diperbarui" in text_of(m))
    assert await stored() == (12, 3)
    assert not any("Laporan tersimpan" in text_of(m) for m in panji.inbox)


async def test_double_press_on_kirim_saves_once(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    await panji.send("/lapor 12 14 51")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    kirim = summary.button("Kirim").callback_data
    await panji.press(summary, "Kirim")
    await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    query = await panji.press_data(summary, kirim)  # a second tap that arrives late
    assert "tidak berlaku" in (await panji.wait_answer(query))["text"]
    assert await harness.scalar("SELECT COUNT(*) FROM report_revisions") == 1


async def test_implausible_value_asks_for_confirmation(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    for day in (15, 16, 17):
        harness.clock.set(at(day))
        await panji.send("/lapor 10 10 40")
        summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
        await panji.press(summary, "Kirim")
        await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    harness.clock.set(at(18))
    await panji.send("/lapor 45 45 150")
    confirm = await panji.wait_for(lambda m: "Apakah benar" in text_of(m))
    assert "45 ruta" in confirm.text and "sekitar 10" in confirm.text
    await panji.press(confirm, "Ya, benar")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    await panji.press(summary, "Kirim")
    await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    assert await harness.scalar(
        "SELECT progress_value FROM reports WHERE report_date = '2022-10-18'") == 45


async def test_flow_resumes_after_restart(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    await panji.send("/lapor")
    await panji.wait_for(lambda m: "Berapa ruta" in text_of(m))
    await panji.send("12")
    await panji.wait_for(lambda m: "Berapa keluarga" in text_of(m))

    await harness.restart()

    await panji.send("14")
    await panji.wait_for(lambda m: "Berapa jiwa" in text_of(m))
    await panji.send("51")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    await panji.press(summary, "Kirim")
    await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    values = json.loads(str(await harness.scalar("SELECT values_json FROM reports")))
    assert values == {"households": 12, "families": 14, "persons": 51}


async def test_only_ppl_may_report(harness: Harness) -> None:
    mahmud = await harness.register("M1", 601)
    await mahmud.send("/lapor 1 1 1")
    await mahmud.wait_for(lambda m: "hanya untuk PPL" in text_of(m))
    assert await harness.scalar("SELECT COUNT(*) FROM reports") == 0


async def test_fast_path_with_wrong_numbers_explains_the_format(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    await panji.send("/lapor 12 14")
    reply = await panji.wait_for(lambda m: "Format cepat" in text_of(m))
    assert "/lapor ruta keluarga jiwa" in reply.text
    assert "/lapor 12 14 51 (12 ruta, 14 keluarga, 51 jiwa)" in reply.text
    await panji.send("/lapor 12 20 19")
    await panji.wait_for(lambda m: "lebih kecil dari jumlah keluarga" in text_of(m))
    assert await harness.scalar("SELECT COUNT(*) FROM reports") == 0


async def test_english_when_configured(api, tmp_path, clock) -> None:
    from tests.support import Harness as H
    from tests.support import load_roster, make_settings

    settings = make_settings(tmp_path, api, language="en")
    codes = await load_roster(settings.database_path, clock.now(), tmp_path)
    harness = H(api, settings, clock, codes)
    await harness.start()
    try:
        user = api.user(502)
        await user.send(f"/start {codes['P2']}")
        await user.wait_for(lambda m: "Welcome" in text_of(m) and "/report" in text_of(m))
        await user.send("/report")
        await user.wait_for(lambda m: "How many households were completed today?" in text_of(m))
        await user.send("many")
        await user.wait_for(lambda m: "whole number" in text_of(m))
        await user.send("/cancel")
        await user.wait_for(lambda m: "Cancelled" in text_of(m))
    finally:
        await harness.stop()


def test_every_text_has_both_languages() -> None:
    from string import Formatter

    from bot.present.texts import EN, ID

    assert set(ID) == set(EN)
    for key in ID:
        fields_id = {f for _, f, _, _ in Formatter().parse(ID[key]) if f}
        fields_en = {f for _, f, _, _ in Formatter().parse(EN[key]) if f}
        assert fields_id == fields_en, key


async def test_an_edited_message_is_not_taken_as_an_answer(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    await panji.send("/lapor")
    await panji.wait_for(lambda m: "Berapa ruta" in text_of(m))
    message_id = await panji.send("12")
    await panji.wait_for(lambda m: "Berapa keluarga" in text_of(m))
    harness.api.add_update({"edited_message": {
        "message_id": message_id, "from": panji.to_api(),
        "chat": {"id": 502, "type": "private", "first_name": "P2"},
        "date": 1666000000, "edit_date": 1666000060, "text": "13",
    }})
    await panji.wait_for(lambda m: "Pesan yang diubah tidak dibaca" in text_of(m))
    await panji.send("14")  # the families question is still the one being answered
    await panji.wait_for(lambda m: "Berapa jiwa" in text_of(m))
    await panji.send("51")
    await panji.press(await panji.wait_for(lambda m: "Ringkasan" in text_of(m)), "Kirim")
    await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    values = json.loads(str(await harness.scalar("SELECT values_json FROM reports")))
    assert values == {"households": 12, "families": 14, "persons": 51}


async def test_confirmation_is_a_new_message_when_the_summary_cannot_be_edited(
    harness: Harness,
) -> None:
    panji = await harness.register("P2", 502)
    await panji.send("/lapor 12 14 51")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    refusal = {"ok": False, "error_code": 400,
               "description": "Bad Request: message can't be edited"}
    harness.api.fault_hook = lambda method, _params: (
        (400, refusal) if method == "editMessageText" else None
    )
    await panji.press(summary, "Kirim")
    saved = await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    assert saved.message_id != summary.message_id
    assert summary.buttons() == []  # still taken off, so it cannot be pressed twice
    assert "Laporan tersimpan" not in summary.text
    assert await harness.scalar("SELECT COUNT(*) FROM reports") == 1


async def test_a_reply_refused_with_a_5xx_is_sent_again(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    failures: list[str] = []

    def once_500(method: str, params: dict):
        if method == "sendMessage" and "Ringkasan" in str(params.get("text")) and not failures:
            failures.append(method)
            return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        return None

    harness.api.fault_hook = once_500
    await panji.send("/lapor 12 14 51")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    assert failures == ["sendMessage"]
    assert not any("gangguan" in text_of(m) for m in harness.api.messages_to(502))
    await panji.press(summary, "Kirim")
    await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))


async def test_an_answer_to_a_single_command_refused_with_a_5xx_is_sent_again(
    harness: Harness,
) -> None:
    panji = await harness.register("P2", 502)
    refused: list[int] = []

    def twice_502(method: str, params: dict):
        if method == "sendMessage" and "Progres" in str(params.get("text")) and len(refused) < 2:
            refused.append(502)
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return None

    harness.api.fault_hook = twice_502
    await panji.send("/progres")
    progress = await panji.wait_for(lambda m: "Progres" in text_of(m), timeout=10)
    assert refused == [502, 502]  # refused twice, delivered on the third attempt
    assert progress.entities  # the answer itself, as HTML
    assert not any("gangguan" in text_of(m) for m in harness.api.messages_to(502))
