"""Indonesia's three time zones: each officer's day and hours are those of their zone.

The roster here is the shared test roster (Kepulauan Meranti, Riau: WIB) plus a team in Kota
Jayapura, Papua (WIT, two hours ahead): KOSEKA K9, PML M9 and PPL P9."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import jobs
from bot.app import services_of
from bot.clock import ManualClock
from bot.localapi import LocalBotApi
from bot.present.digests import iter_digests
from bot.rules.calendar import Coverage, coverage, zone_days
from db.bots import Scope
from db.digest_queries import Shard
from db.models import Officer, Role
from tests.support import (
    AREAS_CSV,
    OFFICERS_CSV,
    Harness,
    cli_env,
    running_harness,
    text_of,
    write_announcement,
)

OFFICERS = OFFICERS_CSV + """K9,Yohana Koseka,KOSEKA,,081200000092,91.71.01,
M9,Markus PML,PML,K9,081200000093,91.71.01,
P9,Petrus PPL,PPL,M9,081200000094,91.71.01,91.71.01.1001
"""
AREAS = AREAS_CSV + "P9,9171011001001,RT 001 Gurabesi,91.71.01.1001,50\n"


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2022, 10, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    # 22:30 WIB on Monday 17 Oct in Riau is already 00:30 WIT on Tuesday 18 Oct in Papua.
    return ManualClock(utc(17, 15, 30).astimezone(jobs.INDONESIA[0]))


@pytest.fixture
async def harness(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock, database: Path | str
) -> AsyncIterator[Harness]:
    async with running_harness(api, tmp_path, clock, roster=(OFFICERS, AREAS),
                               database=database) as h:
        yield h


async def report_fast(harness: Harness, officer_id: str, user_id: int) -> str:
    """`/lapor 5 6 20` sent and confirmed; the summary's text."""
    officer = await harness.register(officer_id, user_id)
    await officer.send("/lapor 5 6 20")
    summary = await officer.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    await officer.press(summary, "Kirim")
    await officer.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    return summary.text or ""


async def test_the_same_fast_report_is_filed_on_each_officers_own_day(harness: Harness) -> None:
    meranti = await report_fast(harness, "P2", 502)
    papua = await report_fast(harness, "P9", 509)
    assert "Senin, 17 Okt 2022" in meranti
    assert "Selasa, 18 Okt 2022" in papua
    days = await harness.db.conn.execute_fetchall(
        "SELECT officer_id, report_date, late FROM reports ORDER BY officer_id")
    assert [tuple(row) for row in days] == [("P2", "2022-10-17", 0), ("P9", "2022-10-18", 0)]


async def test_a_day_off_is_taken_on_the_officers_own_day(harness: Harness) -> None:
    petrus = await harness.register("P9", 509)
    await petrus.send("/izin")
    ask = await petrus.wait_for(lambda m: bool(m.buttons()))
    assert "Selasa, 18 Okt 2022" in ask.text  # his today is Tuesday
    await petrus.press(ask, "Sakit")
    await petrus.wait_for(lambda m: "Selasa, 18 Okt 2022" in text_of(m) and m is not ask)
    assert await harness.scalar("SELECT day FROM days_off WHERE officer_id = 'P9'") == (
        "2022-10-18")


async def test_reminders_go_out_at_the_local_hour_of_each_zone(harness: Harness) -> None:
    services = services_of(harness.app)
    await harness.register("P2", 502)
    await harness.register("P9", 509)
    # 16:00 WIT is 07:00 UTC, two hours before 16:00 WIB.
    harness.clock.set(utc(17, 7, 0))
    due = jobs.due_slots(services, harness.clock.now())
    assert [s.name for s in due if s.kind == jobs.REMINDER] == ["reminder-16:00@Asia/Jayapura"]
    (papua,) = [await jobs.run_slot(services, slot, jobs.local_day(services, slot.zone))
                for slot in due]
    assert papua.recipients == ["P9"]

    harness.clock.set(utc(17, 9, 0))  # 16:00 WIB (and 17:00 WITA, within the grace window)
    due = {s.name: s for s in jobs.due_slots(services, harness.clock.now())}
    assert {"reminder-16:00", "reminder-16:00@Asia/Makassar"} <= set(due)
    assert "reminder-16:00@Asia/Jayapura" not in due  # its hour was two hours ago
    slot = due["reminder-16:00"]
    riau = await jobs.run_slot(services, slot, jobs.local_day(services, slot.zone))
    assert riau.recipients == ["P2"]
    again = await jobs.run_slot(services, due["reminder-16:00@Asia/Makassar"], date(2022, 10, 17))
    assert again.recipients == []  # nobody lives in WITA


