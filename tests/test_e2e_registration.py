"""Registration and access over real HTTP."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from tests.support import (
    ADMIN_TELEGRAM_ID,
    Harness,
    clear_settings_env,
    database_env,
    eventually,
)


def text_of(message) -> str:
    return message.text or ""


async def test_code_links_account_once(harness: Harness) -> None:
    putri = harness.api.user(501)
    await putri.send(f"/start {harness.codes['P1']}")
    welcome = await putri.wait_for(lambda m: "Selamat datang" in text_of(m))
    assert "Putri PPL" in welcome.text and "/lapor" in welcome.text
    assert (
        await harness.scalar("SELECT telegram_user_id FROM officers WHERE officer_id='P1'")
        == 501
    )
    # The officer's own command menu, set for their chat.
    scoped = [c for c in harness.api.calls("setMyCommands") if "scope" in c.params]
    assert any(c.params["scope"].get("chat_id") == 501 for c in scoped)

    stranger = harness.api.user(777)
    await stranger.send(f"/start {harness.codes['P1']}")
    await stranger.wait_for(lambda m: "sudah dipakai" in text_of(m))
    assert (
        await harness.scalar("SELECT telegram_user_id FROM officers WHERE officer_id='P1'")
        == 501
    )

    await putri.send(f"/start {harness.codes['P2']}")  # already linked to another officer
    await putri.wait_for(lambda m: "sudah terhubung dengan petugas lain" in text_of(m))
    assert (
        await harness.scalar("SELECT telegram_user_id FROM officers WHERE officer_id='P2'")
        is None
    )

    await stranger.send("/start ZZZZZZZZ")
    await stranger.wait_for(lambda m: "tidak dikenal" in text_of(m))


async def test_phone_sharing_links_on_normalised_number(harness: Harness) -> None:
    panji = harness.api.user(502)
    await panji.send("/start")
    hello = await panji.wait_for(lambda m: "belum terhubung" in text_of(m))
    assert hello.reply_keyboard_buttons()  # the "share my phone number" button
    await panji.send_contact("+62 812-0000-0006")
    await panji.wait_for(lambda m: "Selamat datang" in text_of(m) and "Panji PPL" in text_of(m))
    assert (
        await harness.scalar("SELECT telegram_user_id FROM officers WHERE officer_id='P2'")
        == 502
    )


async def test_someone_elses_contact_or_unknown_number_is_refused(harness: Harness) -> None:
    user = harness.api.user(503)
    await user.send_contact("081200000007", user_id=999)
    await user.wait_for(lambda m: "nomor HP Bapak/Ibu sendiri" in text_of(m))
    await user.send_contact("081299999999")
    await user.wait_for(lambda m: "tidak ada di daftar petugas" in text_of(m))
    assert (
        await harness.scalar("SELECT COUNT(*) FROM officers WHERE telegram_user_id IS NOT NULL")
        == 0
    )


async def test_unregistered_user_reaches_nothing(harness: Harness) -> None:
    user = harness.api.user(504)
    for command in ("/lapor", "/progres", "/bantuan", "halo"):
        await user.send(command)
        await user.wait_for(lambda m: "belum terhubung" in text_of(m))
        # The registration hint comes once per HINT_INTERVAL_MINUTES.
        harness.clock.advance(timedelta(minutes=harness.settings.hint_interval_minutes))
    assert all("Progres" not in text_of(m) for m in user.inbox)


async def test_admin_from_settings_needs_no_code(harness: Harness) -> None:
    admin = harness.api.user(ADMIN_TELEGRAM_ID)
    await admin.send("/progres")
    reply = await admin.wait_for(lambda m: "Progres Kabupaten" in text_of(m))
    assert "Tebing Tinggi: 0/390 (0,0%)" in reply.text

    # Not on the roster, this admin has no row to report a problem under: not in the menu.
    await admin.send("/start")
    welcome = await admin.wait_for(lambda m: "/ringkasan" in text_of(m))
    assert "/umumkan" in welcome.text and "/kendala_tim" in welcome.text
    assert "/kendala " not in welcome.text and "/kendala_saya" not in welcome.text
    menu = await eventually(
        lambda: harness.api.commands_for({"type": "chat", "chat_id": ADMIN_TELEGRAM_ID}))
    names = {c["command"] for c in menu}
    assert {"ringkasan", "kendala_tim"} <= names and not names & {"kendala", "kendala_saya"}
    await admin.send("/bantuan")
    help_text = await admin.wait_for(lambda m: "/ringkasan" in text_of(m))
    assert "/kendala_saya" not in help_text.text


async def test_deactivated_officer_is_refused(harness: Harness) -> None:
    await harness.register("P3", 505)
    async with harness.db.transaction() as conn:
        await conn.execute("UPDATE officers SET active = 0 WHERE officer_id = 'P3'")
    user = harness.api.user(505)
    await user.send("/lapor")
    await user.wait_for(lambda m: "tidak aktif" in text_of(m))


async def test_group_chat_gets_a_hint(harness: Harness) -> None:
    await harness.register("P1", 501)
    group = harness.api.group(-100123, "Tim Banglas")
    await group.send(harness.api.user(501), "/lapor 1 1 1")
    hint = await group.wait_for(lambda m: "chat pribadi" in text_of(m))
    assert hint.chat_id == -100123
    assert await harness.scalar("SELECT COUNT(*) FROM reports") == 0


async def test_progress_per_role(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    await putri.send("/lapor 12 14 51")
    ask_sls = await putri.wait_for(lambda m: "Pilih SLS" in text_of(m))
    await putri.press(ask_sls, "RT 001 Banglas")
    summary = await putri.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    await putri.press(summary, "Kirim")
    await putri.wait_for(lambda m: "Laporan tersimpan" in text_of(m))

    await putri.send("/progres")
    own = await putri.wait_for(lambda m: "Progres Putri PPL" in text_of(m))
    assert "RT 001 Banglas (1410012005001): 12/100 (12,0%)" in own.text
    assert "Total: 12/180" in own.text

    mahmud = await harness.register("M1", 601)
    await mahmud.send("/progres")
    team = await mahmud.wait_for(lambda m: "Progres tim Mahmud PML" in text_of(m))
    assert "Putri PPL: 12/180" in team.text and "Panji PPL: 0/120" in team.text
    assert "Prabu" not in team.text  # another team

    kartini = await harness.register("K1", 701)
    await kartini.send("/progres")
    kec = await kartini.wait_for(lambda m: "Progres kecamatan Tebing Tinggi" in text_of(m))
    assert "Mahmud PML: 12/300" in kec.text and "Maryam PML: 0/90" in kec.text


async def test_an_update_delivered_twice_is_handled_once(harness: Harness) -> None:
    panji = await harness.register("P2", 502)
    harness.api.duplicate_next_delivery()
    await panji.send("/lapor 12 14 51")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    await panji.press(summary, "Kirim")
    await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    summaries = [m for m in panji.inbox if "Ringkasan laporan" in text_of(m)]
    assert len(summaries) == 1
    deliveries = [u for c in harness.api.calls("getUpdates") if c.ok
                  for u in c.response["result"]]
    assert len(deliveries) > len({u["update_id"] for u in deliveries})  # it did come twice
    assert await harness.scalar("SELECT COUNT(*) FROM processed_updates") == len(
        {u["update_id"] for u in deliveries})


async def test_roster_unlink_takes_access_away_at_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    lost = await harness.register("P1", 501)  # the phone that was lost
    await lost.send("/progres")
    await lost.wait_for(lambda m: "Progres Putri PPL" in text_of(m))

    # The admin runs the command line next to the running bot, on the same database.
    clear_settings_env(monkeypatch, tmp_path)
    for name, value in database_env(harness.settings).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BOT_USERNAME", "meranti_lapor_bot")
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["roster", "unlink", "P1"]) == 0
    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert row["officer_id"] == "P1" and row["code"] != harness.codes["P1"]

    await lost.send("/progres")
    refused = await lost.wait_for(lambda m: "belum terhubung" in text_of(m))
    assert "Progres" not in text_of(refused)
    await lost.send(f"/start {harness.codes['P1']}")  # the old code was used, by this account
    await lost.wait_for(lambda m: "sudah dipakai" in text_of(m))
    progress = [m for m in harness.api.messages_to(501) if "Progres Putri" in text_of(m)]
    assert len(progress) == 1  # the one before the unlink

    new_phone = harness.api.user(511, first_name="Putri")
    await new_phone.send(f"/start {row['code']}")
    await new_phone.wait_for(lambda m: "Selamat datang" in text_of(m) and "Putri PPL" in text_of(m))
    assert await harness.scalar(
        "SELECT telegram_user_id FROM officers WHERE officer_id = 'P1'") == 511
    await new_phone.send("/progres")
    await new_phone.wait_for(lambda m: "Progres Putri PPL" in text_of(m))
