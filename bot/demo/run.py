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
import shutil
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from datetime import time as day_time
from importlib import resources
from pathlib import Path

from bot import jobs
from bot.app import build_application, services_of, start_application, stop_application
from bot.clock import ManualClock
from bot.demo.roster import AREA_COLUMNS, OFFICER_COLUMNS, build_roster, write_csv
from bot.localapi import LocalBotApi, SentMessage, SimUser
from bot.messaging.services import Services
from bot.present import formatting as fmt
from bot.present.export import write_export
from bot.present.roster import import_summary
from bot.rules.progress import group_progress, total_progress
from bot.settings import Settings
from db import wilayah
from db.connection import Database
from db.models import Role
from db.progress import kecamatan_progress
from db.registration import codes_for_unlinked
from db.roster import import_roster

DEMO_DAYS = 3
ADMIN_TELEGRAM_ID = 1_000_001
CONCURRENCY = 8


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


async def _open_report(user: SimUser) -> None:
    """/lapor (today's report) and the first SLS when asked: up to the first number."""
    await user.send("/lapor")
    question = await user.wait_for(lambda m: "Pilih SLS" in (m.text or "") or "Berapa ruta"
                                   in (m.text or ""), timeout=30)
    if "Pilih SLS" in (question.text or ""):
        await user.press(question, question.buttons()[0].callback_data or "")
        await user.wait_for(_has("Berapa ruta"), timeout=30)


async def _stepwise_report(user: SimUser) -> None:
    """A full step-by-step report with a note, and one typing mistake on the way."""
    await _open_report(user)
    await user.send("sembilan")
    await user.wait_for(_has("angka bulat"), timeout=30)
    for value in ("9", "10", "37"):
        await user.send(value)
    await user.press(await user.wait_for(_has("Ringkasan"), timeout=30), "➕ Catatan")
    await user.wait_for(_has("catatan singkat"), timeout=30)
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
    for stale in [*out.glob("regsosek.db*"), *out.glob("chart_*.png")]:
        if stale.is_dir():  # the folder of the run marks (regsosek.db-runs)
            shutil.rmtree(stale)
        else:
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
            database_url=None,  # its own SQLite file, whatever DATABASE_URL the shell has
            admin_telegram_ids=[ADMIN_TELEGRAM_ID],
            # Telegram allows about 30 messages/s and 1/s per chat; the local API has no limit.
            messages_per_second=1000,
            chat_message_interval=0,
            # The demo's clock stands still between its scenes, and its simulated officers
            # answer at once: many updates of one chat in "the same second" are no flood here.
            chat_updates_per_second=0,
            broadcast_rate_per_second=500,
            broadcast_paid=True,  # above 30/s: paid broadcasts (the local API has no limit)
            broadcast_report_interval=0.5,
            schedule_jobs=False,  # the demo runs each job itself, on its own clock
        )
        clock = ManualClock(datetime.combine(settings.period_start, day_time(7, 0), settings.tz))
        api.clock = clock  # the officers' messages are dated by the demo's clock
        db = Database(db_path)
        await db.open()
        await wilayah.ensure_default_wilayah(db)
        result = await import_roster(db, out / "roster_officers.csv", out / "roster_areas.csv",
                                     now=clock.now())
        async with db.transaction() as conn:
            codes = {c.officer_id: c.code for c in await codes_for_unlinked(conn, clock.now())}
        await db.close()
        print(f"Roster: {import_summary(result)}")

        app = build_application(settings, clock=clock)
        await start_application(app, poll_timeout=1)
        try:
            stats = await _simulate(api, services_of(app), officers, codes, rng)
            admin = api.user(ADMIN_TELEGRAM_ID, first_name="Admin")
            await admin.send("/progres")
            await admin.wait_for(_has("Progres Kabupaten"), timeout=30)
        finally:
            await stop_application(app)
        _show_digests(api, officers, stats, out)

    db = Database(db_path)
    await db.open()
    try:
        await _print_table(db, stats)
        export_path = out / "laporan.csv"
        count = await write_export(db.conn, export_path)
        await write_export(db.conn, out / "laporan.xlsx", fmt="xlsx")
    finally:
        await db.close()
    print(f"\nField problem of the first day, as the PML saw it:\n{stats['problem']}")
    print(f"\nThe PML's review of the last evening, from the digest:\n{stats['review']}")
    print(f"\nA PPL on the last evening, when something unexpected happens:\n{stats['field']}")
    print(f"\nAnnouncement of the last evening, the admin's delivery report and list:\n"
          f"{stats['broadcast']}")
    print(f"\nExport: {count} reports in {export_path} (and laporan.xlsx); roster files, charts "
          f"and the database are in {out}/.")
    print(f"Demo finished in {time.monotonic() - started:.1f} s: {len(api.requests)} Bot API "
          f"requests over HTTP.")
    return 0


