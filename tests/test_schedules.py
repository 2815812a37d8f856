"""Reminders, days off, delivery under faults and the job schedule, with an injected clock."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from telegram import Bot

from bot import jobs
from bot.app import services_of
from bot.clock import Clock, RehearsalClock, from_real
from bot.localapi import LocalBotApi
from bot.messaging.delivery import DeliveryStatus, Outgoing, Sender
from bot.present import charts
from db.models import Role
from db.roster import import_roster
from tests.support import (
    ADMIN_TELEGRAM_ID,
    AREAS_CSV,
    OFFICERS_CSV,
    Harness,
    at,
    cli_env,
    eventually,
    link_officers,
    load_roster,
    make_settings,
    report_today,
)

PNG = b"\x89PNG\r\n\x1a\n"


def text_of(message) -> str:
    return message.text or ""


def reminders_to(harness: Harness, chat_id: int) -> list:
    return [m for m in harness.api.messages_to(chat_id) if "belum masuk" in text_of(m)]


async def test_reminders_go_only_to_those_who_have_not_reported(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    await harness.register("P2", 502)
    prabu = await harness.register("P3", 503)
    await report_today(putri)
    await prabu.send("/izin")
    reasons = await prabu.wait_for(lambda m: "alasannya" in text_of(m))
    await prabu.press(reasons, "Sakit")  # saved at once
    await prabu.wait_for(lambda m: "Izin tercatat" in text_of(m))

    services = services_of(harness.app)
    harness.clock.set(at(17, 16))
    summary = await jobs.send_reminders(services, day=date(2022, 10, 17), slot="16:00")
    assert summary.recipients == ["P2"]
    [reminder] = reminders_to(harness, 502)
    assert "Senin, 17 Okt 2022" in reminder.text
    assert reminders_to(harness, 501) == [] and reminders_to(harness, 503) == []

    again = await jobs.send_reminders(services, day=date(2022, 10, 17), slot="16:00")
    assert (again.sent, again.already) == (0, 1)
    assert len(reminders_to(harness, 502)) == 1

    # The one-tap button opens the report flow.
    panji = harness.api.user(502)
    await panji.press(reminder, "Lapor sekarang")
    await panji.wait_for(lambda m: "Berapa ruta yang selesai didata hari ini?" in text_of(m))
    await panji.send("/batal")
    await panji.wait_for(lambda m: "Dibatalkan" in text_of(m))

    evening = await jobs.send_reminders(services, day=date(2022, 10, 17), slot="19:00")
    assert evening.recipients == ["P2"]
    await report_today(panji)
    tomorrow = await jobs.send_reminders(services, day=date(2022, 10, 18), slot="16:00")
    assert sorted(tomorrow.recipients) == ["P1", "P2", "P3"]
    assert await harness.scalar("SELECT COUNT(*) FROM days_off WHERE officer_id='P3'") == 1


async def test_a_ppl_deactivated_by_a_roster_import_is_not_reminded(
    harness: Harness, tmp_path: Path
) -> None:
    await harness.register("P2", 502)
    await harness.register("P3", 503)
    # Prabu left the operation: the updated roster no longer has him.
    officers, areas = tmp_path / "officers-new.csv", tmp_path / "areas-new.csv"
    officers.write_text("".join(line for line in OFFICERS_CSV.splitlines(keepends=True)
                                if not line.startswith("P3,")), encoding="utf-8")
    areas.write_text("".join(line for line in AREAS_CSV.splitlines(keepends=True)
                             if not line.startswith("P3,")), encoding="utf-8")
    await import_roster(harness.db, officers, areas, now=harness.clock.now())
    assert await harness.scalar("SELECT active FROM officers WHERE officer_id = 'P3'") == 0

    summary = await jobs.send_reminders(services_of(harness.app), day=date(2022, 10, 17),
                                        slot="16:00")
    assert summary.recipients == ["P2"]
    assert reminders_to(harness, 503) == [] and len(reminders_to(harness, 502)) == 1


async def test_no_jobs_outside_the_period_or_on_days_off(harness: Harness) -> None:
    await harness.register("P2", 502)
    services = services_of(harness.app)
    services.settings.days_off.append(date(2022, 10, 20))
    for day in (date(2022, 10, 14), date(2022, 10, 20), date(2022, 11, 15)):
        summary = await jobs.send_reminders(services, day=day, slot="16:00")
        assert summary.off_day and summary.sent == 0
    for day in (date(2022, 10, 15), date(2022, 11, 14)):  # first and last day included
        assert (await jobs.send_reminders(services, day=day, slot="16:00")).sent == 1


async def test_blocked_officer_is_marked_unreachable_and_not_retried(harness: Harness) -> None:
    await harness.register("P2", 502)
    harness.api.blocked_users.add(502)
    services = services_of(harness.app)
    summary = await jobs.send_reminders(services, day=date(2022, 10, 17), slot="16:00")
    assert summary.unreachable == 1
    assert await harness.scalar("SELECT unreachable_at FROM officers WHERE officer_id='P2'")
    later = await jobs.send_reminders(services, day=date(2022, 10, 17), slot="19:00")
    assert later.recipients == [] and later.unreachable == 0
    refused = [c for c in harness.api.calls("sendMessage") if c.status == 403]
    assert len(refused) == 1  # tried once, never again

    harness.api.blocked_users.discard(502)  # unblocked: writing to the bot again clears it
    await harness.api.user(502).send("/bantuan")
    await harness.api.user(502).wait_for(lambda m: "Perintah yang tersedia" in text_of(m))
    assert await harness.scalar("SELECT unreachable_at FROM officers WHERE officer_id='P2'") is None


async def test_sender_waits_out_429_and_retries_5xx(harness: Harness) -> None:
    await harness.register("P2", 502)
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    bot = Bot(harness.api.token, base_url=harness.api.base_url)  # no rate limiter of its own
    async with bot:
        sender = Sender(bot, per_chat_interval=0, backoff=0.25, sleep=no_wait)
        harness.api.fail_next("sendMessage", 429, retry_after=7)
        harness.api.fail_next("sendMessage", 500, count=2)
        result = await sender.send(Outgoing(502, "satu"))
        assert result.status is DeliveryStatus.SENT
        assert 7 in waits  # Telegram's retry_after, waited out
        assert 0.25 in waits and 0.5 in waits  # exponential back-off on 5xx
        harness.api.fail_next("sendMessage", 502, count=9)
        failed = await sender.send(Outgoing(502, "dua"))
    assert failed.status is DeliveryStatus.FAILED
    delivered = [m.text for m in harness.api.messages_to(502)]
    assert delivered.count("satu") == 1 and "dua" not in delivered


async def test_sender_keeps_one_message_per_second_per_chat(harness: Harness) -> None:
    await harness.register("P2", 502)
    moments = iter([0.0, 0.0, 0.0, 0.1])  # slot and answer of "a", then of "b"
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(round(seconds, 3))

    sender = Sender(harness.app.bot, per_second=30, per_chat_interval=1.0,
                    monotonic=lambda: next(moments), sleep=record)
    await sender.send(Outgoing(502, "a"))
    await sender.send(Outgoing(502, "b"))  # same chat at t=0: waits a whole second
    assert waits == [1.0]


async def test_jobs_are_scheduled_with_deterministic_names(api, tmp_path, clock) -> None:
    from tests.support import Harness as H
    from tests.support import load_roster

    settings = make_settings(tmp_path, api, schedule_jobs=True)
    codes = await load_roster(settings.database_path, clock.now(), tmp_path)
    harness = H(api, settings, clock, codes)
    await harness.start()
    try:
        names = sorted(job.name for job in harness.app.job_queue.jobs() if job.name != "catch-up")
        daily = ["digest-admin", "digest-koseka", "digest-pml", "reminder-16:00",
                 "reminder-19:00"]
        # TIMEZONE's slots by their plain names, the other Indonesian zones' after the zone.
        assert names == sorted([*daily, "flow-expiry", "problem-escalation",
                                *(f"{name}@{zone}" for name in daily
                                  for zone in ("Asia/Makassar", "Asia/Jayapura"))])
        [pml] = harness.app.job_queue.get_jobs_by_name("digest-pml")
        local = pml.next_t.astimezone(settings.tz)
        assert (local.hour, local.minute) == (20, 30)
    finally:
        await harness.stop()


@asynccontextmanager
async def scheduling_bot(
    api: LocalBotApi, tmp_path: Path, clock: Clock, links: dict[str, int],
    database: Path | str | None = None,
) -> AsyncIterator[Harness]:
    """The bot running its own jobs (SCHEDULE_JOBS) on `clock`, the officers of `links`
    already linked to their chats. A rehearsal clock keeps the test independent of the real
    time of day: the JobQueue's times follow it."""
    settings = make_settings(tmp_path, api, database=database, schedule_jobs=True)
    codes = await load_roster(settings.database, clock.now(), tmp_path)
    await link_officers(settings.database, links)
    for officer_id, chat in links.items():
        api.user(chat, first_name=officer_id)
    harness = Harness(api, settings, clock, codes)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


