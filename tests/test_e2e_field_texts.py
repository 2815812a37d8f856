"""The "Field UX" texts over real HTTP: every unexpected message gets a way forward, problem
alerts and lists put urgent problems first, and counts of households to visit again are in
the unit of the form's progress field."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot import jobs
from bot.app import services_of
from bot.clock import ManualClock
from bot.localapi import LocalBotApi
from bot.messaging import problem_alerts
from bot.present.texts import Texts
from bot.rules import forms
from db.problems import create_problem
from tests.support import Harness, running_harness


@pytest.fixture
def engine() -> str:
    """SQLite only: the texts officers read, no SQL of their own (see tests/conftest.py)."""
    return "sqlite"


def text_of(message) -> str:
    return message.text or ""


def saying(*parts: str):
    return lambda m: all(part in text_of(m) for part in parts)


async def test_the_fast_path_example_is_the_same_everywhere_and_says_which_is_which(
    harness: Harness,
) -> None:
    putri = await harness.register("P1", 501)
    welcome = putri.inbox[-1]  # the commands of the role, as /bantuan lists them
    shown = [welcome.text]
    await putri.send("12 14")  # bare numbers, too few
    shown.append((await putri.wait_for(saying("belum tersimpan"))).text)
    await putri.send("/lapor 12 14")  # the fast path, too few
    shown.append((await putri.wait_for(saying("Format cepat"))).text)
    await putri.send("/lapor 12 dua 51")
    shown.append((await putri.wait_for(saying("Format cepat"))).text)
    for text in shown:
        assert "/lapor 12 14 51" in text
        assert re.search(r"/lapor 12 14 51 (=|\() ?12 ruta, 14 keluarga, 51 jiwa", text), text


async def test_unexpected_messages_outside_a_flow_get_a_way_forward(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    mahmud = await harness.register("M1", 601)

    await putri.send("12 14 51")
    hint = await putri.wait_for(saying("belum tersimpan"))
    assert "ketik /lapor 12 14 51 (12 ruta, 14 keluarga, 51 jiwa)" in hint.text
    assert "tidak dikenal" not in hint.text

    await putri.send("12 14")
    hint = await putri.wait_for(saying("belum tersimpan"))
    assert "3 angka" in hint.text and "/lapor ruta keluarga jiwa" in hint.text

    await putri.send_photo()
    hint = await putri.wait_for(saying("Foto ini belum tersimpan"))
    assert "/kendala" in hint.text

    await putri.send_sticker()
    hint = await putri.wait_for(saying("stiker"))
    assert "/lapor" in hint.text and "/kendala" in hint.text and "tidak dikenal" not in hint.text

    stored = harness.api._new_file("voice", b"OggS voice", None, "audio/ogg")
    voice = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
             "duration": 3, "mime_type": "audio/ogg"}
    harness.api._inject_message(501, putri, {"voice": voice})
    hint = await putri.wait_for(saying("pesan suara"))
    assert "/lapor" in hint.text and "tidak dikenal" not in hint.text

    await putri.send("Kepala keluarga menolak")
    hint = await putri.wait_for(saying("tidak sedang ditunggu bot"))
    assert "/lapor" in hint.text and "/kendala" in hint.text

    await putri.send("/tidakada")  # a real unknown command keeps its answer
    await putri.wait_for(saying("Perintah tidak dikenal", "/bantuan"))

    await mahmud.send("12 14 51")  # not a PPL: no report to suggest
    hint = await mahmud.wait_for(saying("tidak sedang ditunggu bot"))
    assert "/lapor" not in hint.text and "/bantuan" in hint.text

    assert await harness.scalar("SELECT COUNT(*) FROM reports") == 0
    assert await harness.scalar("SELECT COUNT(*) FROM problems") == 0


async def test_a_stale_button_says_what_to_do_next(harness: Harness) -> None:
    mahmud = await harness.register("M1", 601)
    await mahmud.send("/bantuan")
    menu = await mahmud.wait_for(saying("Perintah yang tersedia"))
    answer = await mahmud.wait_answer(await mahmud.press_data(menu, "kd:take:999"))
    assert "tidak berlaku" in answer["text"] and "/bantuan" in answer["text"]


def test_refusals_and_errors_say_what_to_do_next() -> None:
    for language, help_command in (("id", "/bantuan"), ("en", "/help")):
        t = Texts(language)
        assert help_command in t("stale_button") and help_command in t("not_allowed")
        assert "PML" in t("error_generic")
        assert "/start" in t("not_registered")
    assert "belum terhubung" in Texts("id")("not_registered")
    assert "terdaftar sebagai petugas" not in Texts("id")("not_registered")


async def test_alerts_mark_only_urgent_problems_and_lists_put_them_first(
    harness: Harness,
) -> None:
    await harness.register("P1", 501)
    mahmud = await harness.register("M1", 601)
    services = services_of(harness.app)
    async with harness.db.transaction() as conn:
        normal = await create_problem(conn, officer_id="P1", category="access",
                                      description="Jalan banjir setinggi lutut",
                                      now=harness.clock.now())
    harness.clock.advance(timedelta(hours=1))
    async with harness.db.transaction() as conn:
        urgent = await create_problem(conn, officer_id="P1", category="security",
                                      description="Anjing galak di gang", urgent=True,
                                      now=harness.clock.now())
    await problem_alerts.alert_new_problem(services, normal)
    alert = await mahmud.wait_for(saying("Kendala baru #1"))
    lines = alert.text.split("\n")
    assert lines[0].startswith("🔔") and "🚨" not in alert.text
    assert lines[1] == "Uraian: Jalan banjir setinggi lutut"
    await problem_alerts.alert_new_problem(services, urgent)
    alert = await mahmud.wait_for(saying("Kendala baru #2"))
    lines = alert.text.split("\n")
    assert lines[0].startswith("🚨") and "MENDESAK" in lines[0]
    assert lines[1] == "Uraian: Anjing galak di gang"

    await mahmud.send("/kendala_tim")
    header = await mahmud.wait_for(saying("Kendala terbuka: 2"))
    assert "mendesak dulu" in header.text
    first = await mahmud.wait_for(saying("Kendala #"))
    second = await mahmud.wait_for(saying("Kendala #"))
    assert first.text.startswith("Kendala #2 🚨 MENDESAK")
    assert first.text.split("\n")[1] == "Uraian: Anjing galak di gang"
    assert second.text.startswith("Kendala #1") and "MENDESAK" not in second.text


async def test_revisits_are_counted_in_the_unit_of_the_progress_field(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock,
) -> None:
    default = Path(forms.__file__).with_name("default.toml")
    form_file = tmp_path / "families.toml"
    form_file.write_text(default.read_text(encoding="utf-8").replace(
        'progress_field = "households"', 'progress_field = "families"'), encoding="utf-8")
    async with running_harness(api, tmp_path, clock, form_file=form_file) as harness:
        putri = await harness.register("P1", 501)
        mahmud = await harness.register("M1", 601)
        services = services_of(harness.app)
        assert services.form.progress_field == "families"
        async with harness.db.transaction() as conn:
            problem = await create_problem(conn, officer_id="P1", category="not_home",
                                           description="Tiga keluarga tidak di rumah",
                                           revisit_households=3, now=harness.clock.now())
        await problem_alerts.alert_new_problem(services, problem)
        alert = await mahmud.wait_for(saying("Kendala baru #1"))
        assert "Keluarga perlu dikunjungi ulang: 3" in alert.text and "Ruta" not in alert.text

        await jobs.send_reminders(services, day=date(2022, 10, 17), slot="16:00")
        reminder = await putri.wait_for(saying("belum masuk"))
        assert "3 keluarga perlu dikunjungi ulang" in reminder.text

        await putri.send("/kendala_saya")
        mine = await putri.wait_for(saying("Kendala Bapak/Ibu"))
        assert "3 keluarga perlu dikunjungi ulang" in mine.text
        assert "Keluarga yang masih perlu dikunjungi ulang: 3" in mine.text
        answer = await putri.wait_answer(await putri.press(mine, "Sudah dikunjungi #1"))
        assert "keluarga yang perlu dikunjungi ulang" in answer["text"]
        await mahmud.wait_for(saying("keluarga kendala #1 sudah dikunjungi ulang"))


async def test_choose_with_the_buttons_points_where_the_buttons_are(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    await putri.send("/lapor")
    await putri.wait_for(saying("Pilih SLS"))
    await putri.send_sticker()  # the question comes again, its buttons under it
    again = await putri.wait_for(saying("Pilih SLS"))
    assert "tombol di bawah" in again.text and "di atas" not in again.text
    assert "RT 001 Banglas (1410012005001)" in [b.text for b in again.buttons()]
    await putri.send("/batal")
    await putri.wait_for(saying("Dibatalkan"))

    await putri.send("/izin")
    question = await putri.wait_for(saying("Apa alasannya"))
    assert question.buttons()
    await putri.send("sakit")  # only a word: the buttons are on the question above
    answer = await putri.wait_for(saying("Mohon pilih"))
    assert "tombol di atas" in answer.text and not answer.buttons()