def _show_digests(api: LocalBotApi, officers: list[dict], stats: dict, out: Path) -> None:
    """Print one digest of each kind as its recipient got it, and save the charts."""
    users: dict[str, SimUser] = stats["users"]
    print(f"\nDigests sent: {stats['digests_PML']} PML, {stats['digests_KOSEKA']} KOSEKA, "
          f"{stats['digests_ADMIN']} admin.")
    first_pml = next(o["officer_id"] for o in officers if o["role"] == "PML"
                     and o["officer_id"] in users)
    first_koseka = next(o["officer_id"] for o in officers if o["role"] == "KOSEKA"
                        and o["officer_id"] in users)
    chats = [("PML", users[first_pml].chat_id), ("KOSEKA", users[first_koseka].chat_id),
             ("admin", ADMIN_TELEGRAM_ID)]
    for label, chat_id in chats:
        received = api.messages_to(chat_id)[:stats["received"][chat_id]]
        start = max(i for i, m in enumerate(received)
                    if (m.text or "").startswith("Ringkasan harian"))
        texts = [m.text or "" for m in received[start:] if m.kind == "text"]
        lines = "\n".join(texts).splitlines()
        shown = lines[:40] + ([f"... ({len(lines) - 40} more lines)"] if len(lines) > 40 else [])
        print(f"\n--- {label} digest ---\n" + "\n".join(shown))
        for n, photo in enumerate(m for m in received[start:] if m.kind == "photo"):
            path = out / f"chart_{label.lower()}_{n + 1}.png"
            path.write_bytes(photo.file_bytes or b"")
            print(f"[chart saved: {path}]")


