"""Field problems over real HTTP: the real bot against the project's local Bot API."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.app import services_of
from db import problems as problems_repo
from tests.support import Harness, eventually, report_problem


def text_of(message) -> str:
    return message.text or ""


async def send_problem(user, *args, **kwargs):
    summary = await report_problem(user, *args, **kwargs)
    await user.press(summary, "Kirim")
    return await user.wait_for(lambda m: "tercatat" in text_of(m))


def alerts(harness: Harness, chat_id: int) -> list:
    return [m for m in harness.api.messages_to(chat_id) if "Kendala baru" in text_of(m)]


async def test_a_reporter_deactivated_by_a_roster_import_is_told_nothing_more(
    harness: Harness,
) -> None:
    from tests.support import reimport_without

    putri = await harness.register("P1", 501)
    mahmud = await harness.register("M1", 601)
    await send_problem(putri, "Dokumen KK tidak ada", "KK dibawa ke Selatpanjang",
                       sls="RT 002 Banglas")
    alert = await mahmud.wait_for(lambda m: "Kendala baru #1" in text_of(m))
    await reimport_without(harness, "P1")
    await mahmud.wait_answer(await mahmud.press(alert, "Selesai"))
    await mahmud.send("/bantuan")  # handled after the press: the press is done by then
    await mahmud.wait_for(lambda m: "Perintah yang tersedia" in text_of(m))
    assert await harness.scalar("SELECT status FROM problems WHERE id = 1") == "resolved"
    assert not [m for m in harness.api.messages_to(putri.chat_id) if "status" in text_of(m)]


async def test_ppl_problem_with_photo_and_location_alerts_only_their_pml(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    mahmud = await harness.register("M1", 601)
    await harness.register("M2", 602)
    await harness.register("K1", 701)

    summary = await report_problem(
        putri, "Responden tidak di rumah", "<b>Ani & Budi</b> ke kebun, kembali sore",
        sls="RT 001 Banglas", revisit="3", photo=True, location=(1.0123, 102.71),
    )
    assert "<b>Ani & Budi</b> ke kebun" in summary.text  # as typed, not markup
    assert "RT 001 Banglas (1410012005001)" in summary.text
    assert "Ruta perlu dikunjungi ulang: 3" in summary.text and "foto, lokasi" in summary.text
    assert await harness.scalar("SELECT COUNT(*) FROM problems") == 0  # nothing before Kirim

    await putri.press(summary, "Kirim")
    saved = await putri.wait_for(lambda m: "tercatat" in text_of(m))
    assert saved.text == "✅ Kendala #1 tercatat dan sudah diteruskan ke Mahmud PML."

    alert = await mahmud.wait_for(lambda m: "Kendala baru #1" in text_of(m))
    assert "Pelapor: Putri PPL (PPL)" in alert.text
    assert re.search(r"Dilaporkan: Sen, 17 Okt pukul \d\d\.\d\d WIB", alert.text)
    assert "Kategori: Responden tidak di rumah" in alert.text
    assert "Uraian: <b>Ani & Budi</b> ke kebun, kembali sore" in alert.text
    assert not any(e["type"] == "bold" and e["offset"] > alert.text.index("Uraian")
                   for e in alert.entities)
    assert [b.text for b in alert.buttons()] == [
        "🛠 Ditangani", "✅ Selesai", "↗️ Teruskan ke KOSEKA"]
    photo = await mahmud.wait_for(lambda m: m.kind == "photo")
    stored_photo = await harness.scalar("SELECT photo_file_id FROM problems WHERE id = 1")
    assert stored_photo and photo.file_id == stored_photo
    assert harness.api.calls("sendPhoto")[-1].params["photo"] == stored_photo  # by file_id
    place = await mahmud.wait_for(lambda m: m.kind == "location")
    assert place.location == {"latitude": 1.0123, "longitude": 102.71}

    assert alerts(harness, 602) == [] and alerts(harness, 701) == []  # other PML, KOSEKA
    row = await harness.scalar(
        "SELECT category || '|' || sls_code || '|' || revisit_households || '|' || urgent"
        " || '|' || status || '|' || description FROM problems")
    assert row == "not_home|1410012005001|3|0|open|<b>Ani & Budi</b> ke kebun, kembali sore"
    assert await problems_repo.revisit_households(harness.db.conn, "P1") == 3


async def test_urgent_problem_also_reaches_the_koseka(harness: Harness) -> None:
    prabu = await harness.register("P3", 503)
    await harness.register("M1", 601)
    maryam = await harness.register("M2", 602)
    kartini = await harness.register("K1", 701)
    saved = await send_problem(prabu, "Keamanan", "Ada konflik warga di dusun", sls="Lainnya/umum",
                               urgent=True)
    assert "Maryam PML, Kartini Koseka" in saved.text
    to_pml = await maryam.wait_for(lambda m: "Kendala baru #1" in text_of(m))
    to_koseka = await kartini.wait_for(lambda m: "Kendala baru #1" in text_of(m))
    assert "MENDESAK" in to_pml.text and "SLS: Lainnya/umum" in to_pml.text
    assert "Teruskan ke KOSEKA" not in [b.text for b in to_koseka.buttons()]
    assert alerts(harness, 601) == []
    assert await harness.scalar("SELECT sls_code IS NULL AND urgent = 1 FROM problems") == 1
    assert await harness.scalar("SELECT desa_code FROM problems") == "14.10.01.2008"


async def test_pml_takes_then_resolves_and_the_reporter_is_told_each_time(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    mahmud = await harness.register("M1", 601)
    await send_problem(putri, "Dokumen KK tidak ada", "KK dibawa anak ke Selatpanjang",
                       sls="RT 002 Banglas")
    alert = await mahmud.wait_for(lambda m: "Kendala baru #1" in text_of(m))
    take_data = alert.button("Ditangani").callback_data

    query = await mahmud.press(alert, "Ditangani")
    assert (await mahmud.wait_answer(query))["text"] == "Kendala #1: Ditangani."
    notice = await putri.wait_for(lambda m: "Kendala #1" in text_of(m) and "status" in text_of(m))
    assert notice.text == ("ℹ️ Kendala #1 (Dokumen KK tidak ada): status sekarang Ditangani "
                           "(oleh Mahmud PML).")
    assert [b.text for b in harness.api.message(601, alert.message_id).buttons()] == [
        "✅ Selesai", "↗️ Teruskan ke KOSEKA"]

    query = await mahmud.press(alert, "Selesai")
    await mahmud.wait_answer(query)
    await putri.wait_for(lambda m: "status sekarang Selesai" in text_of(m))
    assert harness.api.message(601, alert.message_id).buttons() == []
    assert await harness.scalar("SELECT status FROM problems WHERE id = 1") == "resolved"
    async with harness.db.conn.execute(
        "SELECT status, actor_id, created_at FROM problem_events WHERE problem_id = 1 ORDER BY id"
    ) as cur:
        history = [tuple(row) async for row in cur]
    assert [(s, a) for s, a, _ in history] == [
        ("open", "P1"), ("in_progress", "M1"), ("resolved", "M1")]
    assert all(when.startswith("2022-10-17T18:00") for _, _, when in history)

    stale = await mahmud.press_data(alert, take_data)  # a button of a resolved problem
    answer = await mahmud.wait_answer(stale)
    assert "tidak berlaku" in answer["text"] and answer["show_alert"] is True
    assert await harness.scalar("SELECT COUNT(*) FROM problem_events") == 3


async def test_a_pml_who_blocked_the_bot_is_marked_unreachable_by_a_problem_alert(
    harness: Harness,
) -> None:
    putri = await harness.register("P1", 501)
    await harness.register("M1", 601)
    harness.api.blocked_users.add(601)
    await send_problem(putri, "Akses/geografis/cuaca", "Air pasang, pompong tidak jalan",
                       sls="RT 001 Banglas")
    refused = [c for c in harness.api.calls("sendMessage") if c.status == 403]
    assert [int(c.params["chat_id"]) for c in refused] == [601]

    async def marked() -> object:
        return await harness.scalar(
            "SELECT unreachable_at FROM officers WHERE officer_id = 'M1'")

    await eventually(marked)


async def test_status_buttons_are_refused_to_the_ppl_and_another_team(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    await harness.register("M1", 601)
    maryam = await harness.register("M2", 602)
    kartini = await harness.register("K1", 701)
    saved = await send_problem(putri, "Akses/geografis/cuaca", "Air pasang, pompong tidak jalan",
                               sls="RT 001 Banglas")
    for user, message, data in [
        (putri, saved, "kd:done:1"),  # the reporter
        (putri, saved, "kd:take:1"),
        (maryam, maryam.inbox[-1], "kd:done:1"),  # the PML of another team
        (maryam, maryam.inbox[-1], "kd:fwd:1"),
    ]:
        answer = await user.wait_answer(await user.press_data(message, data))
        assert "tidak berwenang" in answer["text"] and answer["show_alert"] is True
    assert await harness.scalar("SELECT status FROM problems") == "open"
    assert await harness.scalar("SELECT COUNT(*) FROM problem_events") == 1
    assert not any("status sekarang" in text_of(m) for m in harness.api.messages_to(501))

    # The KOSEKA above may; a forged id is only stale.
    query = await kartini.press_data(kartini.inbox[-1], "kd:take:1")
    assert (await kartini.wait_answer(query))["text"] == "Kendala #1: Ditangani."
    await putri.wait_for(lambda m: "oleh Kartini Koseka" in text_of(m))
    answer = await kartini.wait_answer(await kartini.press_data(kartini.inbox[-1], "kd:take:99"))
    assert "tidak berlaku" in answer["text"]
    # Forwarding to the KOSEKA is the PML's button: a forged one from the KOSEKA is refused.
    answer = await kartini.wait_answer(await kartini.press_data(kartini.inbox[-1], "kd:fwd:1"))
    assert "tidak berwenang" in answer["text"]
    assert await harness.scalar("SELECT status FROM problems") == "in_progress"
    assert await harness.scalar("SELECT COUNT(*) FROM problem_escalations") == 0


async def test_forward_to_koseka_records_the_escalation(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    mahmud = await harness.register("M1", 601)
    kartini = await harness.register("K1", 701)
    await send_problem(putri, "Menolak diwawancarai", "Kepala keluarga menolak, minta surat",
                       sls="RT 001 Banglas")
    alert = await mahmud.wait_for(lambda m: "Kendala baru #1" in text_of(m))
    await mahmud.wait_answer(await mahmud.press(alert, "Teruskan ke KOSEKA"))
    forwarded = await kartini.wait_for(lambda m: "diteruskan oleh Mahmud PML" in text_of(m))
    assert "Menolak diwawancarai" in forwarded.text
    await putri.wait_for(lambda m: "status sekarang Diteruskan ke KOSEKA" in text_of(m))
    assert (
        await harness.scalar("SELECT level || '|' || source FROM problem_escalations")
        == "koseka|M1"
    )

    # The time-based escalation does not send it to the KOSEKA a second time.
    services = services_of(harness.app)
    harness.clock.advance(timedelta(hours=25))
    assert await problems_repo.escalation_levels(harness.db.conn, [1]) == {1: {"koseka"}}
    from bot.messaging.problem_alerts import escalate_problems
    assert await escalate_problems(services) == 0
    assert len([m for m in harness.api.messages_to(701) if "#1" in text_of(m)]) == 1


async def test_bad_inputs_get_an_explanation_and_the_same_question(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    await putri.send("/issue")  # the English alias
    categories = await putri.wait_for(lambda m: "Pilih kategori" in text_of(m))
    await putri.send("rusak")
    again = await putri.wait_for(lambda m: "pilih dengan tombol" in text_of(m))
    assert "Pilih kategori" in again.text
    await putri.press(again, "Responden tidak di rumah")
    await putri.press(await putri.wait_for(lambda m: "terkait SLS" in text_of(m)), "RT 002 Banglas")
    await putri.wait_for(lambda m: "uraian singkat" in text_of(m))
    for bad, expected in [("ab", "terlalu pendek"), ("x" * 1001, "terlalu panjang")]:
        await putri.send(bad)
        reply = await putri.wait_for(lambda m: expected in text_of(m))
        assert "uraian singkat" in reply.text
    await putri.send_sticker()
    await putri.wait_for(lambda m: "berupa teks" in text_of(m) and "uraian singkat" in text_of(m))
    await putri.send("Rumah kosong, tetangga bilang merantau")
    await putri.wait_for(lambda m: "foto dan/atau lokasi" in text_of(m))
    await putri.send("nanti saja")
    ask = await putri.wait_for(lambda m: "Mohon kirim foto atau lokasi" in text_of(m))
    assert "foto dan/atau lokasi" in ask.text
    await putri.press(ask, "Lewati")
    urgency = await putri.wait_for(lambda m: "Seberapa mendesak" in text_of(m))
    await putri.send("penting")
    await putri.wait_for(lambda m: "pilih dengan tombol" in text_of(m) and "mendesak" in text_of(m))
    await putri.press(urgency, "Biasa")  # the earlier message's button: still this step
    await putri.wait_for(lambda m: "dikunjungi ulang" in text_of(m))
    for bad in ("dua", "-1", "201", "3,5"):
        await putri.send(bad)
        reply = await putri.wait_for(lambda m: "angka bulat 0–200" in text_of(m))
        assert "dikunjungi ulang" in reply.text
    query = await putri.press(categories, "Keamanan")  # a button from an earlier step
    answer = await putri.wait_answer(query)
    assert "tidak berlaku" in answer["text"] and answer["show_alert"] is True
    await putri.send("200")
    summary = await putri.wait_for(lambda m: "Ringkasan kendala" in text_of(m))
    assert "Ruta perlu dikunjungi ulang: 200" in summary.text
    await putri.press(summary, "Batal")
    await putri.wait_for(lambda m: "Dibatalkan" in text_of(m))
    assert await harness.scalar("SELECT COUNT(*) FROM problems") == 0

    await putri.send("/kendala")
    await putri.wait_for(lambda m: "Pilih kategori" in text_of(m))
    await putri.send("/batal")
    await putri.wait_for(lambda m: "Dibatalkan" in text_of(m))
    assert await harness.scalar("SELECT COUNT(*) FROM problems") == 0


async def test_double_kirim_saves_once_and_a_pml_reports_to_the_koseka(harness: Harness) -> None:
    mahmud = await harness.register("M1", 601)  # no SLS: no SLS question
    kartini = await harness.register("K1", 701)
    summary = await report_problem(mahmud, "Perlengkapan/kuesioner", "Kuesioner habis untuk tim")
    kirim = summary.button("Kirim").callback_data
    await mahmud.press(summary, "Kirim")
    saved = await mahmud.wait_for(lambda m: "tercatat" in text_of(m))
    assert "diteruskan ke Kartini Koseka" in saved.text
    answer = await mahmud.wait_answer(await mahmud.press_data(summary, kirim))
    assert "tidak berlaku" in answer["text"]
    assert await harness.scalar("SELECT COUNT(*) FROM problems") == 1
    alert = await kartini.wait_for(lambda m: "Kendala baru #1" in text_of(m))
    assert "Pelapor: Mahmud PML (PML)" in alert.text


async def test_the_alert_goes_out_even_when_answering_the_kirim_press_fails(
    harness: Harness,
) -> None:
    putri = await harness.register("P1", 501)
    mahmud = await harness.register("M1", 601)
    summary = await report_problem(putri, "Menolak diwawancarai", "Tidak mau diwawancarai",
                                   sls="RT 001 Banglas")
    refused = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
    harness.api.fault_hook = lambda method, _params: (
        (500, refused) if method == "answerCallbackQuery" else None)
    await putri.press(summary, "Kirim")
    await mahmud.wait_for(lambda m: "Kendala baru #1" in text_of(m))
    await eventually(lambda: any(r.method == "answerCallbackQuery" and r.status == 500
                                 for r in harness.api.requests))
    harness.api.fault_hook = None
    assert not any("tercatat" in text_of(m) for m in harness.api.messages_to(501))
    # Pressed again, it is recognised as saved: no second problem, no second alert.
    await putri.press(summary, "Kirim")
    await putri.wait_for(lambda m: "sudah tersimpan sebelumnya" in text_of(m))
    assert await harness.scalar("SELECT COUNT(*) FROM problems") == 1
    assert len(alerts(harness, 601)) == 1


async def test_flow_resumes_after_restart(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    await panji.send("/kendala")
    await panji.press(await panji.wait_for(lambda m: "Pilih kategori" in text_of(m)), "SLS berubah")
    await panji.press(
        await panji.wait_for(lambda m: "terkait SLS" in text_of(m)), "RT 001 Alah Air"
    )
    await panji.wait_for(lambda m: "uraian singkat" in text_of(m))
    await panji.send("Batas RT bergeser ke timur")
    await panji.wait_for(lambda m: "foto dan/atau lokasi" in text_of(m))
    await panji.send_location(1.05, 102.6)
    await panji.wait_for(lambda m: "Diterima: lokasi" in text_of(m))

    await harness.restart()

    await panji.send_photo()
    urgency = await panji.wait_for(lambda m: "Seberapa mendesak" in text_of(m))
    await panji.press(urgency, "Biasa")
    summary = await panji.wait_for(lambda m: "Ringkasan kendala" in text_of(m))
    await panji.press(summary, "Kirim")
    await panji.wait_for(lambda m: "Kendala #1 tercatat" in text_of(m))
    row = await harness.scalar(
        "SELECT latitude || ',' || longitude || '|'"
        " || CASE WHEN photo_file_id IS NULL THEN 'no photo' ELSE 'photo' END FROM problems")
    assert row == "1.05,102.6|photo"


async def test_a_captioned_photo_is_photo_and_description_at_once(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    await panji.send("/kendala")
    await panji.press(await panji.wait_for(lambda m: "Pilih kategori" in text_of(m)), "SLS berubah")
    await panji.press(
        await panji.wait_for(lambda m: "terkait SLS" in text_of(m)), "RT 001 Alah Air"
    )
    await panji.wait_for(lambda m: "uraian singkat" in text_of(m))
    await panji.send_photo("Batas RT bergeser ke timur")
    # Neither the description nor Lanjut is asked: straight on to the urgency.
    urgency = await panji.wait_for(lambda m: "Seberapa mendesak" in text_of(m))
    assert urgency.text.startswith("📷 Foto dan uraian diterima.")
    assert not [m for m in panji.inbox if "Lanjut" in " ".join(b.text for b in m.buttons())]
    await panji.send_location(1.05, 102.6)  # a location is still taken, up to Kirim
    urgency = await panji.wait_for(lambda m: "Seberapa mendesak" in text_of(m))
    assert urgency.text.startswith("📍 Lokasi diterima.")
    await panji.press(urgency, "Biasa")
    summary = await panji.wait_for(lambda m: "Ringkasan kendala" in text_of(m))
    assert "Lampiran: foto, lokasi" in summary.text
    assert "Uraian: Batas RT bergeser ke timur" in summary.text
    await panji.press(summary, "Kirim")
    await panji.wait_for(lambda m: "Kendala #1 tercatat" in text_of(m))
    row = await harness.scalar(
        "SELECT description || '|' || latitude || '|'"
        " || CASE WHEN photo_file_id IS NULL THEN 'no photo' ELSE 'photo' END FROM problems")
    assert row == "Batas RT bergeser ke timur|1.05|photo"


async def test_my_problems_and_visited_households(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    mahmud = await harness.register("M1", 601)
    await send_problem(putri, "Responden tidak di rumah", "Empat ruta <kosong> & terkunci",
                       sls="RT 001 Banglas", revisit="4")
    harness.clock.advance(timedelta(hours=1))
    await send_problem(putri, "Akses/geografis/cuaca", "Jalan banjir", sls="RT 002 Banglas")

    await putri.send("/kendala_saya")
    mine = await putri.wait_for(lambda m: "Kendala Bapak/Ibu" in text_of(m))
    assert mine.text.index("#2 ·") < mine.text.index("#1 ·")  # newest first
    assert ("#1 · Sen, 17 Okt · Responden tidak di rumah · Baru · 4 ruta perlu dikunjungi ulang"
            in mine.text)
    assert "Empat ruta <kosong> & terkunci" in mine.text
    assert "Ruta yang masih perlu dikunjungi ulang: 4" in mine.text
    assert [b.text for b in mine.buttons()] == ["🏠 Sudah dikunjungi #1"]

    # Only the reporter may use it.
    answer = await mahmud.wait_answer(await mahmud.press_data(mahmud.inbox[-1], "kd:visit:1"))
    assert "tidak berwenang" in answer["text"]

    answer = await putri.wait_answer(await putri.press(mine, "Sudah dikunjungi #1"))
    assert "Kendala #1 selesai" in answer["text"]
    await mahmud.wait_for(lambda m: "ruta kendala #1 sudah dikunjungi ulang" in text_of(m))
    assert harness.api.message(501, mine.message_id).buttons() == []  # edited before the notice
    assert await problems_repo.revisit_households(harness.db.conn, "P1") == 0
    assert await harness.scalar(
        "SELECT status || '|' || revisit_households FROM problems WHERE id = 1") == "resolved|0"
    assert await harness.scalar(
        "SELECT actor_id FROM problem_events WHERE problem_id = 1 AND status = 'resolved'") == "P1"

    await putri.send("/my_issues")
    again = await putri.wait_for(lambda m: "Kendala Bapak/Ibu" in text_of(m))
    assert "#1 · Sen, 17 Okt · Responden tidak di rumah · Selesai\n" in again.text
    assert "masih perlu dikunjungi" not in again.text and again.buttons() == []



async def test_forged_visited_presses_change_nothing(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    await harness.register("M1", 601)
    await send_problem(putri, "Akses/geografis/cuaca", "Jalan banjir", sls="RT 002 Banglas")
    await send_problem(putri, "Responden tidak di rumah", "Semua ruta sudah ditemui",
                       sls="RT 001 Banglas", revisit="0")
    await send_problem(putri, "Responden tidak di rumah", "Dua ruta ke kebun",
                       sls="RT 001 Banglas", revisit="2")
    await putri.send("/kendala_saya")
    mine = await putri.wait_for(lambda m: "Kendala Bapak/Ibu" in text_of(m))
    assert [b.text for b in mine.buttons()] == ["🏠 Sudah dikunjungi #3"]

    # By the reporter herself, for a problem of another kind or without households to revisit.
    for data, refusal in [("kd:visit:1", "tidak berwenang"), ("kd:visit:2", "tidak berlaku")]:
        answer = await putri.wait_answer(await putri.press_data(mine, data))
        assert refusal in answer["text"] and answer["show_alert"] is True
    assert await harness.column("SELECT status FROM problems ORDER BY id") == ["open"] * 3
    assert await harness.scalar("SELECT COUNT(*) FROM problem_events") == 3
    assert not any("sudah dikunjungi ulang" in text_of(m) for m in harness.api.messages_to(601))

    answer = await putri.wait_answer(await putri.press(mine, "Sudah dikunjungi #3"))
    assert "Kendala #3 selesai" in answer["text"]
    assert await harness.column(
        "SELECT status FROM problems ORDER BY id") == ["open", "open", "resolved"]

async def test_team_problems_in_each_scope(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    prabu = await harness.register("P3", 503)
    mahmud = await harness.register("M1", 601)
    maryam = await harness.register("M2", 602)
    kartini = await harness.register("K1", 701)
    admin = await harness.register("A1", 801)
    await send_problem(prabu, "Keamanan", "Anjing galak di gang", sls="RT 001 Sesap")
    harness.clock.advance(timedelta(hours=2))
    await send_problem(putri, "Lainnya", "Petugas <sakit> & demam", sls="Lainnya/umum")
    harness.clock.advance(timedelta(hours=1))
    await send_problem(putri, "Lainnya", "Sudah beres", sls="Lainnya/umum")
    async with harness.db.transaction() as conn:
        await problems_repo.set_status(conn, 3, "resolved", actor_id="M1", now=harness.clock.now())

    await mahmud.send("/kendala_tim")
    header = await mahmud.wait_for(lambda m: "Kendala terbuka" in text_of(m))
    assert header.text.startswith("Kendala terbuka: 1")
    item = await mahmud.wait_for(lambda m: "Kendala #" in text_of(m))
    assert "Kendala #2" in item.text and "Petugas <sakit> & demam" in item.text
    assert re.search(r"Dilaporkan: Sen, 17 Okt pukul \d\d\.\d\d WIB", item.text)
    assert [b.text for b in item.buttons()] == [
        "🛠 Ditangani", "✅ Selesai", "↗️ Teruskan ke KOSEKA"]
    await maryam.send("/team_issues")
    await maryam.wait_for(lambda m: "Kendala terbuka: 1" in text_of(m))
    assert "Kendala #1" in (await maryam.wait_for(lambda m: "Kendala #" in text_of(m))).text

    for user in (kartini, admin):  # the whole kecamatan / everything, oldest first
        await user.send("/kendala_tim")
        await user.wait_for(lambda m: "Kendala terbuka: 2" in text_of(m))
        first = await user.wait_for(lambda m: "Kendala #" in text_of(m))
        second = await user.wait_for(lambda m: "Kendala #" in text_of(m))
        assert ("Kendala #1" in first.text, "Kendala #2" in second.text) == (True, True)
        assert "Teruskan ke KOSEKA" not in [b.text for b in first.buttons()]

    await mahmud.wait_answer(await mahmud.press(item, "Ditangani"))
    await putri.wait_for(lambda m: "Kendala #2" in text_of(m) and "Ditangani" in text_of(m))
    assert await harness.scalar("SELECT status FROM problems WHERE id = 2") == "in_progress"

    await putri.send("/kendala_tim")
    await putri.wait_for(lambda m: "hanya untuk PML, KOSEKA dan admin" in text_of(m))


async def test_open_problems_and_revisits_reach_digests_and_reminders(harness) -> None:
    from datetime import date

    from bot import jobs
    from bot.app import services_of
    from bot.present.digests import digest_for
    from db import officers
    from db.problems import create_problem

    await harness.register("M1", 601)
    await harness.register("P2", 502)
    services = services_of(harness.app)
    async with harness.db.transaction() as conn:
        await create_problem(
            conn, officer_id="P2", category="not_home", sls_code=None,
            description="Tiga ruta <b>kosong</b> & dikunci", photo_file_id=None, latitude=None,
            longitude=None, urgent=False, revisit_households=3, now=harness.clock.now())
    summary = await jobs.send_reminders(services, day=date(2022, 10, 17), slot="16:00")
    assert "P2" in summary.recipients
    [reminder] = [m for m in harness.api.messages_to(502) if "belum masuk" in (m.text or "")]
    assert "3 ruta perlu dikunjungi ulang" in reminder.text

    mahmud = await officers.get_officer(harness.db.conn, "M1")
    digest = await digest_for(harness.db.conn, mahmud, day=date(2022, 10, 17),
                              settings=services.settings, form=services.form,
                              texts=services.texts, with_charts=False)
    text = "\n".join(digest.chunks)
    assert "<b>Kendala terbuka (1)</b>" in text
    assert "Panji PPL" in text
    maryam = await officers.get_officer(harness.db.conn, "M2")
    other = await digest_for(harness.db.conn, maryam, day=date(2022, 10, 17),
                             settings=services.settings, form=services.form,
                             texts=services.texts, with_charts=False)
    assert "Kendala" not in "\n".join(other.chunks)  # no problem: not a word about them
    assert len(digest.chunks) == 1  # the problems in the same message as the rest
