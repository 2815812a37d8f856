"""Scheduled work: reminders and daily digests.

Every run goes through `run_slot()`, whoever starts it (the JobQueue at its time, the catch-up
at start-up, or an operator with `python -m bot send`). Each message is claimed in the
sent-log before it is sent, so no run, restart or second process sends it twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application, ContextTypes

from bot.clock import real_time_of_day
from bot.messaging.delivery import DeliveryStatus, Outgoing
from bot.messaging.keyboards import review_markup
from bot.messaging.services import SERVICES_KEY, Services
from bot.present import formatting as fmt
from bot.present.charts import render
from bot.present.digests import KINDS, build_digests
from bot.rules.calendar import is_working_day
from db import officers, problems, schedule
from db.models import Officer, Role

log = logging.getLogger(__name__)

REMINDER = "reminder"


@dataclass(frozen=True)
class Slot:
    """One daily job: its deterministic name, local time and what it does."""

    name: str
    at: time
    kind: str  # REMINDER or a digest kind
    role: Role | None = None

    @property
    def label(self) -> str:
        return self.at.strftime("%H:%M")


@dataclass
class RunSummary:
    sent: int = 0
    already: int = 0
    unreachable: int = 0
    failed: int = 0
    off_day: bool = False
    recipients: list[str] = field(default_factory=list)


def slots(services: Services) -> list[Slot]:
    s = services.settings
    reminders = [Slot(f"reminder-{t:%H:%M}", t, REMINDER) for t in s.reminder_times]
    digests = [
        Slot("digest-pml", s.digest_time_pml, KINDS[Role.PML], Role.PML),
        Slot("digest-koseka", s.digest_time_koseka, KINDS[Role.KOSEKA], Role.KOSEKA),
        Slot("digest-admin", s.digest_time_admin, KINDS[Role.ADMIN], Role.ADMIN),
    ]
    return reminders + digests


def _working(services: Services, day: date) -> bool:
    s = services.settings
    return is_working_day(day, s.period_start, s.period_end, s.days_off)


# Recipients of one run served side by side. One after another, each waited for the one
# before: its answers from the Bot API, and a second between its own messages
# (CHAT_MESSAGE_INTERVAL), over a minute for 67 PML, an hour for 2,000. The Sender keeps the
# overall pace (MESSAGES_PER_SECOND) whatever this is.
SIDE_BY_SIDE = 16


async def _deliver_all(
    services: Services, summary: RunSummary, kind: str, day: date, slot: str,
    deliveries: list[tuple[Officer, list[Outgoing]]],
) -> None:
    turns = asyncio.Semaphore(SIDE_BY_SIDE)

    async def one(officer: Officer, items: list[Outgoing]) -> None:
        async with turns:
            await _deliver(services, summary, kind, officer, day, slot, items)

    await asyncio.gather(*(one(officer, items) for officer, items in deliveries))


async def _deliver(
    services: Services, summary: RunSummary, kind: str, officer: Officer, day: date, slot: str,
    items: list[Outgoing],
) -> None:
    db, now = services.db, services.clock.now
    async with db.transaction() as conn:
        claimed = await schedule.claim(conn, kind, officer.officer_id, day, slot, now())
    if not claimed:
        summary.already += 1
        return
    assert services.sender is not None
    results = await services.sender.send_all(items)
    status = results[-1].status if results else DeliveryStatus.SENT
    async with db.transaction() as conn:
        await schedule.finish(conn, kind, officer.officer_id, day, slot, status.value, now())
        if status is DeliveryStatus.UNREACHABLE:
            await schedule.mark_unreachable(conn, officer.officer_id, now())
    if status is DeliveryStatus.SENT:
        summary.sent += 1
        summary.recipients.append(officer.officer_id)
    elif status is DeliveryStatus.UNREACHABLE:
        summary.unreachable += 1
    else:
        summary.failed += 1


async def send_reminders(services: Services, *, day: date, slot: str) -> RunSummary:
    summary = RunSummary()
    if not _working(services, day):
        summary.off_day = True
        return summary
    t, conn = services.texts, services.db.conn
    button = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t("btn_report_now"), callback_data="lapor:start")]]
    )
    deliveries: list[tuple[Officer, list[Outgoing]]] = []
    for officer_id in await schedule.officers_to_remind(conn, day):
        officer = await officers.get_officer(conn, officer_id)
        if officer is None or officer.telegram_chat_id is None:
            continue
        text = t("reminder", name=officer.name, day=fmt.day(day, t.language))
        revisit = await problems.revisit_households(conn, officer_id)
        if revisit:
            text += "\n" + t("reminder_revisit", count=fmt.number(revisit, t.language))
        deliveries.append(
            (officer, [Outgoing(officer.telegram_chat_id, text, reply_markup=button)])
        )
    await _deliver_all(services, summary, REMINDER, day, slot, deliveries)
    return summary


async def send_digests(services: Services, *, day: date, roles: list[Role]) -> RunSummary:
    summary = RunSummary()
    if not _working(services, day):
        summary.off_day = True
        return summary
    t = services.texts
    digests = await build_digests(
        services.db.conn, day=day, settings=services.settings, form=services.form, texts=t,
        roles=roles,
    )
    by_kind: dict[str, list[tuple[Officer, list[Outgoing]]]] = {}
    for digest in digests:
        chat = digest.recipient.telegram_chat_id
        assert chat is not None
        items = [Outgoing(chat, chunk) for chunk in digest.chunks]
        # Drawn only once the digest is claimed, while its texts go out (see Sender.send_all).
        items += [Outgoing(chat, chart.caption, make_photo=partial(render, chart.spec))
                  for chart in digest.charts]
        if digest.review:
            items.append(
                Outgoing(chat, t("review_prompt"), reply_markup=review_markup(digest.review, t))
            )
        by_kind.setdefault(digest.kind, []).append((digest.recipient, items))
    for kind, deliveries in by_kind.items():
        await _deliver_all(services, summary, kind, day, "", deliveries)
    return summary


async def run_slot(services: Services, slot: Slot, day: date) -> RunSummary:
    if slot.kind == REMINDER:
        summary = await send_reminders(services, day=day, slot=slot.label)
    else:
        assert slot.role is not None
        summary = await send_digests(services, day=day, roles=[slot.role])
    log.info("%s for %s: %d sent, %d already sent, %d unreachable, %d failed%s", slot.name,
             day, summary.sent, summary.already, summary.unreachable, summary.failed,
             " (not a working day)" if summary.off_day else "")
    return summary


def due_slots(services: Services, now: datetime) -> list[Slot]:
    """Slots of today whose time has passed less than the grace window ago."""
    grace = timedelta(hours=services.settings.missed_grace_hours)
    due = []
    for slot in slots(services):
        start = datetime.combine(now.date(), slot.at, now.tzinfo)
        if start <= now < start + grace:
            due.append(slot)
    return due


async def catch_up(services: Services) -> list[RunSummary]:
    """At start-up: run what was missed while the bot was down (the sent-log stops repeats)."""
    now = services.clock.now()
    return [await run_slot(services, slot, now.date()) for slot in due_slots(services, now)]


async def _slot_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    services: Services = context.application.bot_data[SERVICES_KEY]
    assert context.job is not None
    await run_slot(services, context.job.data, services.clock.today())


async def _catch_up_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await catch_up(context.application.bot_data[SERVICES_KEY])


def schedule_jobs(app: Application) -> None:
    """(Re)create every daily job with a deterministic name, in the deployment's time zone."""
    services: Services = app.bot_data[SERVICES_KEY]
    queue = app.job_queue
    assert queue is not None
    tz = services.settings.tz
    for slot in slots(services):
        for old in queue.get_jobs_by_name(slot.name):
            old.schedule_removal()
        # At the slot's time on the bot's clock (a rehearsal clock runs ahead or behind).
        at = real_time_of_day(services.clock, slot.at, tz)
        queue.run_daily(_slot_job, time=at, name=slot.name, data=slot)
    queue.run_once(_catch_up_job, when=0, name="catch-up")
