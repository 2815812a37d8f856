"""Benchmark of an announcement to 2,000 officers against Telegram's limits.

    .venv/bin/python bench/broadcast.py                   # 2,000 officers: at 25/s, then at 28/s
    .venv/bin/python bench/broadcast.py --rate 29         # production settings, then at 29/s
    .venv/bin/python bench/broadcast.py --recipients 500  # another size
    .venv/bin/python bench/broadcast.py --paid            # paid broadcasts at 1000/s
    .venv/bin/python bench/broadcast.py --bots 4          # 8,000 officers, 4 bots, PostgreSQL

`--paid`: one run with BROADCAST_PAID=true and BROADCAST_RATE_PER_SECOND=1000 (`--rate R`
instead of 1000), the local API counting the paid sends against a separate limit of 1000/s
(`enforce_rate_limits(paid_per_second=1000)`); the rate is given against that limit.

Run from the repository root. The real bot (`build_application`, `start_application`) runs
against the project's local Bot API (`bot.localapi.LocalBotApi`) on 127.0.0.1 over real
HTTP, with the API enforcing Telegram's limits: `enforce_rate_limits(per_second=30,
per_chat_per_second=1)`, i.e. a send* call beyond 30 in any sliding second overall, or beyond
1 per second in one chat, is answered 429 with `retry_after=1`.

The roster has N linked officers (default 2,000: 1,534 PPL, 406 PML and 60 KOSEKA on the real
kecamatan list, written straight into the database), and the announcement goes the way an
admin sends it: `/umumkan`, "Semua petugas", the text, "Kirim sekarang", then Kirim on the
preview. That stores one outbox row per recipient (`db.broadcasts.create_broadcast`) and
wakes the outbox (`bot/messaging/outbox.py`), which sends them through the shared `Sender`. The run
ends when the admin's delivery report says "Selesai dikirim" (every row has a final status),
or at `--deadline`.

Settings are the production defaults (`BROADCAST_RATE_PER_SECOND=25`,
`MESSAGES_PER_SECOND=30`, `CHAT_MESSAGE_INTERVAL=1`, `BROADCAST_REPORT_INTERVAL=5`, ...), except
the API addresses, a temporary database, `ADMIN_TELEGRAM_IDS` (the sender) and
`SCHEDULE_JOBS=false` (no reminder or digest may start during the run). A second run uses
`BROADCAST_RATE_PER_SECOND=28` and changes nothing else: the default 25/s keeps 5 of Telegram's
30 messages/s for everything else the bot sends meanwhile (replies, reminders), so it can reach
only 0.83 of the limit; 28/s is what a deployment would set to reach the issue's 0.9 while
keeping 2 messages/s for the rest. `--rate R` (repeatable) replaces that second run.

Every send* call is timed (`time.monotonic()`, the clock of the API's limiter) inside the
local API as it is answered (`LocalBotApi.answer_hook`), with its answer status. Figures:

* achieved rate: successful sendMessage calls of the announcement, after the first, divided by
  the time from the first to the last of them (the steady rate of the delivery window), and
  that rate / 30 (the limit);
* 429 answers to the announcement sends (send* calls to the recipients' chats), and their
  share of those calls; then the 429s of the whole run. The latter include the admin's own
  chat: the simulated admin answers each question at once, so the bot's next reply often comes
  within a second of its previous one and the API's strict 1/s per chat refuses it
  (python-telegram-bot's rate limiter then waits `retry_after` and sends it again);
* lost: recipients whose chat does not hold exactly one announcement at the end (none, or
  more than one: duplicates are counted separately), next to the outbox rows' final statuses;
* total time: from the Kirim press to the report saying "Selesai dikirim".

`--bots N`: several bots on one database (BOT_SCOPE, see the README's "National
deployment"): N bots (at most 9, one group of the 9 kecamatan each), each with its own token
and its own local Bot API enforcing 30/s and 1/s per chat, each bot and its API in a process
of its own as a deployment runs them (`--one-process`: all in this process), on one
PostgreSQL database (the pip package `pgserver`, in a temporary folder; `--engine sqlite` for
one SQLite file instead). The roster (default 8,000 linked officers, `--recipients`) is split
evenly between the bots' scopes; the admin, linked in the first bot, sends one announcement
to everyone; each bot sends its own officers' rows at BROADCAST_RATE_PER_SECOND (default 28
here, `--rate R`). Figures: the combined rate of the announcement sends of all the bots over
the delivery window against N x 30/s (target >= 0.9), the spread of each bot's own rate,
lost, duplicates, and sends that came from a bot other than the recipient's (0).

A progress line is printed every 10 s. Targets: rate >= 0.9 of the limit, 0 lost, 429s under
1% of sends. Figures are printed, never asserted: the exit status is 0 unless a run crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import logging
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any

try:
    import bot  # noqa: F401  (installed in the venv in editable mode)
except ImportError:  # a checkout without the install: use the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import machine, print_table  # bench/common.py, beside this script

from bot.app import build_application, services_of, start_application, stop_application
from bot.clock import ManualClock
from bot.localapi import LocalBotApi, SentMessage
from bot.settings import Settings
from db import broadcasts as repo
from db import wilayah
from db.connection import Database

DEFAULT_RECIPIENTS = 2_000
SECOND_RUN_RATE = 28.0  # keeps 2 of the 30 messages/s for replies and reminders
LIMIT_PER_SECOND = 30
LIMIT_PER_CHAT = 1
PAID_LIMIT_PER_SECOND = 1000
TARGET_RATIO = 0.9
TARGET_429_SHARE = 0.01
ADMIN_ID = 9_001
FIRST_CHAT = 3_000_000
TEXT = "Rapat evaluasi Regsosek hari Senin pukul 08.00 di kantor BPS. Mohon hadir tepat waktu."
ANNOUNCEMENT_MARK = "Pengumuman"
DONE_MARK = "Selesai dikirim"
PROGRESS_EVERY = 10.0
STOP_TIMEOUT = 30.0


# --------------------------------------------------------------------------- roster


def role_split(count: int) -> dict[str, int]:
    """The census ratio (76.7% PPL, 20.3% PML, 3% KOSEKA), adding up to `count`."""
    koseka = max(1, round(count * 0.03))
    pml = max(1, round(count * 0.203))
    return {"KOSEKA": koseka, "PML": pml, "PPL": max(0, count - koseka - pml)}


async def prepare_database(path: Path, count: int, now: datetime) -> list[int]:
    """Migrations, the wilayah list and `count` linked officers; returns their chat ids."""
    db = Database(path)
    await db.open()
    try:
        await wilayah.ensure_default_wilayah(db)
        # Kepulauan Meranti, as before the national list shipped.
        desa = [d for d in await wilayah.list_desa(db.conn) if d.code.startswith("14.10.")]
        kecamatan = sorted({d.kecamatan_code for d in desa})
        by_kec = {k: [d.code for d in desa if d.kecamatan_code == k] for k in kecamatan}
        split = role_split(count)
        stamp = now.isoformat()
        rows: list[tuple[Any, ...]] = []
        kosekas = [f"KSK{i + 1:04d}" for i in range(split["KOSEKA"])]
        pmls = [f"PML{i + 1:05d}" for i in range(split["PML"])]
        for i, officer_id in enumerate(kosekas):
            rows.append((officer_id, f"Koseka {i + 1}", "KOSEKA", None,
                         kecamatan[i % len(kecamatan)], None))
        for i, officer_id in enumerate(pmls):
            koseka = i % len(kosekas)
            rows.append((officer_id, f"Pengawas {i + 1}", "PML", kosekas[koseka],
                         kecamatan[koseka % len(kecamatan)], None))
        for i in range(split["PPL"]):
            pml = i % len(pmls)
            kec = kecamatan[(pml % len(kosekas)) % len(kecamatan)]
            rows.append((f"PPL{i + 1:05d}", f"Pencacah {i + 1}", "PPL", pmls[pml], kec,
                         by_kec[kec][i % len(by_kec[kec])]))
        chats = [FIRST_CHAT + n for n in range(len(rows))]
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO officers (officer_id, name, role, supervisor_id, kecamatan_code,"
                " desa_code, phone, telegram_user_id, telegram_chat_id, linked_at, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*row, f"0812{chat:08d}", chat, chat, stamp, stamp, stamp)
                 for row, chat in zip(rows, chats, strict=True)],
            )
    finally:
        await db.close()
    return chats


# --------------------------------------------------------------------------- send log


@dataclass(frozen=True)
class Send:
    at: float  # time.monotonic() when the API answered the call
    method: str
    chat_id: int | None
    status: int


class SendLog:
    """Every send* call the bot makes, timed inside the local API as it is answered, with its
    status."""

    def __init__(self, api: LocalBotApi) -> None:
        self.sends: list[Send] = []

        def answered(method: str, params: dict, status: int, _body: dict) -> None:
            if not method.startswith("send") or method == "sendChatAction":
                return
            try:
                chat_id: int | None = int(params.get("chat_id"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                chat_id = None
            self.sends.append(Send(time.monotonic(), method, chat_id, status))

        api.answer_hook = answered


# --------------------------------------------------------------------------- one run


@dataclass
class Run:
    rate_setting: float
    recipients: int
    limit: int = LIMIT_PER_SECOND
    finished: bool = False
    total_s: float = 0.0
    window_s: float = 0.0
    delivered_calls: int = 0  # sendMessage 200 to recipients
    rate: float = 0.0
    send_calls: int = 0  # every send* call
    answers_429: int = 0
    announcement_calls: int = 0  # send* calls to the recipients (429s included)
    announcement_429: int = 0
    answers_other_errors: int = 0
    peak_per_second: int = 0
    lost: int = 0
    duplicates: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    sender_retries: int = 0
    stop_clean: bool = True


def _peak(times: list[float], span: float = 1.0) -> int:
    """The most events in any window of `span` seconds (start included, end excluded)."""
    best = 0
    for i, start in enumerate(times):
        best = max(best, bisect.bisect_left(times, start + span, lo=i) - i)
    return best


def _text(message: SentMessage) -> str:
    return message.text or ""


async def _progress(log: SendLog, chats: set[int], started: float, total: int) -> None:
    last_count, last_at = 0, started
    while True:
        await asyncio.sleep(PROGRESS_EVERY)
        now = time.monotonic()
        delivered = sum(1 for s in log.sends if s.status == 200 and s.chat_id in chats)
        throttled = sum(1 for s in log.sends if s.status == 429)
        print(f"  {now - started:5.0f} s: {delivered:,}/{total:,} delivered, "
              f"{(delivered - last_count) / (now - last_at):.1f}/s over the last "
              f"{now - last_at:.0f} s, {throttled} x 429", flush=True)
        last_count, last_at = delivered, now


async def announce(api: LocalBotApi, *, show_preview: bool = False) -> tuple[float, SentMessage]:
    """The admin's `/umumkan` to "Semua petugas", up to the Kirim press: its moment
    (`time.monotonic()`) and the delivery status message the bot then shows."""
    admin = api.user(ADMIN_ID, "Admin")
    await admin.send("/umumkan")
    choice = await admin.wait_for(lambda m: "Untuk siapa" in _text(m), 30)
    await admin.press(choice, "Semua petugas")
    await admin.wait_for(lambda m: "Tulis teks pengumuman" in _text(m), 30)
    await admin.send(TEXT)
    preview = await admin.wait_for(lambda m: "Pratinjau pengumuman" in _text(m), 30)
    if show_preview:
        shown = next((line for line in _text(preview).splitlines() if "Penerima" in line), "?")
        print(f"  preview: {shown.strip()}", flush=True)
    pressed = time.monotonic()
    await admin.press(preview, "Kirim sekarang")
    report = await admin.wait_for(lambda m: "Status pengiriman pengumuman" in _text(m), 30)
    return pressed, report


async def run_once(recipients: int, rate_setting: float | None, deadline_s: float,
                   paid: bool = False) -> Run:
    with tempfile.TemporaryDirectory(prefix="regsosek-bench-") as tmp:
        overrides: dict[str, Any] = {"broadcast_paid": True} if paid else {}
        if rate_setting is not None:
            overrides["broadcast_rate_per_second"] = rate_setting
        settings = Settings(
            _env_file=None,
            telegram_bot_token="123456:TEST-TOKEN",
            database_path=Path(tmp) / "regsosek.db",
            admin_telegram_ids=[ADMIN_ID],
            schedule_jobs=False,  # no reminder or digest may start during the run
            **overrides,
        )
        result = Run(rate_setting=settings.broadcast_rate_per_second, recipients=recipients,
                     limit=PAID_LIMIT_PER_SECOND if paid else LIMIT_PER_SECOND)
        clock = ManualClock(datetime.combine(
            settings.period_start + timedelta(days=2), day_time(10, 0), settings.tz))
        chats = await prepare_database(settings.database_path, recipients, clock.now())
        wanted = set(chats)
        async with LocalBotApi(settings.token(), clock=clock) as api:
            for chat in chats:
                api.user(chat, f"Petugas {chat - FIRST_CHAT + 1}")
            api.enforce_rate_limits(per_second=LIMIT_PER_SECOND,
                                    per_chat_per_second=LIMIT_PER_CHAT,
                                    paid_per_second=PAID_LIMIT_PER_SECOND)
            log = SendLog(api)
            settings = settings.model_copy(update={
                "telegram_api_base_url": api.base_url,
                "telegram_api_base_file_url": api.base_file_url,
            })
            app = build_application(settings, clock=clock)
            await start_application(app, poll_timeout=1)
            progress: asyncio.Task[None] | None = None
            try:
                pressed, report = await announce(api, show_preview=True)
                progress = asyncio.create_task(_progress(log, wanted, pressed, recipients))
                while time.monotonic() - pressed < deadline_s:
                    if DONE_MARK in _text(api.message(report.chat_id, report.message_id)):
                        result.finished = True
                        break
                    await asyncio.sleep(0.05)
                result.total_s = time.monotonic() - pressed
                services = services_of(app)
                counts = await repo.counts(services.db.conn, 1)
                result.statuses = {"sent": counts.sent, "failed": counts.failed,
                                   "unreachable": counts.unreachable, "pending": counts.pending}
                outbox = services.outbox
                sender = getattr(outbox, "paid_sender", None) or services.sender
                assert sender is not None
                result.sender_retries = sender.retries
            finally:
                if progress is not None:
                    progress.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await progress
                try:
                    await asyncio.wait_for(stop_application(app), STOP_TIMEOUT)
                except TimeoutError:
                    result.stop_clean = False

            sends = log.sends
            delivered = sorted(s.at for s in sends
                               if s.method == "sendMessage" and s.status == 200
                               and s.chat_id in wanted)
            result.delivered_calls = len(delivered)
            if len(delivered) > 1:
                result.window_s = delivered[-1] - delivered[0]
                result.rate = (len(delivered) - 1) / result.window_s
            result.send_calls = len(sends)
            result.answers_429 = sum(1 for s in sends if s.status == 429)
            result.announcement_calls = sum(1 for s in sends if s.chat_id in wanted)
            result.announcement_429 = sum(1 for s in sends
                                          if s.status == 429 and s.chat_id in wanted)
            result.answers_other_errors = sum(1 for s in sends if s.status not in (200, 429))
            result.peak_per_second = _peak(sorted(s.at for s in sends if s.status == 200))
            for chat in chats:
                got = sum(1 for m in api.messages_to(chat) if ANNOUNCEMENT_MARK in _text(m))
                result.lost += got == 0
                result.duplicates += got > 1
    return result


# --------------------------------------------------------------------------- several bots

BOTS_DEFAULT_RECIPIENTS = 8_000
BOTS_RATE = 28.0
ADMIN_OFFICER = "ADM00001"


@dataclass
class BotsRun:
    bots: int
    engine: str
    rate_setting: float
    recipients: int
    finished: bool = False
    total_s: float = 0.0
    window_s: float = 0.0
    delivered: int = 0
    rate: float = 0.0
    per_bot: list[float] = field(default_factory=list)
    answers_429: int = 0
    wrong_bot: int = 0
    lost: int = 0
    duplicates: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def _bot_name(index: int) -> str:
    return f"regsosek_bench_{index + 1}_bot"


async def prepare_bots_database(
    target: str | Path, count: int, bots: int, now: datetime
) -> tuple[list[list[str]], list[list[int]]]:
    """`count` linked officers split evenly between `bots` groups of kecamatan, and an admin
    linked in the first bot; returns each bot's kecamatan (its scope: some of Meranti's 9) and
    its officers' chats."""
    db = Database(target)
    await db.open()
    try:
        await wilayah.ensure_default_wilayah(db)
        desa = [d for d in await wilayah.list_desa(db.conn) if d.code.startswith("14.10.")]
        kecamatan = sorted({d.kecamatan_code for d in desa})
        by_kec = {k: [d.code for d in desa if d.kecamatan_code == k] for k in kecamatan}
        groups = [kecamatan[i::bots] for i in range(bots)]
        stamp = now.isoformat()
        rows: list[tuple[Any, ...]] = []
        chats: list[list[int]] = [[] for _ in range(bots)]
        next_chat = FIRST_CHAT
        for b, group in enumerate(groups):
            share = count // bots + (b < count % bots)
            split = role_split(share)
            kosekas = [f"KSK{b}{i:04d}" for i in range(split["KOSEKA"])]
            pmls = [f"PML{b}{i:05d}" for i in range(split["PML"])]
            made = [(oid, "KOSEKA", None, group[i % len(group)], None)
                    for i, oid in enumerate(kosekas)]
            made += [(oid, "PML", kosekas[i % len(kosekas)],
                      group[(i % len(kosekas)) % len(group)], None)
                     for i, oid in enumerate(pmls)]
            for i in range(split["PPL"]):
                kec = group[((i % len(pmls)) % len(kosekas)) % len(group)]
                made.append((f"PPL{b}{i:05d}", "PPL", pmls[i % len(pmls)], kec,
                             by_kec[kec][i % len(by_kec[kec])]))
            for officer_id, role, supervisor, kec, desa_code in made:
                rows.append((officer_id, f"Petugas {officer_id}", role, supervisor, kec,
                             desa_code, next_chat, None))
                chats[b].append(next_chat)
                next_chat += 1
        rows.append((ADMIN_OFFICER, "Admin Nasional", "ADMIN", None, None, None, ADMIN_ID,
                     _bot_name(0)))
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO officers (officer_id, name, role, supervisor_id, kecamatan_code,"
                " desa_code, telegram_user_id, telegram_chat_id, linked_bot, linked_at,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*row[:6], row[6], row[6], row[7], stamp, stamp, stamp) for row in rows],
            )
    finally:
        await db.close()
    return groups, chats