async def test_the_daily_jobs_are_scheduled_at_each_zones_local_time(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock, database: Path | str
) -> None:
    async with running_harness(api, tmp_path, clock, roster=(OFFICERS, AREAS),
                               database=database, schedule_jobs=True) as harness:
        queue = harness.app.job_queue
        assert queue is not None

        def utc_time(name: str) -> time:
            (job,) = queue.get_jobs_by_name(name)
            assert job.next_t is not None
            return job.next_t.astimezone(UTC).time()

        assert utc_time("reminder-16:00") == time(9, 0)
        assert utc_time("reminder-16:00@Asia/Makassar") == time(8, 0)
        assert utc_time("reminder-16:00@Asia/Jayapura") == time(7, 0)
        assert utc_time("digest-koseka@Asia/Jayapura") == time(12, 0)  # 21:00 WIT


async def test_a_koseka_in_papua_gets_the_digest_at_21_wit(harness: Harness) -> None:
    services = services_of(harness.app)
    await harness.register("K1", 701)
    yohana = await harness.register("K9", 709)
    harness.clock.set(utc(17, 12, 0))  # 21:00 WIT, 19:00 WIB
    due = [s for s in jobs.due_slots(services, harness.clock.now()) if s.role is not None]
    assert [s.name for s in due] == ["digest-pml@Asia/Jayapura", "digest-koseka@Asia/Jayapura"]
    summaries = [await jobs.run_slot(services, slot, jobs.local_day(services, slot.zone))
                 for slot in due]
    assert [s.recipients for s in summaries] == [[], ["K9"]]
    digest = await yohana.wait_for(lambda m: "Ringkasan harian Kecamatan" in text_of(m))
    assert digest.text.split("\n")[:2] == [
        "Ringkasan harian Kecamatan Jayapura Utara",
        "KOSEKA Yohana Koseka · Senin, 17 Okt 2022 · data pukul 21.00 WIT"]
    # Kartini's is at 21:00 WIB, two hours later.
    assert not any("Ringkasan harian" in text_of(m) for m in harness.api.messages_to(701))


async def test_a_wit_sender_schedules_at_their_own_time(harness: Harness) -> None:
    harness.clock.set(utc(17, 9, 0))  # 16:00 WIB, 18:00 WIT
    markus = await harness.register("M9", 609)
    await harness.register("P9", 509)
    await markus.send("/umumkan")
    await markus.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
    preview = await write_announcement(markus, "Rapat malam ini")
    await markus.press(preview, "Jadwalkan")
    await markus.wait_for(lambda m: "Kapan dikirim" in text_of(m))
    await markus.send("19:30")
    preview = await markus.wait_for(lambda m: "Pratinjau pengumuman" in text_of(m))
    assert "Dikirim: Senin, 17 Okt 2022 pukul 19.30 WIT" in preview.text
    await markus.press(preview, "Kirim")
    report = await markus.wait_for(lambda m: "Status pengiriman pengumuman" in text_of(m))
    assert "Dijadwalkan Senin, 17 Okt 2022 pukul 19.30 WIT" in report.text
    assert await harness.scalar("SELECT send_at FROM broadcasts") == (
        "2022-10-17T10:30:00.000000+00:00")  # 19:30 WIT, not 19:30 WIB (12:30 UTC)


async def test_a_digest_across_zones_says_which_part_of_the_day_each_zone_had(
    harness: Harness
) -> None:
    services = services_of(harness.app)
    admin = await harness.register("A1", 801)  # an admin of the roster: TIMEZONE (WIB)
    # 22:30 WIB on Monday: Monday is over in Papua (00:30 WIT on Tuesday).
    summary = await jobs.send_digests(services, day=date(2022, 10, 17), roles=[Role.ADMIN],
                                      zone=jobs.INDONESIA[0])
    assert summary.recipients == ["A1"]
    digest = await admin.wait_for(lambda m: "Ringkasan harian" in text_of(m))
    lines = digest.text.split("\n")
    assert lines[:3] == [
        "Ringkasan harian Indonesia",  # Riau and Papua: the digest of several provinces
        "Senin, 17 Okt 2022 · data pukul 22.30 WIB",
        "Hari Senin, 17 Okt 2022 per zona waktu: s.d. 22.30 WIB · WIT sehari penuh",
    ]
    # Listed per province, Papua's 50 households to do apart from Riau's 460.
    assert lines[4].startswith("Total nasional: 0/510 (0,0%)")
    first = lines.index("Per provinsi, paling lambat dulu")
    assert [line.split(":")[0] for line in lines[first + 1 : first + 5 : 2]] == ["Papua", "Riau"]
    assert lines[first + 1].startswith("Papua: 0/50 ")
    assert lines[-1] == "Per provinsi: Riau 4, Papua 1"


async def test_an_admin_of_riau_and_papua_sees_progress_and_exports_of_indonesia(
    harness: Harness
) -> None:
    """/progres and /ekspor name the area the roster spans, and list it per province."""
    await report_fast(harness, "P9", 509)  # Petrus in Jayapura: 5 households
    admin = await harness.register("A1", 801)
    await admin.send("/progres")
    progress = await admin.wait_for(lambda m: "Progres " in text_of(m))
    lines = progress.text.split("\n")
    assert lines[0] == "Progres Indonesia"
    assert [line for line in lines if line.startswith(("Riau", "Papua"))] == [
        "Papua: 5/50 (10,0%)", "Riau: 0/460 (0,0%)"]
    await admin.send("/ekspor")
    document = await admin.wait_for(lambda m: m.kind == "document")
    assert document.file_name == "regsosek_nasional_2022-10-17.xlsx"
    assert (document.text or "").startswith("Data laporan Indonesia sampai ")


