"""`make demo`: the bot's main job, offline, in under a minute.

A fresh database under `demo-output/`, a synthetic roster on the real Kepulauan Meranti
wilayah list, the project's local Bot API on 127.0.0.1, the real bot against it, and
simulated officers who register and report for a few days over HTTP. Prints what happened
and writes the export next to the database.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, time as day_time, timedelta
from importlib import resources
from pathlib import Path

from bot import formatting as fmt
from bot.app import build_application, start_application, stop_application
from bot.clock import ManualClock
from bot.demo_roster import AREA_COLUMNS, OFFICER_COLUMNS, build_roster, write_csv
from bot.export import write_export
from bot.local_api import LocalBotApi, SentMessage, SimUser
from bot.progress import group_progress, total_progress
from bot.settings import Settings
from db import wilayah
from db.connection import Database
from db.progress import area_progress
from db.registration import codes_for_unlinked
from db.roster import import_roster

DEMO_DAYS = 3
ADMIN_TELEGRAM_ID = 1_000_001
CONCURRENCY = 40


def _has(fragment: str) -> Callable[[SentMessage], bool]:
    return lambda m: fragment in (m.text or "")


async def _report(user: SimUser, rng: random.Random, households: int) -> bool:
    """One officer's evening report through the fast path; True when the bot confirmed it."""
    families = households + rng.randint(0, 3)
    persons = families * rng.randint(3, 4)
    await user.send(f"/lapor {households} {families} {persons}")
    message = await user.wait_for(lambda m: any(
        key in (m.text or "") for key in ("Pilih SLS", "Ringkasan", "Apakah benar")), timeout=30)
    if "Apakah benar" in (message.text or ""):
        await user.press(message, "Ya, benar")
        message = await user.wait_for(lambda m: any(
            key in (m.text or "") for key in ("Pilih SLS", "Ringkasan")), timeout=30)
    if "Pilih SLS" in (message.text or ""):
        await user.press(message, rng.choice(message.buttons()).callback_data or "")
        message = await user.wait_for(_has("Ringkasan"), timeout=30)
    await user.press(message, "Kirim")
    await user.wait_for(_has("Laporan tersimpan"), timeout=30)
    return True


async def _stepwise_report(user: SimUser) -> None:
    """A full step-by-step report, with one typing mistake on the way."""
    await user.send("/lapor")
    await user.press(await user.wait_for(_has("tanggal berapa"), timeout=30), "Hari ini")
    question = await user.wait_for(lambda m: "Pilih SLS" in (m.text or "") or "Rumah tangga"
                                   in (m.text or ""), timeout=30)
    if "Pilih SLS" in (question.text or ""):
        await user.press(question, question.buttons()[0].callback_data or "")
        await user.wait_for(_has("Rumah tangga"), timeout=30)
    await user.send("sembilan")
    await user.wait_for(_has("angka bulat"), timeout=30)
    for value in ("9", "10", "37"):
        await user.send(value)
        await user.next_message(timeout=30)
    await user.send("Dua ruta tidak di rumah, kembali besok")
    await user.press(await user.wait_for(_has("Ringkasan"), timeout=30), "Kirim")
    await user.wait_for(_has("Laporan tersimpan"), timeout=30)


async def _gather(jobs: list[Callable[[], Awaitable[object]]]) -> list[object]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def run(job: Callable[[], Awaitable[object]]) -> object:
        async with gate:
            return await job()

    return await asyncio.gather(*(run(job) for job in jobs))