@contextlib.asynccontextmanager
async def bench_database(engine: str, folder: Path) -> Any:
    """Where the bots' data is: a PostgreSQL database of a server started in `folder` (the
    pip package `pgserver`), or a SQLite file there."""
    if engine == "sqlite":
        yield folder / "regsosek.db"
        return
    import asyncpg
    import pgserver

    server = pgserver.get_server(folder / "pg", cleanup_mode="stop")
    try:
        admin = await asyncpg.connect(server.get_uri("postgres"))
        try:
            await admin.execute("CREATE DATABASE regsosek_bench")
        finally:
            await admin.close()
        yield server.get_uri("regsosek_bench")
    finally:
        server.cleanup()


async def run_bots(bots: int, recipients: int, rate_setting: float, deadline_s: float,
                   engine: str) -> BotsRun:
    with tempfile.TemporaryDirectory(prefix="regsosek-bench-") as tmp:
        async with bench_database(engine, Path(tmp)) as target:
            return await _run_bots(target, bots, recipients, rate_setting, deadline_s, engine)


async def _run_bots(target: str | Path, bots: int, recipients: int, rate_setting: float,
                    deadline_s: float, engine: str) -> BotsRun:
    base = Settings(_env_file=None, telegram_bot_token="1:TOKEN", schedule_jobs=False)
    clock = ManualClock(datetime.combine(
        base.period_start + timedelta(days=2), day_time(10, 0), base.tz))
    groups, chats = await prepare_bots_database(target, recipients, bots, clock.now())
    result = BotsRun(bots=bots, engine=engine, rate_setting=rate_setting,
                     recipients=sum(len(c) for c in chats))
    async with contextlib.AsyncExitStack() as stack:
        apis: list[LocalBotApi] = []
        logs: list[SendLog] = []
        apps = []
        for b in range(bots):
            api = await stack.enter_async_context(LocalBotApi(
                f"{1000 + b}:TOKEN-{b}", bot_id=1000 + b, bot_username=_bot_name(b),
                clock=clock))
            for chat in chats[b]:
                api.user(chat, f"Petugas {chat}")
            api.enforce_rate_limits(per_second=LIMIT_PER_SECOND,
                                    per_chat_per_second=LIMIT_PER_CHAT)
            apis.append(api)
            logs.append(SendLog(api))
            database = ({"database_url": target} if engine == "postgres"
                        else {"database_path": target})
            settings = Settings(
                _env_file=None, telegram_bot_token=api.token, schedule_jobs=False,
                telegram_api_base_url=api.base_url, telegram_api_base_file_url=api.base_file_url,
                bot_username=_bot_name(b), bot_scope=groups[b],
                broadcast_rate_per_second=rate_setting, **database)
            app = build_application(settings, clock=clock)
            await start_application(app, poll_timeout=1)
            apps.append(app)
        try:
            pressed, report = await announce(apis[0])
            everyone = {chat for group in chats for chat in group}
            progress = asyncio.create_task(_bots_progress(logs, everyone, pressed,
                                                          result.recipients))
            try:
                while time.monotonic() - pressed < deadline_s:
                    if DONE_MARK in _text(apis[0].message(report.chat_id, report.message_id)):
                        result.finished = True
                        break
                    await asyncio.sleep(0.05)
            finally:
                progress.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await progress
            result.total_s = time.monotonic() - pressed
            counts = await repo.counts(services_of(apps[0]).db.conn, 1)
            result.statuses = {"sent": counts.sent, "failed": counts.failed,
                               "unreachable": counts.unreachable, "pending": counts.pending}
        finally:
            for app in apps:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop_application(app), STOP_TIMEOUT)
        announced = []
        for b, log in enumerate(logs):
            own = set(chats[b])
            mine = sorted(s.at for s in log.sends if s.method == "sendMessage"
                          and s.status == 200 and s.chat_id in own)
            announced += mine
            if len(mine) > 1:
                result.per_bot.append((len(mine) - 1) / (mine[-1] - mine[0]))
            result.answers_429 += sum(1 for s in log.sends if s.status == 429)
            result.wrong_bot += sum(1 for s in log.sends if s.chat_id in everyone
                                    and s.chat_id not in own)
        announced.sort()
        result.delivered = len(announced)
        if len(announced) > 1:
            result.window_s = announced[-1] - announced[0]
            result.rate = (len(announced) - 1) / result.window_s
        for b, api in enumerate(apis):
            for chat in chats[b]:
                got = sum(1 for m in api.messages_to(chat) if ANNOUNCEMENT_MARK in _text(m))
                result.lost += got == 0
                result.duplicates += got > 1
    return result


