"""Benchmark of the daily report flow: N officers send `/lapor h f p` and press Kirim at once.

    .venv/bin/python bench/flow.py                  # 253 and 5,000 officers
    .venv/bin/python bench/flow.py --officers 1000  # one size

For each size, two measurements, each in a fresh child process (so that CPU time and peak
RSS belong to that measurement alone):

* regsosek: the real bot (`build_application`) on a temporary database with a synthetic
  roster of N PPL, each with exactly one SLS and already linked to a Telegram account
  (registration is not measured). Every officer sends `/lapor 12 14 51` (the fast path: the
  bot answers with the summary), then presses Kirim on the summary (the bot answers
  "Laporan tersimpan"). All N officers start at the same moment.
* echo: a bare python-telegram-bot `Application` with one `MessageHandler` that replies the
  same text (no persistence, no database), driven the same way by N users who send two
  messages each. It is the framework's own ceiling on this machine.

Both run against the project's local Bot API (`bot.localapi.LocalBotApi`) on 127.0.0.1 over
real HTTP, in the same process and event loop as the bot and the simulated users, so every
figure includes the fake server's and the driver's share of the work (the same for both).

What is measured (all with `time.perf_counter()`):

* latency of an update: from the moment the simulated user injects it into the local API
  (the update becomes available to getUpdates) to the moment the local API has handled the
  bot's sendMessage carrying the answer (told by the API's `answer_hook`, so no
  polling is involved). Step 1 is `/lapor` -> summary, step 2 is the Kirim press ->
  confirmation; "overall" pools both steps.
* updates/s: updates answered / wall time of the measured phase (first injection to last
  answer).
* CPU seconds: `time.process_time()` over the measured phase (all threads of the child, the
  aiosqlite thread included).
* peak RSS: `resource.getrusage(RUSAGE_SELF).ru_maxrss` of the child at the end.

One extra officer (or echo user) completes the flow before the measured phase, to warm up
connections and first-call costs; it is not counted. Every wait has a deadline
(`--deadline`, for the whole measured phase), and the children are killed if they overrun,
so the script cannot hang; flows not finished in time are reported as incomplete. Timing
figures are printed next to their targets, never asserted: the exit status is 0 unless a
measurement crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import math
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any

try:
    import bot  # noqa: F401  (installed in the venv in editable mode)
except ImportError:  # a checkout without the install: use the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import machine, print_table  # bench/common.py, beside this script
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, MessageHandler, filters

from bot.app import build_application, start_application, stop_application
from bot.clock import ManualClock
from bot.localapi import LocalBotApi, SimUser
from bot.settings import Settings
from db import wilayah
from db.connection import Database
from db.models import Desa
from db.roster import AREA_COLUMNS, OFFICER_COLUMNS, import_roster

DEFAULT_SIZES = (253, 5000)
FIRST_USER_ID = 2_000_000
REPORT = "/lapor 12 14 51"
SUMMARY_MARK = "Ringkasan laporan"
SAVED_MARK = "Laporan tersimpan"
TARGET_RATIO = 0.5
TARGET_P95_MS = 100.0
TARGET_P95_AT = 253  # the p95 target applies to the real operation's size
DEFAULT_SPREAD = 10.0  # the rush: 253 officers starting within 10 s, 25 a second
STOP_TIMEOUT = 20.0


# --------------------------------------------------------------------------- synthetic roster


def synthetic_roster(count: int, desa: list[Desa]) -> tuple[list[dict], list[dict]]:
    """Officers and areas rows for `count` PPL, each with exactly one SLS.

    One KOSEKA per kecamatan and one PML per four PPL, spread over the real kecamatan/desa
    list; ids, names, phones and SLS codes are synthetic and deterministic.
    """
    by_kec: dict[str, list[Desa]] = {}
    for d in desa:
        by_kec.setdefault(d.kecamatan_code, []).append(d)
    kecamatan = sorted(by_kec)
    phones = iter(range(1, 10 * count + 1000))

    def phone() -> str:
        return f"0812{next(phones):08d}"

    officers = [{"officer_id": "ADM0001", "name": "Admin Bench", "role": "ADMIN",
                 "supervisor_id": "", "phone": phone(), "kecamatan_code": "", "desa_code": ""}]
    for k, kec in enumerate(kecamatan, start=1):
        officers.append({"officer_id": f"KSK{k:04d}", "name": f"Koseka {k}", "role": "KOSEKA",
                         "supervisor_id": "", "phone": phone(), "kecamatan_code": kec,
                         "desa_code": ""})
    pml_count = math.ceil(count / 4)
    for p in range(pml_count):
        k = p % len(kecamatan)
        officers.append({"officer_id": f"PML{p + 1:05d}", "name": f"Pengawas {p + 1}",
                         "role": "PML", "supervisor_id": f"KSK{k + 1:04d}", "phone": phone(),
                         "kecamatan_code": kecamatan[k], "desa_code": ""})
    areas = []
    for i in range(count):
        pml = i // 4
        kec = kecamatan[pml % len(kecamatan)]
        village = by_kec[kec][i % len(by_kec[kec])]
        officer_id = ppl_id(i)
        officers.append({"officer_id": officer_id, "name": f"Pencacah {i + 1}", "role": "PPL",
                         "supervisor_id": f"PML{pml + 1:05d}", "phone": phone(),
                         "kecamatan_code": kec, "desa_code": village.code})
        areas.append({"officer_id": officer_id,
                      "sls_code": f"{village.code.replace('.', '')}{i + 1:05d}",
                      "sls_name": f"RT {i + 1:05d} {village.name}",
                      "desa_code": village.code,
                      "target_households": 150 + i % 150})
    return officers, areas


def ppl_id(index: int) -> str:
    return f"PPL{index + 1:05d}"


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)


async def prepare_database(db_path: Path, work: Path, count: int, now: datetime) -> None:
    """Roster with `count` PPL imported and every PPL linked to Telegram id FIRST_USER_ID + i."""
    db = Database(db_path)
    await db.open()
    try:
        await wilayah.ensure_default_wilayah(db)
        # Kepulauan Meranti, as before the national list shipped.
        desa = [d for d in await wilayah.list_desa(db.conn) if d.code.startswith("14.10.")]
        officers, areas = synthetic_roster(count, desa)
        _write_csv(work / "officers.csv", OFFICER_COLUMNS, officers)
        _write_csv(work / "areas.csv", AREA_COLUMNS, areas)
        await import_roster(db, work / "officers.csv", work / "areas.csv", now=now)
        stamp = now.isoformat()
        async with db.transaction() as conn:
            await conn.executemany(
                "UPDATE officers SET telegram_user_id = ?, telegram_chat_id = ?, linked_at = ?"
                " WHERE officer_id = ?",
                [(FIRST_USER_ID + i, FIRST_USER_ID + i, stamp, ppl_id(i)) for i in range(count)],
            )
    finally:
        await db.close()


# --------------------------------------------------------------------------- reply hook


@dataclass
class Reply:
    at: float  # perf_counter when the local API handled the sendMessage
    message_id: int
    text: str


class ReplyHook:
    """Per chat, the bot's sendMessage and editMessageText calls, timed inside the local API as
    it answers them (`LocalBotApi.answer_hook`)."""

    def __init__(self, api: LocalBotApi) -> None:
        self._queues: dict[int, asyncio.Queue[Reply]] = {}

        def answered(method: str, _params: dict, status: int, body: dict) -> None:
            if method in ("sendMessage", "editMessageText") and status == 200:
                at = time.perf_counter()
                result = body["result"]
                queue = self._queues.get(int(result["chat"]["id"]))
                if queue is not None:
                    queue.put_nowait(Reply(at, int(result["message_id"]), result.get("text", "")))

        api.answer_hook = answered

    def watch(self, chat_id: int) -> None:
        self._queues[chat_id] = asyncio.Queue()

    async def wait(self, chat_id: int, mark: str, deadline: float) -> Reply | None:
        """The next reply in that chat whose text contains `mark`; None past the deadline."""
        queue = self._queues[chat_id]
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return None
            try:
                reply = await asyncio.wait_for(queue.get(), remaining)
            except TimeoutError:
                return None
            if mark in reply.text:
                return reply


# --------------------------------------------------------------------------- one measurement


@dataclass
class Measurement:
    kind: str
    officers: int
    completed: int = 0  # flows with both answers
    answered: int = 0  # updates answered (both steps, completed flows or not)
    wall: float = 0.0
    cpu: float = 0.0
    peak_rss_kb: int = 0
    step1_ms: list[float] = field(default_factory=list)
    step2_ms: list[float] = field(default_factory=list)
    setup_s: float = 0.0
    stop_clean: bool = True


# Per user: step 1 latency (s), step 2 latency (s), perf_counter of the last answer (0: none).
FlowResult = tuple[float | None, float | None, float]
Flow = Callable[[SimUser, float], Awaitable[FlowResult]]


async def _drive(api: LocalBotApi, hook: ReplyHook, user_ids: list[int], flow: Flow,
                 deadline: float, spread: float = 0.0) -> list[FlowResult]:
    """Run `flow` for every user: all at once, or with starts evenly spread over `spread` s."""
    users = [api.user(uid, first_name=f"P{uid - FIRST_USER_ID}") for uid in user_ids]
    for user in users:
        hook.watch(user.chat_id)
    results: list[FlowResult] = [(None, None, 0.0)] * len(users)

    async def one(index: int, user: SimUser) -> None:
        if spread:  # the arrival schedule of the run, not a wait for a result
            await asyncio.sleep(index * spread / len(users))
        results[index] = await flow(user, deadline)

    await asyncio.gather(*(one(i, u) for i, u in enumerate(users)))
    return results


def _report_flow(api: LocalBotApi, hook: ReplyHook) -> Flow:
    async def flow(user: SimUser, deadline: float) -> FlowResult:
        sent = time.perf_counter()
        await user.send(REPORT)  # the update is available from here on
        summary = await hook.wait(user.chat_id, SUMMARY_MARK, deadline)
        if summary is None:
            return None, None, 0.0
        step1 = summary.at - sent
        pressed = time.perf_counter()
        await user.press(api.message(user.chat_id, summary.message_id), "Kirim")
        saved = await hook.wait(user.chat_id, SAVED_MARK, deadline)
        if saved is None:
            return step1, None, summary.at
        return step1, saved.at - pressed, saved.at

    return flow


def _echo_flow(hook: ReplyHook) -> Flow:
    async def flow(user: SimUser, deadline: float) -> FlowResult:
        times: list[float] = []
        last = 0.0
        for text in (REPORT, "Kirim"):
            sent = time.perf_counter()
            await user.send(text)
            reply = await hook.wait(user.chat_id, text, deadline)
            if reply is None:
                break
            times.append(reply.at - sent)
            last = reply.at
        padded: list[float | None] = [*times, None, None]
        return padded[0], padded[1], last

    return flow


async def _echo(update: Update, _context: Any) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


def _build_echo(api: LocalBotApi) -> Application:
    app = (
        ApplicationBuilder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    return app


async def measure(kind: str, count: int, deadline_s: float, spread: float = 0.0) -> Measurement:
    result = Measurement(kind=kind, officers=count)
    setup_started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="regsosek-bench-") as tmp:
        work = Path(tmp)
        settings = Settings(
            _env_file=None,
            telegram_bot_token="123456:TEST-TOKEN",
            database_path=work / "regsosek.db",
            messages_per_second=100_000,  # the local API has no limits: measure the bot itself
            chat_message_interval=0,
            schedule_jobs=False,
        )
        clock = ManualClock(datetime.combine(
            settings.period_start + timedelta(days=2), day_time(19, 0), settings.tz))
        if kind == "regsosek":
            # One more PPL than measured: the warm-up officer.
            await prepare_database(settings.database_path, work, count + 1, clock.now())
        async with LocalBotApi(settings.token(), clock=clock) as api:
            hook = ReplyHook(api)
            if kind == "regsosek":
                settings = settings.model_copy(update={
                    "telegram_api_base_url": api.base_url,
                    "telegram_api_base_file_url": api.base_file_url,
                })
                app = build_application(settings, clock=clock, settle=True)  # as `bot run`
                flow = _report_flow(api, hook)
            else:
                app = _build_echo(api)
                flow = _echo_flow(hook)
            await start_application(app, poll_timeout=1)
            try:
                warm = await _drive(api, hook, [FIRST_USER_ID + count], flow,
                                    time.perf_counter() + 30)
                if warm[0][1] is None:
                    raise RuntimeError(f"{kind}: the warm-up flow did not complete in 30 s")
                result.setup_s = time.perf_counter() - setup_started
                user_ids = [FIRST_USER_ID + i for i in range(count)]
                cpu_started = time.process_time()
                started = time.perf_counter()
                outcomes = await _drive(api, hook, user_ids, flow, started + deadline_s + spread,
                                        spread)
                finished = time.perf_counter()
                result.cpu = time.process_time() - cpu_started
            finally:
                try:
                    await asyncio.wait_for(stop_application(app), STOP_TIMEOUT)
                except TimeoutError:
                    result.stop_clean = False
        last = max((o[2] for o in outcomes), default=0.0)
        result.wall = (last if last else finished) - started
        result.step1_ms = [o[0] * 1000 for o in outcomes if o[0] is not None]
        result.step2_ms = [o[1] * 1000 for o in outcomes if o[1] is not None]
        result.completed = len(result.step2_ms)
        result.answered = len(result.step1_ms) + len(result.step2_ms)
    result.peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result


def run_worker(kind: str, count: int, deadline_s: float, spread: float = 0.0) -> int:
    warnings.filterwarnings("ignore", "If 'per_message=False'", UserWarning)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    result = asyncio.run(measure(kind, count, deadline_s, spread))
    print("RESULT " + json.dumps(asdict(result)), flush=True)
    return 0


# --------------------------------------------------------------------------- report


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def rate(m: Measurement) -> float:
    return m.answered / m.wall if m.wall > 0 else 0.0


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ok(passed: bool | None) -> str:
    return "" if passed is None else ("yes" if passed else "NO")


def spawn(kind: str, count: int, deadline_s: float, spread: float = 0.0) -> Measurement | str:
    """One measurement in a child process; the Measurement, or the reason it failed."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind,
               "--officers", str(count), "--deadline", str(deadline_s), "--spread", str(spread)]
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=deadline_s + spread + 180)
    except subprocess.TimeoutExpired:
        return f"{kind} at {count}: killed after {deadline_s + 180:.0f} s"
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return Measurement(**json.loads(line.removeprefix("RESULT ")))
    tail = "\n".join(done.stderr.strip().splitlines()[-15:])
    return f"{kind} at {count}: exit {done.returncode}\n{tail}"