async def _simulate(
    api: LocalBotApi, services: Services, officers: list[dict], codes: dict[str, str],
    rng: random.Random,
) -> dict[str, int]:
    clock = services.clock
    assert isinstance(clock, ManualClock)
    users: dict[str, SimUser] = {}
    by_phone = [o for o in officers if o["role"] == "PPL"][:5]

    async def register(index: int, officer: dict) -> None:
        user = api.user(2_000_000 + index, first_name=officer["name"].split()[0])
        if officer in by_phone:  # some share their phone number instead of using the link
            await user.send("/start")
            await user.wait_for(_has("belum terhubung"), timeout=30)
            await user.send_contact(officer["phone"])
        else:
            await user.send(f"/start {codes[officer['officer_id']]}")
        await user.wait_for(_has("Selamat datang"), timeout=30)
        users[officer["officer_id"]] = user

    admin = api.user(ADMIN_TELEGRAM_ID, first_name="Admin")
    await admin.send("/start")  # a bot may only write to those who started it
    await admin.wait_for(_has("Selamat datang"), timeout=30)
    registering = [o for o in officers if o["role"] != "ADMIN" and rng.random() < 0.97]
    await _gather([lambda i=i, o=o: register(i, o) for i, o in enumerate(registering)])
    stats = {"registered": len(users), "reports": 0}
    print(f"Registered: {len(users)} of {len(officers) - 1} officers "
          f"({len(by_phone)} by sharing their phone number)")

    ppl = [o["officer_id"] for o in officers if o["role"] == "PPL" and o["officer_id"] in users]
    supervisor = {o["officer_id"]: o["supervisor_id"] for o in officers}
    print(f"\n{'Day':<20}{'by 16:00':>9}{'reminded':>9}{'by 19:00':>9}{'reminded':>9}"
          f"{'late':>6}{'total':>7}")
    reported_before: set[str] = set(ppl)  # who reported the day before
    for day in range(DEMO_DAYS):
        today = services.settings.period_start + timedelta(days=day)
        at = lambda hour, minute=0: datetime.combine(today, day_time(hour, minute), clock.tz)  # noqa: E731
        reporting = [oid for oid in ppl if rng.random() < 0.93]
        early, late = reporting[: len(reporting) * 2 // 3], reporting[len(reporting) * 2 // 3:]
        clock.set(at(15))
        stepwise = early[:3] if day == 0 else []
        await _gather([lambda u=users[oid]: _stepwise_report(u) for oid in stepwise]
                      + [lambda u=users[oid]: _report(u, rng, rng.randint(4, 14))
                         for oid in early[len(stepwise):]])
        clock.set(at(16))
        first = await jobs.send_reminders(services, day=today, slot="16:00")
        clock.set(at(18, 30))
        await _gather([lambda u=users[oid]: _report(u, rng, rng.randint(4, 14)) for oid in late])
        clock.set(at(19))
        second = await jobs.send_reminders(services, day=today, slot="19:00")
        catch_up = 0
        # A few who forgot yesterday catch up today, flagged as late.
        forgot = [oid for oid in ppl if oid not in reported_before][:5]
        if forgot:
            await _gather([lambda u=users[oid]: _late_report(u) for oid in forgot])
            catch_up = len(forgot)
        reported_before = set(reporting)
        stats["reports"] += len(reporting) + catch_up
        print(f"{fmt.day(today):<20}{len(early):>9}{first.sent:>9}{len(reporting):>9}"
              f"{second.sent:>9}{catch_up:>6}{len(reporting) + catch_up:>7}")
        if day == 0:
            stats["problem"] = await _problem_story(users, supervisor, ppl)
        if day == DEMO_DAYS - 1:
            clock.set(at(20))
            stats["broadcast"] = await _broadcast_story(admin, users, rng)
    clock.set(datetime.combine(clock.today(), day_time(20, 30), clock.tz))
    for role in (Role.PML, Role.KOSEKA, Role.ADMIN):
        summary = await jobs.send_digests(services, day=clock.today(), roles=[role])
        stats[f"digests_{role.value}"] = summary.sent
    stats["users"] = users  # type: ignore[assignment]
    # The digests are shown as they were received, before the evening's scenes below.
    stats["received"] = {u.chat_id: len(api.messages_to(u.chat_id))  # type: ignore[assignment]
                         for u in [*users.values(), admin]}
    clock.set(datetime.combine(clock.today(), day_time(20, 45), clock.tz))
    pml_id = next(o["officer_id"] for o in officers
                  if o["role"] == "PML" and o["officer_id"] in users)
    team = [oid for oid in ppl if supervisor[oid] == pml_id]
    stats["review"] = await _review_story(users[pml_id], [users[oid] for oid in team])
    stats["field"] = await _field_story(users[team[0]])
    return stats


def _shown(message: SentMessage) -> str:
    """A message as the demo prints it: its text, then its buttons."""
    buttons = " | ".join(b.text for b in message.buttons())
    return (message.text or "") + (f"\n[{buttons}]" if buttons else "")


async def _review_story(pml: SimUser, team: list[SimUser]) -> str:
    """The PML returns one report of the digest's review with a reason, then approves all the
    others in two taps: "Setujui semua", then "Ya" on the confirmation."""
    review = next(m for m in reversed(pml.inbox) if "perlu ditinjau" in (m.text or ""))
    lines = [f"(buttons of the review message) [{' | '.join(b.text for b in review.buttons())}]"]
    await pml.press(review, "↩️ 1")
    lines.append("→ ↩️ 1: " + ((await pml.wait_for(_has("alasan pengembalian"), timeout=30)).text
                               or ""))
    await pml.send("Jumlah jiwa perlu dicek lagi")
    lines.append("→ " + (await pml.wait_for(_has("dikembalikan"), timeout=30)).text)
    returned = await _any_of(team, "dikembalikan oleh")
    lines.append(f"(the PPL reads) {returned}")
    if len(review.buttons()) > 2:  # "Setujui semua" is offered for two reports or more
        version = review.version
        await pml.press(review, "✅ Setujui semua")
        await pml.wait_edit(review, since_version=version, timeout=30)
        lines.append(f"→ ✅ Setujui semua: [{' | '.join(b.text for b in review.buttons())}]")
        yes = next(b.text for b in review.buttons() if b.text.startswith("✅ Ya"))
        await pml.press(review, yes)
        lines.append(f"→ {yes}: " + ((await pml.wait_for(_has("laporan disetujui"), timeout=30))
                                     .text or ""))
    return "\n".join(lines)


async def _any_of(users: list[SimUser], fragment: str) -> str:
    """The first message containing `fragment` that one of `users` received."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for user in users:
            for message in user.inbox:
                if fragment in (message.text or ""):
                    return message.text or ""
        await asyncio.sleep(0.05)
    return "-"


async def _field_story(user: SimUser) -> str:
    """What a PPL reads when something unexpected happens: bare numbers, a sticker, a broken
    cross-field rule corrected on the other number, a second report of the day (it replaces
    the first), and a day off saved with one tap."""
    out = []
    await user.send("12 14 51")
    out.append("(bare numbers) " + ((await user.wait_for(_has("belum tersimpan"), timeout=30))
                                    .text or ""))
    await user.send_sticker()
    out.append("(a sticker) " + ((await user.wait_for(_has("stiker"), timeout=30)).text or ""))
    await _open_report(user)
    for value in ("9", "14", "13"):  # fewer persons than families
        await user.send(value)
    broken = await user.wait_for(_has("lebih kecil"), timeout=30)
    out.append("(guided: 9, 14, 13) " + _shown(broken))
    fix = next(b.text for b in broken.buttons() if "keluarga" in b.text)
    await user.press(broken, fix)
    await user.wait_for(_has("Berapa keluarga"), timeout=30)
    await user.send("10")
    summary = await user.wait_for(_has("Ringkasan"), timeout=30)
    out.append(f"→ {fix}, 10: " + _shown(summary))
    await user.press(summary, "Kirim")  # "Kirim (ganti)" when it replaces the first
    saved = await user.wait_for(lambda m: "diperbarui" in (m.text or "")
                                or "Laporan tersimpan" in (m.text or ""), timeout=30)
    out.append("→ Kirim: " + "\n".join((saved.text or "").splitlines()[-2:]))
    # The evening's remainder sent as a second report of the day: it replaces the first.
    await user.send("/lapor 3 3 12")
    second = await user.wait_for(lambda m: "Pilih SLS" in (m.text or "")
                                 or "Ringkasan" in (m.text or ""), timeout=30)
    if "Pilih SLS" in (second.text or ""):
        await user.press(second, second.buttons()[0].callback_data or "")
        second = await user.wait_for(_has("Ringkasan"), timeout=30)
    out.append("(/lapor 3 3 12, the same day and SLS) " + _shown(second))
    await user.press(second, "Batal")
    await user.wait_for(_has("Dibatalkan"), timeout=30)
    await user.send("/izin")
    await user.press(await user.wait_for(_has("alasannya"), timeout=30), "Sakit")
    out.append("(/izin, Sakit) " + _shown(await user.wait_for(_has("Izin tercatat"), timeout=30)))
    return "\n\n".join(out)


async def _late_report(user: SimUser) -> None:
    """Yesterday's report, sent today (a late catch-up)."""
    await _open_report(user)
    await user.send("6")
    await user.wait_for(_has("Berapa keluarga"), timeout=30)
    await user.send("6")
    await user.wait_for(_has("Berapa jiwa"), timeout=30)
    await user.send("22")
    await user.press(await user.wait_for(_has("Ringkasan"), timeout=30), "Ubah tanggal")
    await user.press(await user.wait_for(_has("tanggal berapa"), timeout=30), "Kemarin")
    await user.press(await user.wait_for(_has("(susulan)"), timeout=30), "Kirim")
    await user.wait_for(_has("Laporan tersimpan"), timeout=30)


async def _broadcast_story(admin: SimUser, users: dict[str, SimUser], rng: random.Random) -> str:
    """The admin announces a corrected rule to everyone; most officers tap "Sudah dibaca"."""
    await admin.send("/umumkan")
    await admin.press(await admin.wait_for(_has("Untuk siapa"), timeout=30), "Semua petugas")
    await admin.wait_for(_has("Tulis teks pengumuman"), timeout=30)
    await admin.send("Mulai besok, ruta yang menolak diwawancarai dicatat sebagai kendala "
                     "dengan /kendala, bukan di catatan laporan harian. Terima kasih.")
    await admin.press(await admin.wait_for(_has("Pratinjau pengumuman"), timeout=30),
                      "Kirim sekarang")
    report = await admin.wait_for(_has("Status pengiriman pengumuman"), timeout=30)

    readers = [u for u in users.values() if rng.random() < 0.8]

    async def read(user: SimUser) -> None:
        announcement = await user.wait_for(_has("Pengumuman dari"), timeout=60)
        await user.wait_answer(await user.press(announcement, "Sudah dibaca"), timeout=30)

    await _gather([lambda u=u: read(u) for u in readers])
    final = await _until(lambda: report.text or "", f"Dibaca {fmt.number(len(readers))}")
    await admin.send("/pengumuman")
    listing = await admin.wait_for(_has("Pengumuman terakhir"), timeout=30)
    unread = (listing.text or "").splitlines()
    return final + "\n\n" + "\n".join(line[:160] + ("…" if len(line) > 160 else "")
                                         for line in unread[:6])


async def _until(text: Callable[[], str], fragment: str, timeout: float = 30) -> str:
    """The report message (edited in place by the bot) once it contains `fragment`."""
    deadline = time.monotonic() + timeout
    while fragment not in text() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return text()


async def _problem_story(
    users: dict[str, SimUser], supervisor: dict[str, str], ppl: list[str]
) -> str:
    """A PPL reports a field problem; their PML takes it on and resolves it."""
    reporter_id = ppl[0]
    reporter, pml = users[reporter_id], users[supervisor[reporter_id]]
    await reporter.send("/kendala")
    await reporter.press(await reporter.wait_for(_has("Pilih kategori"), timeout=30),
                         "Responden tidak di rumah")
    step = await reporter.wait_for(lambda m: "terkait SLS" in (m.text or "")
                                   or "uraian singkat" in (m.text or ""), timeout=30)
    if "terkait SLS" in (step.text or ""):
        await reporter.press(step, step.buttons()[0].callback_data or "")
        await reporter.wait_for(_has("uraian singkat"), timeout=30)
    # A photo whose caption is the description: both at once, straight on to the urgency.
    await reporter.send_photo("Empat ruta tutup, pemilik ke kebun sampai sore")
    urgency = await reporter.wait_for(_has("Seberapa mendesak"), timeout=30)
    await reporter.press(urgency, "Biasa")
    await reporter.wait_for(_has("dikunjungi ulang"), timeout=30)
    await reporter.send("4")
    await reporter.press(await reporter.wait_for(_has("Ringkasan kendala"), timeout=30), "Kirim")
    await reporter.wait_for(_has("tercatat"), timeout=30)
    alert = await pml.wait_for(_has("Kendala baru"), timeout=30)
    await pml.press(alert, "Ditangani")
    await reporter.wait_for(_has("status sekarang Ditangani"), timeout=30)
    await pml.press(alert, "Selesai")
    done = await reporter.wait_for(_has("status sekarang Selesai"), timeout=30)
    asked = (urgency.text or "").splitlines()[0]
    return (f"(the PPL, after sending the captioned photo: {asked})\n\n{alert.text}"
            f"\n\n→ {done.text}")


async def _print_table(db: Database, stats: dict[str, int]) -> None:
    rows = await kecamatan_progress(db.conn)
    names = {k.code: k.name for k in await wilayah.list_kecamatan(db.conn)}
    lines = group_progress(rows, lambda r: r.kecamatan_code, lambda k: names.get(k, k))
    print(f"\n{'Kecamatan':<22}{'Ruta':>8}{'Target':>9}{'Progres':>9}")
    for line in [*lines, total_progress(rows)]:
        print(f"{line.label:<22}{fmt.number(line.done):>8}{fmt.number(line.target):>9}"
              f"{fmt.percent(line.done, line.target):>9}")
    print(f"\n{stats['registered']} officers registered, {stats['reports']} reports confirmed.")