# --------------------------------------------------------------------------- one process per bot


async def run_bot_processes(bots: int, recipients: int, rate_setting: float, deadline_s: float,
                            engine: str) -> BotsRun:
    with tempfile.TemporaryDirectory(prefix="regsosek-bench-") as tmp:
        async with bench_database(engine, Path(tmp)) as target:
            return await _run_bot_processes(Path(tmp), target, bots, recipients, rate_setting,
                                            deadline_s, engine)


async def _run_bot_processes(folder: Path, target: str | Path, bots: int, recipients: int,
                             rate_setting: float, deadline_s: float, engine: str) -> BotsRun:
    """Each bot with its own local Bot API in a process of its own, as a deployment runs one
    process per province: the first one's admin sends the announcement once every bot is up;
    each process ends when each of its officers has it (or at the deadline) and reports its
    sends, timed by the machine's monotonic clock (the same in every process)."""
    base = Settings(_env_file=None, telegram_bot_token="1:TOKEN", schedule_jobs=False)
    start = datetime.combine(base.period_start + timedelta(days=2), day_time(10, 0), base.tz)
    groups, chats = await prepare_bots_database(target, recipients, bots, start)
    result = BotsRun(bots=bots, engine=engine, rate_setting=rate_setting,
                     recipients=sum(len(c) for c in chats))
    children = []
    for b in range(bots):
        job = folder / f"bot-{b}.json"
        job.write_text(json.dumps({
            "index": b, "target": str(target), "engine": engine, "scope": groups[b],
            "chats": chats[b], "rate": rate_setting, "deadline": deadline_s,
            "start": start.isoformat()}), encoding="utf-8")
        children.append(await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).resolve()), "--bot-process", str(job),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE))
    try:
        for child in children:  # every bot up before the announcement is sent
            line = await asyncio.wait_for(child.stdout.readline(), 120)
            if line.strip() != b"READY":
                raise RuntimeError(f"a bot process did not start: {line!r}")
        children[0].stdin.write(b"GO\n")
        await children[0].stdin.drain()
        outputs = await asyncio.wait_for(
            asyncio.gather(*(child.communicate() for child in children)), deadline_s + 120)
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
    announced: list[float] = []
    for b, (out, _err) in enumerate(outputs):
        found = [line for line in out.decode().splitlines() if line.startswith("RESULT ")]
        if not found:
            raise RuntimeError(f"bot process {b} reported nothing")
        got = json.loads(found[-1].removeprefix("RESULT "))
        mine = sorted(got["announced"])
        announced += mine
        if len(mine) > 1:
            result.per_bot.append((len(mine) - 1) / (mine[-1] - mine[0]))
        result.answers_429 += got["answers_429"]
        result.wrong_bot += got["wrong_bot"]
        result.lost += got["lost"]
        result.duplicates += got["duplicates"]
        if b == 0:
            result.finished, result.total_s = got["finished"], got["total_s"]
    announced.sort()
    result.delivered = len(announced)
    if len(announced) > 1:
        result.window_s = announced[-1] - announced[0]
        result.rate = (len(announced) - 1) / result.window_s
    db = Database(target)
    await db.open()
    try:
        counts = await repo.counts(db.conn, 1)
    finally:
        await db.close()
    result.statuses = {"sent": counts.sent, "failed": counts.failed,
                       "unreachable": counts.unreachable, "pending": counts.pending}
    return result