async def run_demo(out: Path) -> int:
    started = time.monotonic()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "regsosek.db"
    for stale in out.glob("regsosek.db*"):
        stale.unlink()
    rng = random.Random(17)

    desa = wilayah.parse_wilayah_csv(resources.files("db").joinpath("data/meranti_wilayah.csv"))[1]
    officers, areas = build_roster(desa)
    write_csv(out / "roster_officers.csv", OFFICER_COLUMNS, officers)
    write_csv(out / "roster_areas.csv", AREA_COLUMNS, areas)

    async with LocalBotApi() as api:
        settings = Settings(
            _env_file=None,
            telegram_bot_token=api.token,
            telegram_api_base_url=api.base_url,
            telegram_api_base_file_url=api.base_file_url,
            database_path=db_path,
            admin_telegram_ids=[ADMIN_TELEGRAM_ID],
            # Telegram allows about 30 messages/s; the local API has no such limit.
            messages_per_second=1000,
        )
        clock = ManualClock(datetime.combine(settings.period_start, day_time(7, 0), settings.tz))
        db = Database(db_path)
        await db.open()
        await wilayah.ensure_default_wilayah(db)
        result = await import_roster(db, out / "roster_officers.csv", out / "roster_areas.csv",
                                     now=clock.now())
        async with db.transaction() as conn:
            codes = {c.officer_id: c.code for c in await codes_for_unlinked(conn, clock.now())}
        await db.close()
        print(f"Roster: {result.summary()}")

        app = build_application(settings, clock=clock)
        await start_application(app, poll_timeout=1)
        try:
            stats = await _simulate(api, clock, officers, codes, rng)
            admin = api.user(ADMIN_TELEGRAM_ID, first_name="Admin")
            await admin.send("/progres")
            progress_message = await admin.wait_for(_has("Progres Kabupaten"), timeout=30)
        finally:
            await stop_application(app)

    db = Database(db_path)
    await db.open()
    try:
        await _print_table(db, stats)
        export_path = out / "laporan.csv"
        count = await write_export(db.conn, export_path)
        await write_export(db.conn, out / "laporan.xlsx", fmt="xlsx")
    finally:
        await db.close()
    print("\nWhat the admin sees after /progres:\n" + (progress_message.text or ""))
    print(f"\nExport: {count} reports in {export_path} (and laporan.xlsx); roster files and "
          f"the database are in {out}/.")
    print(f"Demo finished in {time.monotonic() - started:.1f} s: {len(api.requests)} Bot API "
          f"requests over HTTP.")
    return 0


async def _simulate(
    api: LocalBotApi, clock: ManualClock, officers: list[dict], codes: dict[str, str],
    rng: random.Random,
) -> dict[str, int]:
    users: dict[str, SimUser] = {}
    by_phone = [o for o in officers if o["role"] == "PPL"][:5]

    async def register(index: int, officer: dict) -> None:
        user = api.user(2_000_000 + index, first_name=officer["name"].split()[0])
        if officer in by_phone:  # some share their phone number instead of using the link
            await user.send("/start")
            await user.wait_for(_has("belum terdaftar"), timeout=30)
            await user.send_contact(officer["phone"])
        else:
            await user.send(f"/start {codes[officer['officer_id']]}")
        await user.wait_for(_has("Selamat datang"), timeout=30)
        users[officer["officer_id"]] = user

    registering = [o for o in officers if o["role"] != "ADMIN" and rng.random() < 0.97]
    await _gather([lambda i=i, o=o: register(i, o) for i, o in enumerate(registering)])
    stats = {"registered": len(users), "reports": 0}
    print(f"Registered: {len(users)} of {len(officers) - 1} officers "
          f"({len(by_phone)} by sharing their phone number)")

    ppl = [o["officer_id"] for o in officers if o["role"] == "PPL" and o["officer_id"] in users]
    for day in range(DEMO_DAYS):
        clock.set(datetime.combine(clock.today(), day_time(19, 0), clock.tz)
                  + timedelta(days=1 if day else 0))
        reporting = [oid for oid in ppl if rng.random() < 0.9]
        stepwise, fast = reporting[:3], reporting[3:]
        await _gather([lambda u=users[oid]: _stepwise_report(u) for oid in stepwise]
                      + [lambda u=users[oid]: _report(u, rng, rng.randint(4, 14)) for oid in fast])
        stats["reports"] += len(reporting)
        print(f"{fmt.day(clock.today())}: {len(reporting)} of {len(ppl)} registered PPL reported")
    return stats


async def _print_table(db: Database, stats: dict[str, int]) -> None:
    rows = await area_progress(db.conn)
    names = {k.code: k.name for k in await wilayah.list_kecamatan(db.conn)}
    lines = group_progress(rows, lambda r: r.kecamatan_code, lambda k: names.get(k, k))
    print(f"\n{'Kecamatan':<22}{'Ruta':>8}{'Target':>9}{'Progres':>9}")
    for line in [*lines, total_progress(rows)]:
        print(f"{line.label:<22}{fmt.number(line.done):>8}{fmt.number(line.target):>9}"
              f"{fmt.percent(line.done, line.target):>9}")
    print(f"\n{stats['registered']} officers registered, {stats['reports']} reports confirmed.")
