"""Supervisor review over the local Bot API: approve, return with a reason, permissions."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.messaging.keyboards import review_markup
from bot.present.review import PAGE_SIZE, ReviewItem, review_pages
from bot.present.splitting import TELEGRAM_LIMIT
from bot.present.texts import Texts
from bot.rules.forms import load_form
from bot.rules.report import NOTE_MAX_CHARS
from handlers import review as review_handlers
from tests.support import Harness, eventually


def text_of(message) -> str:
    return message.text or ""


async def report(user, numbers: str, sls: str | None = None, note: str | None = None) -> None:
    await user.send(f"/lapor {numbers}")
    message = await user.wait_for(lambda m: "Pilih SLS" in text_of(m) or "Ringkasan" in text_of(m))
    if "Pilih SLS" in text_of(message):
        await user.press(message, sls or message.buttons()[0].text)
        message = await user.wait_for(lambda m: "Ringkasan" in text_of(m))
    if note is not None:
        await user.press(message, "➕ Catatan")
        await user.wait_for(lambda m: "catatan singkat" in text_of(m))
        await user.send(note)
        message = await user.wait_for(lambda m: "Ringkasan" in text_of(m) and note in text_of(m))
    await user.press(message, "Kirim")  # or "Kirim (ganti)", replacing the first
    await user.wait_for(lambda m: "Laporan tersimpan" in text_of(m) or "diperbarui" in text_of(m))


async def review_message(user):
    await user.send("/progres")
    return await user.wait_for(lambda m: "perlu ditinjau" in text_of(m))


def labels(message) -> list[str]:
    return [b.text for b in message.buttons()]


async def rows(harness: Harness, sql: str) -> list[str]:
    """The first column of every row (portable SQL: no group_concat)."""
    async with harness.db.conn.execute(sql) as cur:
        return [str(row[0]) for row in await cur.fetchall()]


async def statuses(harness: Harness) -> str:
    return " ".join(await rows(
        harness, "SELECT officer_id || '/' || sls_code || ':' || status FROM reports"
        " ORDER BY officer_id, sls_code"))


async def test_pml_sees_every_number_and_approves_one_and_returns_one(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    panji = await harness.register("P2", 502)
    mahmud = await harness.register("M1", 601)
    await report(putri, "12 14 51", "RT 001 Banglas", note="Dua ruta pindah ke Selatpanjang")
    await report(panji, "7 8 30")

    prompt = await review_message(mahmud)
    # Each report with its number, the PPL, the SLS, every field of the form and the note.
    assert ("1. Putri PPL · RT 001 Banglas\n12 ruta, 14 keluarga, 51 jiwa\n"
            "📝 Catatan: Dua ruta pindah ke Selatpanjang") in prompt.text
    assert "2. Panji PPL · RT 001 Alah Air\n7 ruta, 8 keluarga, 30 jiwa" in prompt.text
    assert labels(prompt) == ["✅ Setujui 1", "↩️ 1", "✅ Setujui 2", "↩️ 2", "✅ Setujui semua"]

    version = prompt.version
    query = await mahmud.press(prompt, "✅ Setujui 1")
    assert "Putri PPL disetujui" in (await mahmud.wait_answer(query))["text"]
    assert await statuses(harness) == "P1/1410012005001:approved P2/1410012006001:submitted"
    await mahmud.wait_edit(prompt, since_version=version)
    # Its row is gone, and with one report left, "Setujui semua" too.
    assert labels(prompt) == ["✅ Setujui 2", "↩️ 2"]

    await mahmud.press(prompt, "↩️ 2")
    asked = await mahmud.wait_for(lambda m: "alasan pengembalian" in text_of(m))
    assert "laporan Panji PPL, RT 001 Alah Air (Senin, 17 Okt 2022)" in asked.text
    await mahmud.send_sticker()
    await mahmud.wait_for(lambda m: "alasan singkat" in text_of(m))
    await mahmud.send("Jumlah jiwa <terlalu> kecil & perlu dicek")
    await mahmud.wait_for(lambda m: "dikembalikan. ✅ Panji PPL sudah diberi tahu" in text_of(m))
    notice = await panji.wait_for(lambda m: "dikembalikan oleh Mahmud PML" in text_of(m))
    assert "Jumlah jiwa <terlalu> kecil & perlu dicek" in notice.text
    assert await harness.scalar("SELECT status FROM reports WHERE officer_id='P2'") == "returned"

    await report(panji, "7 8 31")
    assert await harness.scalar("SELECT status FROM reports WHERE officer_id='P2'") == "corrected"
    assert await harness.scalar(
        "SELECT COUNT(*) FROM report_revisions v JOIN reports r ON r.id = v.report_id"
        " WHERE r.officer_id = 'P2'") == 2
    assert await harness.scalar("SELECT COUNT(*) FROM report_reviews") == 2


async def approve_all(user, prompt, count: int) -> None:
    """ "Setujui semua", then "Ya" on the confirmation that takes its place."""
    version = prompt.version
    await user.press(prompt, "✅ Setujui semua")
    await user.wait_edit(prompt, since_version=version)
    await user.press(prompt, f"✅ Ya, setujui {count} laporan")


async def three_reports(harness: Harness):
    """Putri on both her SLS and Panji, then Mahmud's review message of the three."""
    putri = await harness.register("P1", 501)
    panji = await harness.register("P2", 502)
    mahmud = await harness.register("M1", 601)
    await report(putri, "12 14 51", "RT 001 Banglas")
    await report(putri, "5 6 20", "RT 002 Banglas")
    await report(panji, "7 8 30")
    prompt = await review_message(mahmud)
    assert labels(prompt)[-1] == "✅ Setujui semua"
    return putri, panji, mahmud, prompt