async def bot_process(job: dict[str, Any]) -> dict[str, Any]:
    """One bot of `_run_bot_processes` (run with --bot-process JOB)."""
    b, own = job["index"], set(job["chats"])
    clock = ManualClock(datetime.fromisoformat(job["start"]))
    got: dict[str, Any] = {"finished": False, "total_s": 0.0}
    async with LocalBotApi(f"{1000 + b}:TOKEN-{b}", bot_id=1000 + b,
                           bot_username=_bot_name(b), clock=clock) as api:
        for chat in own:
            api.user(chat, f"Petugas {chat}")
        api.enforce_rate_limits(per_second=LIMIT_PER_SECOND, per_chat_per_second=LIMIT_PER_CHAT)
        log = SendLog(api)
        database = ({"database_url": job["target"]} if job["engine"] == "postgres"
                    else {"database_path": job["target"]})
        settings = Settings(
            _env_file=None, telegram_bot_token=api.token, schedule_jobs=False,
            telegram_api_base_url=api.base_url, telegram_api_base_file_url=api.base_file_url,
            bot_username=_bot_name(b), bot_scope=job["scope"],
            broadcast_rate_per_second=job["rate"], **database)
        app = build_application(settings, clock=clock)
        await start_application(app, poll_timeout=1)
        try:
            print("READY", flush=True)
            report = None
            if b == 0:
                await asyncio.to_thread(sys.stdin.readline)  # GO: every bot is up
                pressed, report = await announce(api)
            started = time.monotonic()
            while time.monotonic() - started < job["deadline"]:
                have = {s.chat_id for s in log.sends if s.status == 200 and s.chat_id in own}
                done = report is None or DONE_MARK in _text(
                    api.message(report.chat_id, report.message_id))
                if len(have) == len(own) and done:
                    got["finished"] = True
                    break
                await asyncio.sleep(0.05)
            if report is not None:
                got["total_s"] = time.monotonic() - pressed
        finally:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop_application(app), STOP_TIMEOUT)
        got["announced"] = [s.at for s in log.sends if s.method == "sendMessage"
                            and s.status == 200 and s.chat_id in own]
        got["answers_429"] = sum(1 for s in log.sends if s.status == 429)
        got["wrong_bot"] = sum(1 for s in log.sends  # another bot's officer, or a stranger
                               if s.chat_id not in own and s.chat_id != ADMIN_ID)
        marks = [sum(1 for m in api.messages_to(chat) if ANNOUNCEMENT_MARK in _text(m))
                 for chat in own]
        got["lost"] = sum(1 for n in marks if n == 0)
        got["duplicates"] = sum(1 for n in marks if n > 1)
    return got


