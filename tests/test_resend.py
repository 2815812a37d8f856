"""Scheduled messages that may not have gone out: a digest or an escalation that failed, or
whose claim a crash left behind, goes once more at the next start within MISSED_GRACE_HOURS
(at least once); a reminder never goes again (at most once); an operator can send the failed
digests by hand."""

from __future__ import annotations

import asyncio
import sys
from datetime import date, timedelta

from bot import jobs
from bot.app import services_of
from bot.localapi import FaultPlan, LocalBotApi
from bot.messaging import problem_alerts
from bot.present.digests import KINDS
from db.models import Role
from tests.support import (
    Harness,
    add_problem,
    at,
    cli_env,
    escalations_to,
    eventually,
)

DAY = date(2022, 10, 17)
PML_DIGEST = KINDS[Role.PML]


def text_of(message) -> str:
    return message.text or ""


def digests_to(harness: Harness, chat_id: int) -> list:
    return [m for m in harness.api.messages_to(chat_id) if "Ringkasan harian tim" in text_of(m)]


def reminders_to(harness: Harness, chat_id: int) -> list:
    return [m for m in harness.api.messages_to(chat_id) if "belum masuk" in text_of(m)]


def drop_next(api: LocalBotApi, *chats: int) -> None:
    """The next message to each of `chats` is lost with its connection (not carried out, and
    not sent again: it might have been)."""
    limit = api.fault_counts["drop"] + len(chats)  # the limit counts every drop so far
    api.set_faults(FaultPlan(drop_rate=1.0, chats=frozenset(chats), limit=limit))


async def catch_up(harness: Harness) -> dict[str, jobs.RunSummary]:
    services = services_of(harness.app)
    due = jobs.due_slots(services, harness.clock.now())
    return dict(zip([s.name for s in due], await jobs.catch_up(services), strict=True))


async def test_a_failed_digest_goes_once_more_at_the_next_start_a_reminder_never(
    harness: Harness,
) -> None:
    await harness.register("P2", 502)
    await harness.register("M1", 601)
    services = services_of(harness.app)
    harness.clock.set(at(17, 20, 30))
    drop_next(harness.api, 502, 601)
    reminders = await jobs.send_reminders(services, day=DAY, slot="19:00")
    digests = await jobs.send_digests(services, day=DAY, roles=[Role.PML])
    harness.api.clear_faults()
    assert (reminders.failed, digests.failed) == (1, 1)
    assert reminders_to(harness, 502) == [] and digests_to(harness, 601) == []

    harness.clock.set(at(17, 20, 45))  # 19:00 and 20:30 both within the 2 h grace window
    await harness.restart()
    summaries = await catch_up(harness)
    assert summaries["reminder-19:00"].already == 1  # a reminder is sent at most once
    assert (summaries["digest-pml"].sent, summaries["digest-pml"].resent) == (1, 1)
    assert len(digests_to(harness, 601)) == 1
    assert reminders_to(harness, 502) == []
    assert await harness.scalar(
        "SELECT status || ' ' || attempts FROM sent_log WHERE kind = ?", PML_DIGEST) == "sent 2"

    await harness.restart()
    summaries = await catch_up(harness)
    assert (summaries["digest-pml"].sent, summaries["digest-pml"].already) == (0, 1)
    assert len(digests_to(harness, 601)) == 1


async def test_a_digest_goes_once_more_only_once_and_only_within_the_grace_window(
    harness: Harness,
) -> None:
    await harness.register("M1", 601)
    await harness.register("M2", 602)
    services = services_of(harness.app)
    harness.clock.set(at(17, 20, 30))
    drop_next(harness.api, 601, 602)
    assert (await jobs.send_digests(services, day=DAY, roles=[Role.PML])).failed == 2

    harness.clock.set(at(17, 21))
    await harness.restart()
    drop_next(harness.api, 601)  # M1's second try fails as well
    summary = (await catch_up(harness))["digest-pml"]
    harness.api.clear_faults()
    assert (summary.sent, summary.resent, summary.failed) == (1, 1, 1)
    assert (len(digests_to(harness, 601)), len(digests_to(harness, 602))) == (0, 1)

    await harness.restart()  # M1's digest was sent once more already: not a third time
    assert (await catch_up(harness))["digest-pml"].sent == 0
    assert digests_to(harness, 601) == []

    # A failed digest beyond the window is not sent at start-up.
    harness.clock.set(at(18, 20, 30))
    drop_next(harness.api, 601)
    await jobs.send_digests(services_of(harness.app), day=DAY + timedelta(days=1),
                            roles=[Role.PML])
    harness.api.clear_faults()
    harness.clock.set(at(18, 22, 31))  # 20:30 + 2 h has passed
    await harness.restart()
    assert "digest-pml" not in await catch_up(harness)
    assert digests_to(harness, 601) == []