def next_run(harness: Harness, name: str) -> datetime:
    """When the job runs next, on the bot's clock."""
    [job] = [j for j in harness.app.job_queue.get_jobs_by_name(name) if not j.removed]
    return from_real(harness.clock, job.next_t)


async def test_jobs_run_at_their_times_on_the_rehearsal_clock(
    api: LocalBotApi, tmp_path: Path
) -> None:
    clock = RehearsalClock(at(17, 17, 0))  # REHEARSAL_START: years before the real time
    async with scheduling_bot(api, tmp_path, clock, {}) as harness:
        expected = {"reminder-16:00": at(18, 16), "reminder-19:00": at(17, 19),
                    "digest-pml": at(17, 20, 30), "digest-koseka": at(17, 21),
                    "digest-admin": at(17, 21, 30)}
        for name, moment in expected.items():  # whole seconds: up to one second later
            assert moment <= next_run(harness, name) < moment + timedelta(seconds=1), name


async def test_the_job_queue_sends_the_reminder_when_the_bot_clock_reaches_its_time(
    api: LocalBotApi, tmp_path: Path
) -> None:
    # 16:00 comes 5 s after the start: after the bot's start-up even on a loaded machine.
    clock = RehearsalClock(at(17, 16) - timedelta(seconds=5))
    async with scheduling_bot(api, tmp_path, clock, {"P2": 502}) as harness:
        # Scheduled for today: the catch-up at start-up, before 16:00, had nothing to do.
        assert next_run(harness, "reminder-16:00").date() == date(2022, 10, 17)
        reminder = await api.user(502).wait_for(lambda m: "belum masuk" in text_of(m),
                                                 timeout=15)
        assert clock.now() >= at(17, 16)
        assert "Senin, 17 Okt 2022" in reminder.text


        async def recorded() -> bool:
            return await harness.scalar(
                "SELECT group_concat(recipient || ' ' || day || ' ' || slot || ' ' || status)"
                " FROM sent_log WHERE kind = 'reminder'") == "P2 2022-10-17 16:00 sent"

        await eventually(recorded)
        assert next_run(harness, "reminder-16:00").date() == date(2022, 10, 18)