async def _bots_progress(logs: list[SendLog], chats: set[int], started: float,
                         total: int) -> None:
    while True:
        await asyncio.sleep(PROGRESS_EVERY)
        delivered = sum(1 for log in logs for s in log.sends
                        if s.status == 200 and s.chat_id in chats)
        print(f"  {time.monotonic() - started:5.0f} s: {delivered:,}/{total:,} delivered",
              flush=True)


def bots_table(run: BotsRun) -> list[list[str]]:
    limit = run.bots * LIMIT_PER_SECOND
    ratio = run.rate / limit
    spread = (f"{min(run.per_bot):.1f} to {max(run.per_bot):.1f}" if run.per_bot else "-")
    return [
        ["finished (report says 'Selesai dikirim')", "yes" if run.finished else "NO (deadline)",
         "", ""],
        ["announcements delivered (all bots)", f"{run.delivered:,}", f"{run.recipients:,}",
         _ok(run.delivered == run.recipients)],
        ["combined rate msg/s (delivery window)", f"{run.rate:.1f}", "", ""],
        [f"rate / limit ({run.bots} x {LIMIT_PER_SECOND}/s = {limit}/s)", f"{ratio:.3f}",
         f">= {TARGET_RATIO}", _ok(ratio >= TARGET_RATIO)],
        ["each bot's own rate msg/s", spread, "", ""],
        ["429 answers (all bots)", f"{run.answers_429}", "", ""],
        ["sends by a bot other than the recipient's", f"{run.wrong_bot}", "0",
         _ok(run.wrong_bot == 0)],
        *_outcome(run.lost, run.duplicates, run.statuses),
        *_durations(run.window_s, run.total_s),
    ]