async def test_the_send_command_reminds_each_officer_of_their_own_day(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from bot.cli import main

    await harness.register("P1", 501)  # Meranti: still Monday 17 Okt, 22.30 WIB
    await harness.register("P9", 509)  # Jayapura: already Tuesday 18 Okt, 00.30 WIT
    cli_env(harness, monkeypatch, REHEARSAL_START=utc(17, 15, 30).isoformat())  # its clock
    assert await asyncio.to_thread(main, ["send", "reminders", "--slot", "16:00"]) == 0
    assert "reminders 2022-10-17, 2022-10-18: 2 sent" in capsys.readouterr().out
    [monday] = [text_of(m) for m in harness.api.messages_to(501) if "Senin" in text_of(m)]
    [tuesday] = [text_of(m) for m in harness.api.messages_to(509) if "Selasa" in text_of(m)]
    assert "Senin, 17 Okt 2022" in monday and "Selasa, 18 Okt 2022" in tuesday


async def test_a_zones_digest_run_reads_only_the_kecamatan_it_serves(harness: Harness) -> None:
    services = services_of(harness.app)
    await harness.register("A1", 801)
    await harness.register("M9", 609)
    wit = jobs.INDONESIA[2]

    async def run(roles: list[Role], zone: ZoneInfo,
                  scope: Scope = Scope()) -> tuple[list[list[str]], list[str]]:
        read: list[Shard | None] = []
        built = [d.recipient.officer_id async for batch in iter_digests(
            services.db.conn, day=date(2022, 10, 17), settings=services.settings,
            form=services.form, texts=services.texts, roles=roles, shard_officers=1,
            wanted=partial(jobs.serves, services.settings.tz, zone),
            zone_wanted=partial(jobs.serves_zone, services.settings.tz, zone),
            kecamatan_wanted=None if scope.everything else scope.covers,
            on_read=read.append) for d in batch]
        return [list(s.kecamatan) for s in read if s is not None], built

    # The PML digests of Papua's evening: Jayapura's kecamatan only, not Riau's.
    assert await run([Role.PML], wit) == ([["91.71.01"]], ["M9"])
    # A bot of Riau's (BOT_SCOPE=14) in WIB: Riau's kecamatan only.
    read, _built = await run([Role.PML], jobs.INDONESIA[0], Scope("riau_bot", ("14",)))
    assert read == [["14.10.01"], ["14.10.05"]]
    # No admin lives in WIT: the admin digest's run there reads nothing.
    assert await run([Role.ADMIN], wit) == ([], [])
    # The admin in WIB: every shard, for the sums of the whole area.
    read, built = await run([Role.ADMIN], jobs.INDONESIA[0])
    assert built == ["A1", "admin-9001"] and ["91.71.01"] in read and ["14.10.01"] in read


def test_how_much_of_a_day_each_zone_has_had() -> None:
    wib, wita, wit = jobs.INDONESIA
    monday = date(2022, 10, 17)
    parts = zone_days(monday, utc(17, 14, 30), [wit, wib, wita])  # 21:30 WIB
    assert [(f"{m:%H:%M %Z}", c) for m, c in parts] == [
        ("21:30 WIB", Coverage.SO_FAR), ("22:30 WITA", Coverage.SO_FAR),
        ("23:30 WIT", Coverage.SO_FAR)]
    assert coverage(monday, utc(17, 15, 30).astimezone(wit)) is Coverage.WHOLE
    assert coverage(monday, utc(16, 16, 30).astimezone(wib)) is Coverage.NOT_YET  # 23:30 Sun


def test_each_officer_is_served_by_one_slot_of_the_day() -> None:
    wib, wita, wit = jobs.INDONESIA
    singapore = ZoneInfo("Asia/Singapore")

    def officer(zone: str | None) -> Officer:
        return Officer(officer_id="X", name="X", role=Role.PPL, timezone=zone)

    people = [officer(None), officer(wib.key), officer(wita.key), officer(wit.key),
              officer(singapore.key)]
    for default in (wib, wit, singapore):
        slot_zones = jobs.zones(default)
        assert slot_zones[0] is default and len({z.key for z in slot_zones}) == len(slot_zones)
        for person in people:
            serving = [z.key for z in slot_zones if jobs.serves(default, z, person)]
            mine = person.zone(default).key
            # Its own zone's slot, or TIMEZONE's for a zone without one of its own.
            assert serving == [mine if mine in {z.key for z in slot_zones} else default.key]
        assert all(jobs.serves(default, None, person) for person in people)
