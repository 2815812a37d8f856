"""Benchmark: how long officers wait for their answers while strangers flood the bot.

    .venv/bin/python bench/flood.py                  # no flood, then 1, 10 and 100 strangers
    .venv/bin/python bench/flood.py --strangers 10   # no flood, then 10 strangers
    .venv/bin/python bench/flood.py --seconds 30 --rate 20 --officers 40

Run from the repository root. The real bot (`build_application`, as `bot run` builds it)
runs against the project's local Bot API (`bot.localapi.LocalBotApi`) on 127.0.0.1 over real
HTTP, with the API enforcing Telegram's limits: `enforce_rate_limits(per_second=30,
per_chat_per_second=1)`, i.e. a send* call beyond 30 in any sliding second overall, or beyond
1 per second in one chat, is answered 429 with `retry_after=1`. Settings are the production
defaults (`MESSAGES_PER_SECOND=30`, `CHAT_MESSAGE_INTERVAL=1`, `CHAT_UPDATES_PER_SECOND=5`,
`HINT_INTERVAL_MINUTES=5`, ...), except the API addresses, a temporary database,
`SCHEDULE_JOBS=false`, and the clock: a `RehearsalClock` that starts at 19:00 on the third
day of the period and runs at the real pace, so that the gate's per-second windows see the
updates as they really come. The local API answers a getUpdates 20 ms after an update is
there (`LocalBotApi.updates_round_trip`), with every update that came meanwhile, standing for
the network's round trip to Telegram: against the real Bot API updates come in batches, while
a local API that answers at once would hand a steady stream over one getUpdates per update,
a cost that only the local set-up has. Every run, the baseline too, has it.

Officers: `--officers` (default 20) PPL on a synthetic roster (`flow.py`'s, already linked to
Telegram), each in a loop: `/lapor 12 14 51` (answered with the summary), then `/batal`
(answered "Dibatalkan"), one message every 2 s (well under Telegram's 1 a second in their chat),
their starts spread evenly over one such interval. They start 2 s before the measurement, to
open the connections and warm up the first calls.

Strangers: S Telegram accounts that are not on the roster, each sending `--rate` (default 10)
text messages a second from the start of the measurement to its end (`--seconds`, default 20).
As in `tests/test_e2e_floods.py`, Telegram refuses the first stranger's chat once with 429
`retry_after=8` (`LocalBotApi.fail_next(..., chat_id=...)`, the chat's own flood limit): that
stranger's registration hint is held 8 s while everyone else is answered. Each run (S = 0,
the baseline, then 1, 10 and 100 or `--strangers`) is a fresh child process.

What is measured (`time.perf_counter()`): an officer's latency, from the moment the simulated
officer injects the update into the local API to the moment the local API has handled the
bot's sendMessage with the answer (its `answer_hook`, as in `flow.py`). Figures per run:
officer answers measured (and missed: none within 10 s), p50/p95/p99 ms, the p95 against the
baseline's (target: at most 2x), stranger messages sent, registration hints and flood notices
they got (at most one hint each; hints go at most 3 a second, after the officers' answers, and
one that would wait more than 2 s is not sent, so a stranger may get none during a run), updates
the gate dropped as a flood, 429 answers (in strangers' chats, in officers' chats), the
limiter's holds (of one chat, of the whole bot), CPU seconds and peak RSS. Bot, local API
and the simulated users share one process and event loop, so the CPU figures include the
API's and the driver's share of the work, and so does the limit of what one process can
read: at 100 strangers x 10 messages a second (1,000 updates a second) that process is
saturated (try `--rate 5`). Figures are printed, never asserted: the exit status is 0
unless a run crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any

try:
    import bot  # noqa: F401  (installed in the venv in editable mode)
except ImportError:  # a checkout without the install: use the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import machine, print_table  # bench/common.py, beside this script
from flow import FIRST_USER_ID, ReplyHook, percentile, prepare_database  # bench/flow.py

from bot.app import build_application, start_application, stop_application
from bot.clock import RehearsalClock
from bot.localapi import LocalBotApi
from bot.settings import Settings
from handlers.access import WINDOWS_KEY

DEFAULT_SIZES = (1, 10, 100)
FIRST_STRANGER_ID = 9_000_000
REPORT = "/lapor 12 14 51"
SUMMARY_MARK = "Ringkasan laporan"
CANCEL_MARK = "Dibatalkan"
HINT_MARK = "belum terdaftar"
NOTICE_MARK = "datang terlalu cepat"
OFFICER_INTERVAL = 2.0  # seconds between two messages of one officer
WARM_UP = 2.0
ANSWER_TIMEOUT = 10.0
STRANGER_RETRY_AFTER = 8
TARGET_FACTOR = 2.0
STOP_TIMEOUT = 30.0
# Against Telegram, the updates that arrive during a getUpdates round trip come together; the
# local API would answer at once, every update a getUpdates of its own (LocalBotApi
# .updates_round_trip). 20 ms: a short round trip from Indonesia to Telegram's servers.
ROUND_TRIP = 0.02


@dataclass
class Run:
    strangers: int
    officers: int
    seconds: float
    rate: float
    latencies_ms: list[float] = field(default_factory=list)
    missed: int = 0
    stranger_messages: int = 0
    hints: int = 0  # registration hints that reached strangers
    most_hints: int = 0  # the most any one stranger got
    notices: int = 0  # flood notices that reached strangers
    flooded: int = 0
    refused_strangers: int = 0  # 429 answers in strangers' chats
    refused_officers: int = 0
    chat_holds: int = 0
    bot_holds: int = 0
    cpu: float = 0.0
    peak_rss_kb: int = 0
    stop_clean: bool = True


async def measure(strangers: int, officers: int, seconds: float, rate: float) -> Run:
    run = Run(strangers, officers, seconds, rate)
    with tempfile.TemporaryDirectory(prefix="regsosek-flood-") as tmp:
        work = Path(tmp)
        settings = Settings(_env_file=None, telegram_bot_token="123456:TEST-TOKEN",
                            database_path=work / "regsosek.db", schedule_jobs=False)
        clock = RehearsalClock(datetime.combine(
            settings.period_start + timedelta(days=2), day_time(19, 0), settings.tz))
        await prepare_database(settings.database_path, work, officers, clock.now())
        async with LocalBotApi(settings.token(), clock=clock) as api:
            api.enforce_rate_limits(per_second=30, per_chat_per_second=1)
            api.updates_round_trip = ROUND_TRIP
            hook = ReplyHook(api)
            stranger_ids = [FIRST_STRANGER_ID + i for i in range(strangers)]
            stranger_chats = set(stranger_ids)
            replies = api.answer_hook
            assert replies is not None

            def answered(method: str, params: dict, status: int, body: dict) -> None:
                replies(method, params, status, body)
                if status == 429:
                    if int(params.get("chat_id", 0)) in stranger_chats:
                        run.refused_strangers += 1
                    else:
                        run.refused_officers += 1

            api.answer_hook = answered
            settings = settings.model_copy(update={
                "telegram_api_base_url": api.base_url,
                "telegram_api_base_file_url": api.base_file_url,
            })
            app = build_application(settings, clock=clock, settle=True)  # as `bot run`
            await start_application(app, poll_timeout=1)
            try:
                await _drive(api, hook, run, stranger_ids)
            finally:
                try:
                    await asyncio.wait_for(stop_application(app), STOP_TIMEOUT)
                except TimeoutError:
                    run.stop_clean = False
            told = [[m.text or "" for m in api.messages_to(chat)] for chat in stranger_ids]
            hints = [sum(HINT_MARK in text for text in texts) for texts in told]
            run.hints, run.most_hints = sum(hints), max(hints, default=0)
            run.notices = sum(NOTICE_MARK in text for texts in told for text in texts)
            run.flooded = app.bot_data[WINDOWS_KEY].flooded
            limiter: Any = app.bot.rate_limiter
            run.chat_holds, run.bot_holds = limiter.chat_holds, limiter.bot_holds
    run.peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return run


async def _drive(api: LocalBotApi, hook: ReplyHook, run: Run, stranger_ids: list[int]) -> None:
    officers = [api.user(FIRST_USER_ID + i, first_name=f"P{i}") for i in range(run.officers)]
    for officer in officers:
        hook.watch(officer.chat_id)
    strangers = [api.user(chat, first_name="Tamu") for chat in stranger_ids]
    if strangers:
        api.fail_next("sendMessage", 429, chat_id=strangers[0].chat_id,
                      retry_after=STRANGER_RETRY_AFTER)
    began = time.perf_counter()
    start = began + WARM_UP
    end = start + run.seconds

    async def officer_loop(index: int) -> None:
        user = officers[index]
        due = began + index * OFFICER_INTERVAL / len(officers)
        step = 0
        while due < end:
            # The arrival schedule of the run, not a wait for a result.
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            text, mark = (REPORT, SUMMARY_MARK) if step % 2 == 0 else ("/batal", CANCEL_MARK)
            step += 1
            sent = time.perf_counter()
            await user.send(text)
            reply = await hook.wait(user.chat_id, mark, sent + ANSWER_TIMEOUT)
            if sent >= start:
                if reply is None:
                    run.missed += 1
                else:
                    run.latencies_ms.append((reply.at - sent) * 1000)
            due += OFFICER_INTERVAL

    async def stranger_loop(index: int) -> None:
        user = strangers[index]
        interval = 1.0 / run.rate
        due = start + index * interval / len(strangers)
        number = 0
        while due < end:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await user.send(f"halo {number}")
            number += 1
            run.stranger_messages += 1
            due += interval

    loops = [officer_loop(i) for i in range(len(officers))]
    loops += [stranger_loop(i) for i in range(len(strangers))]
    cpu_started = time.process_time()
    await asyncio.gather(*loops)
    run.cpu = time.process_time() - cpu_started


def run_worker(strangers: int, officers: int, seconds: float, rate: float) -> int:
    warnings.filterwarnings("ignore", "If 'per_message=False'", UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # PTB's RetryAfter notice
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(measure(strangers, officers, seconds, rate))
    print("RESULT " + json.dumps(asdict(result)), flush=True)
    return 0


def spawn(strangers: int, args: argparse.Namespace) -> Run | str:
    """One run in a child process; the Run, or the reason it failed."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker",
               "--strangers", str(strangers), "--officers", str(args.officers),
               "--seconds", str(args.seconds), "--rate", str(args.rate)]
    limit = args.seconds + WARM_UP + ANSWER_TIMEOUT + STOP_TIMEOUT + 120
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return f"{strangers} strangers: killed after {limit:.0f} s"
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return Run(**json.loads(line.removeprefix("RESULT ")))
    tail = "\n".join(done.stderr.strip().splitlines()[-15:])
    return f"{strangers} strangers: exit {done.returncode}\n{tail}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strangers", type=int, action="append",
                        help="strangers flooding in one run (repeatable; default 1, 10, 100)")
    parser.add_argument("--officers", type=int, default=20,
                        help="officers reporting meanwhile (default 20)")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="length of the measurement (default 20)")
    parser.add_argument("--rate", type=float, default=10.0,
                        help="messages a second from each stranger (default 10)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.officers < 1 or args.seconds <= 0 or args.rate <= 0:
        parser.error("--officers, --seconds and --rate must be positive")
    if args.worker:
        return run_worker((args.strangers or [0])[0], args.officers, args.seconds, args.rate)

    sizes = [0, *(args.strangers or DEFAULT_SIZES)]
    print(f"flood benchmark on {machine()}")
    print(f"{args.officers} officers, one message each every {OFFICER_INTERVAL} s "
          f"('{REPORT}' -> summary, '/batal' -> '{CANCEL_MARK}'), for {args.seconds:g} s; "
          f"each stranger sends {args.rate:g} messages/s, the first one's chat refused once "
          f"for {STRANGER_RETRY_AFTER} s; the local API enforces 30/s and 1/s per chat")
    runs: list[Run] = []
    failed = False
    for strangers in sizes:
        result = spawn(strangers, args)
        if isinstance(result, str):
            failed = True
            print(f"\nrun failed: {result}")
            continue
        runs.append(result)
    baseline = next((r for r in runs if r.strangers == 0), None)
    base_p95 = percentile(baseline.latencies_ms, 95) if baseline else None
    rows = []
    summary = []
    for r in runs:
        p95 = percentile(r.latencies_ms, 95)
        factor = p95 / base_p95 if p95 is not None and base_p95 else None
        verdict = "" if r.strangers == 0 or factor is None else (
            "yes" if factor <= TARGET_FACTOR and not r.missed else "NO")
        rows.append([
            f"{r.strangers}", f"{len(r.latencies_ms)}", f"{r.missed}",
            _ms(percentile(r.latencies_ms, 50)), _ms(p95), _ms(percentile(r.latencies_ms, 99)),
            "-" if factor is None else f"{factor:.2f}", verdict,
            f"{r.stranger_messages:,} ({r.stranger_messages / r.seconds:,.0f}/s)",
            f"{r.hints} (max {r.most_hints}) / {r.notices}", f"{r.flooded:,}",
            f"{r.refused_strangers} / {r.refused_officers}",
            f"{r.chat_holds} / {r.bot_holds}",
            f"{r.cpu:.1f}", f"{r.peak_rss_kb / 1024:.0f}",
        ])
        if r.strangers:
            summary.append(f"{r.strangers} strangers p95 {_ms(p95)} ms "
                           f"({'-' if factor is None else f'{factor:.2f}'}x)")
    print_table(
        ("strangers", "answers", "missed", "p50 ms", "p95 ms", "p99 ms", "p95 / no flood",
         f"<= {TARGET_FACTOR:g}x?", "stranger messages", "hints / notices", "flood drops",
         "429 strangers / officers", "holds chat / bot", "CPU s", "peak RSS MB"),
        rows, {7}, "an officer's answer while strangers flood")
    print(f"\nflood: {args.officers} officers, no flood p95 {_ms(base_p95)} ms | "
          + " | ".join(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