def _outcome(lost: int, duplicates: int, statuses: dict[str, int]) -> list[list[str]]:
    return [
        ["lost (recipients without an announcement)", f"{lost}", "0", _ok(lost == 0)],
        ["duplicates (recipients with more than one)", f"{duplicates}", "0",
         _ok(duplicates == 0)],
        ["outbox rows sent / failed / unreachable / pending",
         " / ".join(str(statuses.get(k, 0))
                    for k in ("sent", "failed", "unreachable", "pending")), "", ""],
    ]


def _durations(window_s: float, total_s: float) -> list[list[str]]:
    return [
        ["delivery window s (first to last announcement)", f"{window_s:.1f}", "", ""],
        ["total s (Kirim press to 'Selesai dikirim')", f"{total_s:.1f}", "", ""],
    ]


def bots_summary(run: BotsRun) -> str:
    limit = run.bots * LIMIT_PER_SECOND
    return (f"{run.recipients} recipients through {run.bots} bots on {run.engine} at "
            f"BROADCAST_RATE_PER_SECOND={run.rate_setting:g}: {run.rate:.1f} msg/s = "
            f"{run.rate / limit:.2f} of {run.bots} x {LIMIT_PER_SECOND}/s, {run.lost} lost, "
            f"{run.duplicates} duplicates, {run.wrong_bot} from another bot, "
            f"{run.total_s:.0f} s")