async def test_approve_all_asks_first_then_approves_every_report_of_the_message(
    harness: Harness,
) -> None:
    _, _, mahmud, prompt = await three_reports(harness)

    version = prompt.version
    query = await mahmud.press(prompt, "✅ Setujui semua")
    assert "Setujui 3 laporan?" in (await mahmud.wait_answer(query))["text"]
    await mahmud.wait_edit(prompt, since_version=version)
    assert labels(prompt)[-2:] == ["✅ Ya, setujui 3 laporan", "Batal"]
    # Batal: nothing approved, the button back.
    version = prompt.version
    await mahmud.press(prompt, "Batal")
    await mahmud.wait_edit(prompt, since_version=version)
    assert labels(prompt)[-1] == "✅ Setujui semua"
    assert await harness.scalar("SELECT COUNT(*) FROM report_reviews") == 0

    await approve_all(mahmud, prompt, 3)
    done = await mahmud.wait_for(lambda m: "laporan disetujui" in text_of(m))
    assert done.text.startswith("✅ 3 laporan disetujui: Putri PPL · RT 001 Banglas; "
                                "Putri PPL · RT 002 Banglas; Panji PPL · RT 001 Alah Air.")
    assert "dilewati" not in done.text
    assert await statuses(harness) == (
        "P1/1410012005001:approved P1/1410012005002:approved P2/1410012006001:approved")
    assert await rows(harness, "SELECT DISTINCT reviewer_id || ':' || action"
                                " FROM report_reviews") == ["M1:approved"]
    assert prompt.buttons() == []  # nothing left to review in that message


async def test_approve_all_skips_what_changed_since_the_message_and_says_so(
    harness: Harness,
) -> None:
    _, panji, mahmud, prompt = await three_reports(harness)
    kartini = await harness.register("K1", 701)
    # After the message was shown: Panji replaces his numbers, Kartini (KOSEKA) approves one.
    await report(panji, "9 10 40")
    first = await harness.scalar("SELECT id FROM reports WHERE sls_code = '1410012005001'")
    query = await kartini.press_data(kartini.inbox[-1], f"rv:ok:{first}")
    assert "disetujui" in (await kartini.wait_answer(query))["text"]

    await approve_all(mahmud, prompt, 3)
    done = await mahmud.wait_for(lambda m: "laporan disetujui" in text_of(m))
    assert done.text.splitlines() == [
        "✅ 1 laporan disetujui: Putri PPL · RT 002 Banglas.",
        "⚠️ 2 laporan dilewati (tidak disetujui):",
        "• Putri PPL · RT 001 Banglas: sudah ditinjau (disetujui atau dikembalikan)",
        "• Panji PPL · RT 001 Alah Air: sudah diganti dengan laporan baru;"
        " periksa angka barunya di /progres",
    ]
    # Panji's new numbers still wait for a review; nobody approved them blindly.
    assert await statuses(harness) == (
        "P1/1410012005001:approved P1/1410012005002:approved P2/1410012006001:submitted")
    assert await rows(harness, "SELECT reviewer_id FROM report_reviews ORDER BY id") == [
        "K1", "M1"]
    again = await review_message(mahmud)
    assert "1. Panji PPL · RT 001 Alah Air\n9 ruta, 10 keluarga, 40 jiwa" in again.text