async def test_a_digest_missed_while_the_bot_was_down_goes_out_at_start_up(
    api: LocalBotApi, tmp_path: Path
) -> None:
    clock = RehearsalClock(at(17, 20, 45))  # the PML digest (20:30) passed while it was down
    async with scheduling_bot(api, tmp_path, clock, {"M1": 601}) as harness:
        await api.user(601).wait_for(
            lambda m: "Ringkasan harian tim Mahmud PML" in text_of(m), timeout=10)
        assert next_run(harness, "digest-pml").date() == date(2022, 10, 18)


async def test_catch_up_sends_a_missed_slot_once_within_the_grace_window(harness: Harness) -> None:
    await harness.register("P2", 502)
    services = services_of(harness.app)
    harness.clock.set(at(17, 17, 30))  # 16:00 passed 1.5 h ago (grace 2 h), 19:00 not yet
    # (19:00 WIT, 17:00 WIB, passed too: nobody of this roster lives in Papua.)
    assert [s.name for s in jobs.due_slots(services, harness.clock.now())] == [
        "reminder-16:00", "reminder-19:00@Asia/Jayapura"]
    summary, papua = await jobs.catch_up(services)
    assert (summary.recipients, papua.recipients) == (["P2"], [])
    await harness.restart()
    assert [s.sent for s in await jobs.catch_up(services_of(harness.app))] == [0, 0]
    assert len(reminders_to(harness, 502)) == 1
    harness.clock.set(at(17, 18, 1))  # 16:00 is now beyond the grace window
    due = jobs.due_slots(services_of(harness.app), harness.clock.now())
    assert [s.name for s in due] == ["reminder-19:00@Asia/Makassar", "reminder-19:00@Asia/Jayapura"]