CLAIM_AND_WAIT = """
import asyncio, sys
from datetime import date, datetime
from db import schedule
from db.connection import Database

async def main(path, now, kind):
    db = Database(path)
    await db.open()
    day = date(2022, 10, 17)
    async with db.transaction() as conn:
        moment = datetime.fromisoformat(now)
        await schedule.claim(conn, kind, "M1", day, "", moment, db.run_id)
        await schedule.claim(conn, "reminder", "P2", day, "19:00", moment, db.run_id)
    print("claimed", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main(*sys.argv[1:]))
"""


async def test_a_digest_left_claimed_by_a_crashed_run_goes_at_the_next_start(
    harness: Harness,
) -> None:
    await harness.register("P2", 502)
    await harness.register("M1", 601)
    harness.clock.set(at(17, 20, 31))
    # Another process claims M1's digest and P2's reminder, then is killed before sending.
    other = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLAIM_AND_WAIT, str(harness.settings.database),
        at(17, 20, 30).isoformat(), PML_DIGEST,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    try:
        assert other.stdout is not None
        line = await asyncio.wait_for(other.stdout.readline(), 60)
        assert line.strip() == b"claimed"
        # While it runs, its claims are its own: nobody sends them.
        summaries = await catch_up(harness)
        assert summaries["digest-pml"].already == 1 and digests_to(harness, 601) == []
    finally:
        other.kill()
        await other.wait()

    await harness.restart()
    summaries = await catch_up(harness)
    assert (summaries["digest-pml"].sent, summaries["digest-pml"].resent) == (1, 1)
    assert summaries["reminder-19:00"].already == 1
    assert len(digests_to(harness, 601)) == 1 and reminders_to(harness, 502) == []
    if harness.db.engine == "sqlite":  # the marks of the runs: one left, the running bot's
        runs = harness.settings.database_path.parent / "regsosek.db-runs"
        assert len(list(runs.iterdir())) == 1


async def test_a_failed_escalation_goes_once_more_at_the_next_start(harness: Harness) -> None:
    await harness.register("K1", 701)
    await add_problem(harness.db, description="Jembatan putus")
    services = services_of(harness.app)
    harness.clock.set(at(18, 18))  # 24 h: the KOSEKA's turn
    drop_next(harness.api, 701)
    assert await problem_alerts.escalate_problems(services) == 1
    harness.api.clear_faults()
    assert escalations_to(harness, 701) == []

    harness.clock.set(at(18, 19))
    await harness.restart()
    assert await problem_alerts.resend_escalations(services_of(harness.app)) == 1
    [alert] = escalations_to(harness, 701)
    assert "Kendala #1 belum selesai setelah 24 jam" in alert.text
    assert "Jembatan putus" in alert.text
    await harness.restart()
    assert await problem_alerts.resend_escalations(services_of(harness.app)) == 0
    assert await problem_alerts.escalate_problems(services_of(harness.app)) == 0
    assert len(escalations_to(harness, 701)) == 1


async def test_the_catch_up_at_start_sends_failed_escalations(api, tmp_path, clock) -> None:
    from tests.support import running_harness

    async with running_harness(api, tmp_path, clock) as harness:
        await harness.register("K1", 701)
        await add_problem(harness.db)
        harness.clock.set(at(18, 18))
        drop_next(harness.api, 701)
        assert await problem_alerts.escalate_problems(services_of(harness.app)) == 1
        harness.api.clear_faults()
        assert escalations_to(harness, 701) == []
        harness.settings.schedule_jobs = True  # the next start runs the jobs, catch-up first
        await harness.restart()
        await eventually(lambda: len(escalations_to(harness, 701)) == 1)


async def test_failed_digests_are_sent_by_hand_with_resend_failed(
    harness: Harness, monkeypatch, capsys
) -> None:
    from bot.cli import main

    await harness.register("M1", 601)
    await harness.register("M2", 602)
    harness.clock.set(at(17, 20, 30))
    drop_next(harness.api, 601)
    summary = await jobs.send_digests(services_of(harness.app), day=DAY, roles=[Role.PML])
    harness.api.clear_faults()
    assert (summary.sent, summary.failed) == (1, 1)
    cli_env(harness, monkeypatch, ADMIN_TELEGRAM_IDS="")
    command = ["send", "digests", "--date", "2022-10-17"]

    assert await asyncio.to_thread(main, command) == 0  # without the flag: already claimed
    assert "digests 2022-10-17: 0 sent, 2 already sent before" in capsys.readouterr().out
    assert await asyncio.to_thread(main, [*command, "--resend-failed"]) == 0
    out, err = capsys.readouterr()
    assert out == ("digests 2022-10-17: 1 sent (1 of them again), 1 already sent before,"
                   " 0 not delivered\n")
    assert f"{PML_DIGEST} M1 (Mahmud PML): sent (sent once more)" in err
    assert len(digests_to(harness, 601)) == 1 and len(digests_to(harness, 602)) == 1
    assert await asyncio.to_thread(main, [*command, "--resend-failed"]) == 0
    assert "0 sent (0 of them again), 2 already sent before" in capsys.readouterr().out

    assert await asyncio.to_thread(main, ["send", "reminders", "--resend-failed"]) == 2
    assert "a reminder is sent at most once" in capsys.readouterr().err