async def test_a_button_of_numbers_since_replaced_approves_nothing(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    mahmud = await harness.register("M1", 601)
    await report(panji, "7 8 30")
    prompt = await review_message(mahmud)
    await report(panji, "9 10 40")  # revision 2, after the message was shown

    for label in ("✅ Setujui 1", "↩️ 1"):
        query = await mahmud.press(prompt, label)
        answer = await mahmud.wait_answer(query)
        assert "diganti dengan angka baru" in answer["text"] and answer["show_alert"] is True
        if label.startswith("✅"):
            await mahmud.wait_edit(prompt)  # the outdated row is taken away
            assert prompt.buttons() == []
            prompt = await review_message(mahmud)
            await report(panji, "9 10 41")
    assert await harness.scalar("SELECT COUNT(*) FROM report_reviews") == 0
    assert await harness.scalar("SELECT status FROM reports") == "submitted"


# A write that fails on the review of one report, as a full disk would.
FAILING_TRIGGER = {
    "sqlite": ["CREATE TRIGGER fail_second BEFORE INSERT ON report_reviews"
               " WHEN NEW.report_id = {report_id} BEGIN SELECT RAISE(ABORT, 'disk I/O'); END"],
    "postgres": ["CREATE FUNCTION fail_second() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                 " IF NEW.report_id = {report_id} THEN RAISE EXCEPTION 'disk I/O'; END IF;"
                 " RETURN NEW; END $$",
                 "CREATE TRIGGER fail_second BEFORE INSERT ON report_reviews"
                 " FOR EACH ROW EXECUTE FUNCTION fail_second()"],
}


async def test_approve_all_is_one_transaction(harness: Harness, engine: str) -> None:
    _, _, mahmud, prompt = await three_reports(harness)
    # The storage fails on the second approval of the three: none may stay approved.
    second = int(str(await harness.scalar(
        "SELECT id FROM reports WHERE sls_code = '1410012005002'")))
    async with harness.db.statement() as conn:
        for sql in FAILING_TRIGGER[engine]:
            await conn.execute(sql.format(report_id=second))

    await approve_all(mahmud, prompt, 3)
    await mahmud.wait_for(lambda m: "belum tersimpan" in text_of(m)
                          and "tidak ada laporan yang disetujui" in text_of(m))
    assert await statuses(harness) == (
        "P1/1410012005001:submitted P1/1410012005002:submitted P2/1410012006001:submitted")
    assert await harness.scalar("SELECT COUNT(*) FROM report_reviews") == 0
    assert labels(prompt)[-1] == "✅ Setujui semua"  # to be pressed again

    async with harness.db.statement() as conn:
        await conn.execute("DROP TRIGGER fail_second"
                           + (" ON report_reviews" if engine == "postgres" else ""))
    await approve_all(mahmud, prompt, 3)
    await mahmud.wait_for(lambda m: "3 laporan disetujui" in text_of(m))
    assert await harness.scalar("SELECT COUNT(*) FROM report_reviews") == 3


async def test_a_ppl_who_blocked_the_bot_is_marked_unreachable_by_the_returned_notice(
    harness: Harness,
) -> None:
    panji = await harness.register("P2", 502)
    mahmud = await harness.register("M1", 601)
    await report(panji, "7 8 30")
    harness.api.blocked_users.add(502)
    report_id = await harness.scalar("SELECT id FROM reports")
    prompt = await review_message(mahmud)
    await mahmud.press_data(prompt, f"rv:back:{report_id}")
    await mahmud.wait_for(lambda m: "alasan pengembalian" in text_of(m))
    await mahmud.send("Jumlah jiwa perlu dicek")
    # The reviewer reads the truth: returned, but Panji was not told.
    saved = await mahmud.wait_for(lambda m: "dikembalikan" in text_of(m))
    assert "Panji PPL belum diberi tahu" in saved.text and "bot diblokir" in saved.text
    assert "sudah diberi tahu" not in saved.text
    assert await harness.scalar("SELECT status FROM reports") == "returned"

    async def marked() -> object:
        return await harness.scalar(
            "SELECT unreachable_at FROM officers WHERE officer_id = 'P2'")

    await eventually(marked)
    assert [c for c in harness.api.calls("sendMessage") if c.status == 403]


async def test_only_the_own_pml_koseka_or_admin_may_review(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    mahmud = await harness.register("M1", 601)
    maryam = await harness.register("M2", 602)
    await report(putri, "12 14 51")
    report_id = await harness.scalar("SELECT id FROM reports")
    prompt = await review_message(mahmud)

    for intruder in (maryam, putri):  # another team's PML, and the PPL herself
        query = await intruder.press_data(prompt, f"rv:ok:{report_id}")
        assert "tidak berwenang" in (await intruder.wait_answer(query))["text"]
        query = await intruder.press_data(prompt, f"rv:back:{report_id}")
        assert "tidak berwenang" in (await intruder.wait_answer(query))["text"]
    assert await harness.scalar("SELECT status FROM reports") == "submitted"
    forged = await maryam.press_data(prompt, "rv:ok:not-a-number")
    assert "tidak berlaku" in (await maryam.wait_answer(forged))["text"]

    kartini = await harness.register("K1", 701)
    query = await kartini.press_data(prompt, f"rv:ok:{report_id}")
    assert "disetujui" in (await kartini.wait_answer(query))["text"]
    assert await harness.scalar("SELECT status FROM reports") == "approved"
    again = await mahmud.press_data(prompt, f"rv:ok:{report_id}")
    assert "sudah ditinjau" in (await mahmud.wait_answer(again))["text"]


async def test_an_approval_does_not_overwrite_a_return_saved_meanwhile(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    putri = await harness.register("P1", 501)
    mahmud = await harness.register("M1", 601)
    kartini = await harness.register("K1", 701)
    await report(putri, "12 14 51")
    report_id = await harness.scalar("SELECT id FROM reports")
    prompt = await review_message(mahmud)

    # Mahmud's approval is held after it has read the report, before its transaction.
    held, go_on = asyncio.Event(), asyncio.Event()
    real_transaction = harness.db.transaction

    @asynccontextmanager
    async def after_a_pause() -> AsyncIterator[object]:
        held.set()
        await go_on.wait()
        async with real_transaction() as conn:
            yield conn

    def transaction():
        caller = inspect.currentframe().f_back  # type: ignore[union-attr]
        if caller is not None and caller.f_code is review_handlers.approve.__code__:
            return after_a_pause()
        return real_transaction()

    monkeypatch.setattr(harness.db, "transaction", transaction)
    approval = await mahmud.press(prompt, "✅ Setujui 1")
    await eventually(held.is_set)

    # Meanwhile Kartini returns the same report.
    await kartini.press_data(kartini.inbox[-1], f"rv:back:{report_id}")
    await kartini.wait_for(lambda m: "alasan pengembalian" in text_of(m))
    await kartini.send("Jumlah jiwa perlu dicek")
    await kartini.wait_for(lambda m: "dikembalikan. ✅ Putri PPL sudah diberi tahu" in text_of(m))
    await putri.wait_for(lambda m: "dikembalikan oleh Kartini Koseka" in text_of(m))

    go_on.set()
    answer = await mahmud.wait_answer(approval)
    assert "sudah ditinjau" in answer["text"] and answer["show_alert"] is True
    assert await harness.scalar("SELECT status FROM reports") == "returned"
    assert await harness.column(
        "SELECT reviewer_id || ':' || action FROM report_reviews") == ["K1:returned"]



def test_review_messages_number_across_pages_and_keep_within_a_message() -> None:
    t, form = Texts("id"), load_form()
    values = {"households": 5, "families": 6, "persons": 20}
    items = [ReviewItem(report_id=n, revision=1, name=f"PPL {n}", sls="RT 001", values=values,
                        note="<" * NOTE_MAX_CHARS if n % 3 == 0 else None)
             for n in range(1, 26)]
    pages = review_pages(items, t, form)
    numbers = [number for page in pages for number, _ in page.numbered]
    assert numbers == list(range(1, 26))  # numbered on, across the messages
    for page in pages:
        assert 1 <= len(page.numbered) <= PAGE_SIZE
        assert len(page.text) <= TELEGRAM_LIMIT  # even with long notes, escaped
        first, last = page.numbered[0][0], page.numbered[-1][0]
        assert f"\n<b>{first}.</b> PPL {first} · RT 001" in page.text
        assert f"\n<b>{last}.</b> PPL {last} · RT 001" in page.text
        labels = [b.text for row in review_markup(page, t).inline_keyboard for b in row]
        assert labels[:2] == [f"✅ Setujui {first}", f"↩️ {first}"]
        assert labels[-1] == "✅ Setujui semua" or len(page.numbered) == 1
    assert len(pages) > 3  # the notes, not only the count, started new messages