async def test_izin_only_for_ppl_and_cancellable(harness: Harness) -> None:
    mahmud = await harness.register("M1", 601)
    await mahmud.send("/izin")
    await mahmud.wait_for(lambda m: "hanya untuk PPL" in text_of(m))
    panji = await harness.register("P2", 502)
    await panji.send("/izin")
    await panji.wait_for(lambda m: "alasannya" in text_of(m))
    await panji.send_sticker()
    await panji.wait_for(lambda m: "pilih dengan tombol" in text_of(m))
    await panji.send("/batal")
    await panji.wait_for(lambda m: "Dibatalkan" in text_of(m))
    assert await harness.scalar("SELECT COUNT(*) FROM days_off") == 0


async def test_digest_charts_are_drawn_off_the_loop_when_sent_and_only_then(
    harness: Harness, monkeypatch
) -> None:
    await report_today(await harness.register("P2", 502))
    await harness.register("K1", 602)
    before = len(harness.api.messages_to(602))
    drawn: list[tuple[str, int]] = []  # (title, thread) of every chart drawn
    for name in ("cumulative_chart", "progress_bars"):
        real = getattr(charts, name)

        def spy(title: str, *args: object, real=real) -> bytes:
            drawn.append((title, threading.get_ident()))
            return real(title, *args)

        monkeypatch.setattr(charts, name, spy)
    services = services_of(harness.app)

    summary = await jobs.send_digests(services, day=date(2022, 10, 17), roles=[Role.KOSEKA])
    assert summary.recipients == ["K1"]
    received = harness.api.messages_to(602)[before:]
    # One message of text (no separate one about open problems: there are none), two charts.
    assert [m.kind for m in received] == ["text", "photo", "photo"]
    photos = received[1:]
    titles = ["Kumulatif ruta Tebing Tinggi dan garis ideal",
              "Progres per tim PML, Kecamatan Tebing Tinggi"]
    assert [p.text for p in photos] == titles
    assert all(p.file_bytes and p.file_bytes.startswith(PNG) for p in photos)
    assert [title for title, _ in drawn] == titles
    assert threading.get_ident() not in {thread for _, thread in drawn}  # not on the loop

    again = await jobs.send_digests(services, day=date(2022, 10, 17), roles=[Role.KOSEKA])
    assert (again.sent, again.already) == (0, 1)
    assert len(drawn) == 2  # a digest sent before is not drawn again
    assert len(harness.api.messages_to(602)) == before + 3


async def test_a_chart_that_cannot_be_drawn_fails_its_digest_only(
    harness: Harness, monkeypatch, caplog
) -> None:
    await harness.register("K1", 602)
    admin = harness.api.user(ADMIN_TELEGRAM_ID, first_name="Admin")
    await admin.send("/start")  # a bot may only write to those who started it
    await admin.wait_for(lambda m: "Selamat datang" in text_of(m))
    sizes = {chat: len(harness.api.messages_to(chat)) for chat in (602, ADMIN_TELEGRAM_ID)}
    real = charts.progress_bars

    def broken(title: str, *args: object) -> bytes:
        if "tim PML" in title:
            raise ValueError("no bars today")
        return real(title, *args)

    monkeypatch.setattr(charts, "progress_bars", broken)
    services = services_of(harness.app)
    harness.clock.set(at(17, 21))
    summary = await jobs.send_digests(services, day=date(2022, 10, 17),
                                      roles=[Role.KOSEKA, Role.ADMIN])
    assert (summary.sent, summary.failed) == (1, 1)
    assert summary.recipients == [f"admin-{ADMIN_TELEGRAM_ID}"]
    # Everything up to the chart went out; the rest of the digest waits for an operator.
    assert [m.kind for m in harness.api.messages_to(602)[sizes[602]:]] == ["text", "photo"]
    admin_got = harness.api.messages_to(ADMIN_TELEGRAM_ID)[sizes[ADMIN_TELEGRAM_ID]:]
    assert [m.kind for m in admin_got] == ["text", "photo", "photo"]
    assert await harness.scalar(
        "SELECT status FROM sent_log WHERE kind = 'digest_koseka' AND recipient = 'K1'"
    ) == "failed"
    assert "no bars today" in caplog.text