# --------------------------------------------------------------------------- report




def _ok(passed: bool) -> str:
    return "yes" if passed else "NO"


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def table(run: Run) -> list[list[str]]:
    ratio = run.rate / run.limit
    share = _share(run.announcement_429, run.announcement_calls)
    share_all = _share(run.answers_429, run.send_calls)
    rows = [
        ["finished (report says 'Selesai dikirim')", "yes" if run.finished else "NO (deadline)",
         "", ""],
        ["announcements delivered (sendMessage 200)", f"{run.delivered_calls:,}",
         f"{run.recipients:,}", _ok(run.delivered_calls == run.recipients)],
        ["achieved rate msg/s (delivery window)", f"{run.rate:.2f}", "", ""],
        [f"rate / limit ({run.limit}/s)", f"{ratio:.3f}", f">= {TARGET_RATIO}",
         _ok(ratio >= TARGET_RATIO)],
        [f"rate / configured pace ({run.rate_setting:g}/s)",
         f"{run.rate / run.rate_setting:.3f}", "", ""],
        ["most sends in any 1 s (all chats)", f"{run.peak_per_second}",
         f"<= {run.limit + LIMIT_PER_SECOND if run.limit != LIMIT_PER_SECOND else run.limit}",
         ""],
        ["announcement sends (429s included)", f"{run.announcement_calls:,}", "", ""],
        ["429 answers to announcement sends", f"{run.announcement_429} ({100 * share:.2f}%)",
         f"< {100 * TARGET_429_SHARE:.0f}%", _ok(share < TARGET_429_SHARE)],
        ["send* calls of the whole run (admin's chat too)", f"{run.send_calls:,}", "", ""],
        ["429 answers of the whole run", f"{run.answers_429} ({100 * share_all:.2f}%)", "", ""],
        ["other error answers", f"{run.answers_other_errors}", "", ""],
        *_outcome(run.lost, run.duplicates, run.statuses),
        ["Sender retries (429 or network, after PTB's own)", f"{run.sender_retries}", "", ""],
        *_durations(run.window_s, run.total_s),
    ]
    if not run.stop_clean:
        rows.append(["clean shutdown", "no (stop timed out)", "", ""])
    return rows