def pair_ratio(pair: tuple[Measurement, Measurement]) -> float:
    return rate(pair[0]) / rate(pair[1]) if rate(pair[1]) else 0.0


def median_pair(pairs: list[tuple[Measurement, Measurement]]) -> tuple[Measurement, Measurement]:
    """The round whose ratio is the median (the lower middle one of an even count)."""
    ordered = sorted(pairs, key=pair_ratio)
    return ordered[(len(ordered) - 1) // 2]


def table(rounds: list[tuple[Measurement, Measurement]],
          rush: tuple[Measurement, Measurement] | None,
          spread: float) -> tuple[list[list[str]], dict[str, Any]]:
    """Rows of one size: throughput from the median burst round, latency from the rush."""
    burst = median_pair(rounds)
    bot, echo = burst
    count = bot.officers
    ratio = pair_ratio(burst) if rate(echo) else None
    # Past the deadline only the faster updates were answered: no verdict on partial figures.
    complete = all(m.completed == count for m in (*burst, *(rush or ())))
    complete = complete and all(m.completed == count for p in rounds for m in p)
    rows: list[list[str]] = []

    def row(metric: str, value: str, target: str = "", ok: bool | None = None) -> None:
        rows.append([metric, value, target, _ok(ok)])

    def latency(label: str, m: Measurement, target: bool) -> None:
        for q in (50, 95, 99):
            value = percentile(m.step1_ms + m.step2_ms, q)
            if q == 95 and target:
                row(f"{label} p{q} ms", _fmt(value), f"< {TARGET_P95_MS:.0f}",
                    None if value is None or not complete else value < TARGET_P95_MS)
            else:
                row(f"{label} p{q} ms", _fmt(value))

    row("completed flows, burst (regsosek / echo)",
        f"{bot.completed:,} / {echo.completed:,}", f"{count:,}",
        bot.completed == count and echo.completed == count)
    row("updates/s regsosek, burst", _fmt(rate(bot)))
    row("updates/s echo, burst", _fmt(rate(echo)))
    row("ratio regsosek/echo (median round)", _fmt(ratio, 2), f">= {TARGET_RATIO}",
        None if ratio is None or not complete else ratio >= TARGET_RATIO)
    if len(rounds) > 1:
        row("ratio of each round", " ".join(f"{pair_ratio(p):.2f}" for p in rounds))
    row("CPU ms per update, burst (regsosek / echo)",
        f"{1000 * bot.cpu / max(bot.answered, 1):.2f} / "
        f"{1000 * echo.cpu / max(echo.answered, 1):.2f}")
    latency("burst: /lapor -> summary", replace(bot, step2_ms=[]), False)
    latency("burst: Kirim -> confirmation", replace(bot, step1_ms=[]), False)
    latency("burst: overall", bot, False)
    latency("burst: echo overall", echo, False)
    p95 = None
    if rush is not None:
        rush_bot, rush_echo = rush
        row(f"completed flows, rush over {spread:g} s (regsosek / echo)",
            f"{rush_bot.completed:,} / {rush_echo.completed:,}", f"{count:,}",
            rush_bot.completed == count and rush_echo.completed == count)
        latency("rush: /lapor -> summary", replace(rush_bot, step2_ms=[]), False)
        latency("rush: Kirim -> confirmation", replace(rush_bot, step1_ms=[]), False)
        latency("rush: overall", rush_bot, count <= TARGET_P95_AT)
        latency("rush: echo overall", rush_echo, False)
        p95 = percentile(rush_bot.step1_ms + rush_bot.step2_ms, 95)
    row("wall time of the burst s (regsosek / echo)", f"{bot.wall:.2f} / {echo.wall:.2f}")
    row("CPU s of the burst (regsosek / echo)", f"{bot.cpu:.2f} / {echo.cpu:.2f}")
    measured = [bot, echo, *(rush or ())]
    row("peak RSS MB (regsosek / echo)",
        f"{max(m.peak_rss_kb for m in measured[::2]) / 1024:.0f} / "
        f"{max(m.peak_rss_kb for m in measured[1::2]) / 1024:.0f}")
    row("setup before the burst s (regsosek / echo)", f"{bot.setup_s:.1f} / {echo.setup_s:.1f}")
    if not all(m.stop_clean for m in measured):
        row("clean shutdown", "no (stop timed out)")
    if not complete:
        row("note", "deadline hit: figures cover answered updates only")
    summary = {"count": count, "rate": rate(bot), "echo": rate(echo), "ratio": ratio,
               "burst_p95": percentile(bot.step1_ms + bot.step2_ms, 95), "p95": p95,
               "complete": complete}
    return rows, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, help="one size (default: 253 and 5000)")
    parser.add_argument("--deadline", type=float, default=150.0,
                        help="seconds allowed for one measured phase (default 150)")
    parser.add_argument("--spread", type=float, default=DEFAULT_SPREAD,
                        help="the rush: officers start evenly over this many seconds "
                             f"(default {DEFAULT_SPREAD:g}; 0: no rush measurement)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="burst rounds per size, the median round is reported (default 3)")
    parser.add_argument("--worker", choices=("regsosek", "echo"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.officers is not None and args.officers < 1:
        parser.error("--officers must be at least 1")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.worker:
        return run_worker(args.worker, args.officers or DEFAULT_SIZES[0], args.deadline,
                          args.spread)

    sizes = (args.officers,) if args.officers else DEFAULT_SIZES
    print(f"flow benchmark on {machine()}")
    print(f"each officer: '{REPORT}' -> summary, Kirim -> '{SAVED_MARK}'")
    rush_note = f"; rush: starting evenly over {args.spread:g} s" if args.spread else ""
    print(f"burst: all officers at the same moment{rush_note}")
    summaries: list[str] = []
    failed = False
    for count in sizes:
        kinds = ("regsosek", "echo")
        # Each round measures both bots back to back, so that a slower moment of a shared
        # machine weighs on both; the median round is reported.
        burst = [spawn(kind, count, args.deadline)
                 for _ in range(args.repeat) for kind in kinds]
        rush = [spawn(kind, count, args.deadline, args.spread) for kind in kinds] \
            if args.spread else []
        problems = [m for m in (*burst, *rush) if isinstance(m, str)]
        if problems:
            failed = True
            print(f"\n== {count:,} officers: measurement failed ==")
            for problem in problems:
                print(problem)
            summaries.append(f"{count} officers failed")
            continue
        rounds = list(zip(burst[::2], burst[1::2], strict=True))
        rows, s = table(rounds, (rush[0], rush[1]) if rush else None,  # type: ignore[arg-type]
                        args.spread)
        print_table(("metric", "value", "target", "ok?"), rows, {0, 2, 3}, f"{count:,} officers")
        ratio = "-" if s["ratio"] is None else f"{s['ratio']:.2f}"
        partial = "" if s["complete"] else " INCOMPLETE"
        line = (f"{count} officers burst {s['rate']:.0f} upd/s (echo {s['echo']:.0f}, ratio "
                f"{ratio}) p95 {_fmt(s['burst_p95'], 0)} ms")
        if rush:
            line += f", rush over {args.spread:g} s p95 {_fmt(s['p95'], 0)} ms"
        summaries.append(line + partial)
    print("\nflow: " + " | ".join(summaries))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