async def test_sender_makes_the_photos_while_the_texts_before_them_go(harness: Harness) -> None:
    await harness.register("P2", 502)
    before = len(harness.api.messages_to(502))
    seen_at_start: list[int] = []

    async def make() -> bytes:
        seen_at_start.append(len(harness.api.messages_to(502)))
        return await charts.render(charts.ProgressBars("Tim", ("Panji",), (10.0,)))

    sender = Sender(harness.app.bot, per_chat_interval=0)
    results = await sender.send_all([Outgoing(502, "satu"), Outgoing(502, "dua"),
                                     Outgoing(502, "grafik", make_photo=make)])
    assert [r.status for r in results] == [DeliveryStatus.SENT] * 3
    assert seen_at_start == [before]  # started before the first text was sent
    kinds = [(m.kind, m.text) for m in harness.api.messages_to(502)]
    assert kinds[-3:] == [("text", "satu"), ("text", "dua"), ("photo", "grafik")]


def test_reminder_times_come_from_settings(tmp_path) -> None:
    settings = make_settings(tmp_path, reminder_times="07:30,18:00")
    assert settings.reminder_times == [time(7, 30), time(18, 0)]


async def test_send_command_runs_a_job_once_beside_the_running_bot(
    harness: Harness, monkeypatch, capsys
) -> None:
    import asyncio

    from bot.cli import main

    await harness.register("P2", 502)
    await harness.register("M1", 601)
    cli_env(harness, monkeypatch, ADMIN_TELEGRAM_IDS="9001")

    args = ["send", "reminders", "--date", "2022-10-17", "--slot", "16:00"]
    assert await asyncio.to_thread(main, args) == 0
    assert "1 sent, 0 already sent before" in capsys.readouterr().out
    assert await asyncio.to_thread(main, args) == 0  # a second run sends nothing new
    assert "0 sent, 1 already sent before" in capsys.readouterr().out
    assert len(reminders_to(harness, 502)) == 1

    digests = ["send", "digests", "--date", "2022-10-17"]
    assert await asyncio.to_thread(main, digests) == 0
    first = capsys.readouterr().out
    assert await asyncio.to_thread(main, digests) == 0
    assert "0 sent" in capsys.readouterr().out and "0 sent" not in first
    pml_digests = [m for m in harness.api.messages_to(601) if "Ringkasan harian" in text_of(m)]
    assert len(pml_digests) == 1

    # The bot itself still answers on the same database.
    panji = harness.api.user(502)
    await panji.send("/progres")
    await panji.wait_for(lambda m: "Progres Panji PPL" in text_of(m))


# SQLite only: the order of two chats' messages (the Sender's pace, no SQL
# of its own); on a loaded host the PostgreSQL server's share of the CPU decides it instead.
@pytest.mark.parametrize("engine", ["sqlite"])
async def test_digests_of_different_recipients_go_out_side_by_side(harness: Harness) -> None:
    await report_today(await harness.register("P1", 501))  # Mahmud's team
    await report_today(await harness.register("P3", 503))  # Maryam's team
    await harness.register("M1", 601)
    await harness.register("M2", 602)
    services = services_of(harness.app)
    # Each PML gets several messages (digest, review prompt), 5 s apart in one chat: the other
    # PML's first message goes out within those 5 s, however loaded the machine.
    services.sender = Sender(harness.app.bot, per_second=30, per_chat_interval=5.0)
    mark = len(harness.api.requests)

    summary = await jobs.send_digests(services, day=date(2022, 10, 17), roles=[Role.PML])
    assert sorted(summary.recipients) == ["M1", "M2"]
    chats = [int(r.params["chat_id"]) for r in harness.api.requests[mark:]
             if r.method == "sendMessage"]
    assert chats.count(601) == chats.count(602) >= 2
    # The second PML's digest did not wait for the rest of the first one's.
    assert sorted(chats[:2]) == [601, 602]