def summary(run: Run) -> str:
    share = _share(run.announcement_429, run.announcement_calls)
    return (f"{run.recipients} recipients at BROADCAST_RATE_PER_SECOND={run.rate_setting:g}: "
            f"{run.rate:.1f} msg/s = {run.rate / run.limit:.2f} of the {run.limit}/s limit, "
            f"{run.announcement_429} x 429 ({100 * share:.2f}%; {run.answers_429} in the whole "
            f"run), {run.lost} lost, "
            f"{run.duplicates} duplicates, {run.total_s:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=DEFAULT_RECIPIENTS,
                        help="linked officers, all of them recipients "
                             f"(default {DEFAULT_RECIPIENTS:,})")
    parser.add_argument("--rate", type=float, action="append", default=[],
                        help="after the production run, a run with this "
                             "BROADCAST_RATE_PER_SECOND (repeatable; default "
                             f"{SECOND_RUN_RATE:g})")
    parser.add_argument("--paid", action="store_true",
                        help="one run with paid broadcasts (BROADCAST_PAID=true) at 1000/s, "
                             f"against a local API limit of {PAID_LIMIT_PER_SECOND}/s for them")
    parser.add_argument("--deadline", type=float, default=600.0,
                        help="seconds allowed for one delivery (default 600)")
    parser.add_argument("--bots", type=int, default=0,
                        help="several bots on one database (2 to 9): one announcement to "
                             f"--recipients officers (default {BOTS_DEFAULT_RECIPIENTS:,}) "
                             "through this many bots, each at 30/s")
    parser.add_argument("--engine", choices=("postgres", "sqlite"), default="postgres",
                        help="with --bots: the database (default postgres, via pgserver)")
    parser.add_argument("--one-process", action="store_true",
                        help="with --bots: every bot and local API in this one process "
                             "(default: each bot with its API in a process of its own)")
    parser.add_argument("--bot-process", metavar="JOB", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bot_process:
        logging.basicConfig(level=logging.ERROR)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        job = json.loads(Path(args.bot_process).read_text(encoding="utf-8"))
        print("RESULT " + json.dumps(asyncio.run(bot_process(job))), flush=True)
        return 0
    if args.recipients < 3:
        parser.error("--recipients must be at least 3")
    if any(rate <= 0 for rate in args.rate):
        parser.error("--rate must be positive")
    warnings.filterwarnings("ignore", "If 'per_message=False'", UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # PTB's RetryAfter notice
    logging.basicConfig(level=logging.ERROR)

    if args.bots:
        return main_bots(args, parser)
    print(f"broadcast benchmark on {machine()}")
    print(f"local Bot API limits: {LIMIT_PER_SECOND} send*/s overall, {LIMIT_PER_CHAT}/s per "
          f"chat (429 with retry_after=1 beyond)")
    summaries: list[str] = []
    rates = [None, *(args.rate or [SECOND_RUN_RATE])]
    if args.paid:
        rates = args.rate or [float(PAID_LIMIT_PER_SECOND)]
    for rate in rates:
        label = "production defaults" if rate is None else f"BROADCAST_RATE_PER_SECOND={rate:g}"
        if args.paid:
            label = f"BROADCAST_PAID=true, {label}"
        print(f"\n{label}: announcement to {args.recipients:,} officers", flush=True)
        try:
            run = asyncio.run(run_once(args.recipients, rate, args.deadline, args.paid))
        except Exception as exc:  # a crashed run: report it and go on with the next one
            print(f"run failed: {exc!r}")
            summaries.append(f"{label}: failed")
            continue
        print_table(("figure", "value", "target", "ok?"), table(run), {0, 2, 3},
                    f"{label} ({run.recipients:,} recipients)")
        summaries.append(summary(run))
    print("\nbroadcast: " + " | ".join(summaries))
    return 0 if all(not s.endswith("failed") for s in summaries) else 1


def main_bots(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not 2 <= args.bots <= 9:
        parser.error("--bots must be 2 to 9 (one group of Meranti's 9 kecamatan each)")
    if args.paid:
        parser.error("--bots and --paid do not go together")
    recipients = (args.recipients if args.recipients != DEFAULT_RECIPIENTS
                  else BOTS_DEFAULT_RECIPIENTS)
    rate = args.rate[0] if args.rate else BOTS_RATE
    print(f"broadcast benchmark on {machine()}")
    print(f"{args.bots} bots on one {args.engine} database, each local Bot API enforcing "
          f"{LIMIT_PER_SECOND} send*/s overall and {LIMIT_PER_CHAT}/s per chat")
    how = run_bots if args.one_process else run_bot_processes
    print("all bots in this process" if args.one_process else "each bot in a process of its own")
    run = asyncio.run(how(args.bots, recipients, rate, args.deadline, args.engine))
    print_table(("figure", "value", "target", "ok?"), bots_table(run), {0, 2, 3},
                f"{args.bots} bots ({run.recipients:,} recipients)")
    print("\nbroadcast: " + bots_summary(run))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
