"""Supervisor review over the local Bot API: approve, return with a reason, permissions."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from handlers import review as review_handlers
from tests.support import Harness, eventually


def text_of(message) -> str:
    return message.text or ""


async def report(user, numbers: str, sls: str | None = None) -> None:
    await user.send(f"/lapor {numbers}")
    message = await user.wait_for(lambda m: "Pilih SLS" in text_of(m) or "Ringkasan" in text_of(m))
    if "Pilih SLS" in text_of(message):
        await user.press(message, sls or message.buttons()[0].text)
        message = await user.wait_for(lambda m: "Ringkasan" in text_of(m))
    await user.press(message, "Kirim")
    await user.wait_for(lambda m: "Laporan tersimpan" in text_of(m) or "diperbarui" in text_of(m))


async def review_message(user):
    await user.send("/progres")
    return await user.wait_for(lambda m: "perlu ditinjau" in text_of(m))


async def test_pml_approves_and_returns_and_ppl_corrects(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    panji = await harness.register("P2", 502)
    mahmud = await harness.register("M1", 601)
    await report(putri, "12 14 51", "RT 001 Banglas")
    await report(panji, "7 8 30")

    prompt = await review_message(mahmud)
    labels = [b.text for b in prompt.buttons()]
    assert "✅ Putri PPL · RT 001 Banglas: 12 ruta" in labels
    assert "✅ Panji PPL · RT 001 Alah Air: 7 ruta" in labels

    version = prompt.version
    query = await mahmud.press(prompt, "Putri PPL")
    assert "disetujui" in (await mahmud.wait_answer(query))["text"]
    assert await harness.scalar("SELECT status FROM reports WHERE officer_id='P1'") == "approved"
    await mahmud.wait_edit(prompt, since_version=version)
    assert not any("Putri" in b.text for b in prompt.buttons())  # its row is gone

    [back] = [b for b in prompt.buttons() if b.text.startswith("↩️")]
    await mahmud.press_data(prompt, back.callback_data)
    await mahmud.wait_for(lambda m: "alasan pengembalian" in text_of(m))
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
    approval = await mahmud.press(prompt, "Putri PPL")
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

