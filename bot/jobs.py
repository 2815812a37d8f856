"""Scheduled work: reminders and daily digests.

Every run goes through `run_slot()`, whoever starts it (the JobQueue at its time, the catch-up
at start-up, or an operator with `python -m bot send`). Each message is claimed in the
sent-log before it is sent, so no run, restart or second process sends it twice by itself.

What may not have gone out (a digest that failed, or whose claim a crash left behind) is sent
once more by the catch-up at the next start within MISSED_GRACE_HOURS of its time, or by an
operator (`python -m bot send digests --resend-failed`): digests are sent at least once. A
reminder is never sent again: at most once (a late reminder is worse than none, and one that
may have arrived must not come twice).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application, ContextTypes

from bot.clock import real_time_of_day
from bot.messaging import problem_alerts
from bot.messaging.delivery import DeliveryStatus, Outgoing
from bot.messaging.keyboards import review_markup
from bot.messaging.services import SERVICES_KEY, Services
from bot.metrics import sending
from bot.present import formatting as fmt
from bot.present.charts import render
from bot.present.digests import KINDS, iter_digests
from bot.present.review import review_pages
from bot.rules.calendar import is_working_day
from db import bots, officers, problems, schedule
from db.models import Officer, Role

log = logging.getLogger(__name__)

REMINDER = "reminder"


@dataclass(frozen=True)
class Slot:
    """One daily job: its deterministic name, local time and what it does, for the officers
    of one time zone (`zone`; None: every officer, at the deployment's TIMEZONE)."""

    name: str
    at: time
    kind: str  # REMINDER or a digest kind
    role: Role | None = None
    zone: ZoneInfo | None = None

    @property
    def label(self) -> str:
        return self.at.strftime("%H:%M")


@dataclass
class RunSummary:
    sent: int = 0  # of them, `resent` were claimed before and sent once more
    resent: int = 0
    already: int = 0
    unreachable: int = 0
    failed: int = 0
    off_day: bool = False
    recipients: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Resend:
    """Which digests claimed before are sent once more: those that failed, and those whose
    claim was left by a run that ended mid-send (a crash). `limit`: the most times one
    digest is claimed in all (None: no limit, for an operator who asks)."""

    limit: int | None

    def allows(self, old: schedule.Claim, at_work: Callable[[str | None], bool]) -> bool:
        within = self.limit is None or old.attempts < self.limit
        return within and old.left_unsent(at_work)


AT_START = Resend(limit=2)  # the first claim, and once more at the next start
BY_HAND = Resend(limit=None)  # python -m bot send digests --resend-failed
# Told of each digest sent or tried: the kind, the recipient, and how it went.
Progress = Callable[[str, Officer, DeliveryStatus, bool], None]


# Indonesia's three time zones: each daily slot runs once in each, at its local time there
# ("16:00" is 16:00 WIT in Papua, two hours before 16:00 WIB), and once in TIMEZONE.
INDONESIA = (ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura"))


def zones(default: ZoneInfo) -> list[ZoneInfo]:
    """The zones the daily slots run in: `default` (TIMEZONE) first, then the other
    Indonesian ones."""
    return [default, *(z for z in INDONESIA if z.key != default.key)]


def serves(default: ZoneInfo, slot_zone: ZoneInfo | None, officer: Officer) -> bool:
    """Whether a slot of `slot_zone` is for `officer`. The slot of `default` (TIMEZONE) also
    serves an officer whose zone has no slot of its own (a roster may name any IANA zone)."""
    return serves_zone(default, slot_zone, officer.zone(default).key)


def serves_zone(default: ZoneInfo, slot_zone: ZoneInfo | None, zone: str | None) -> bool:
    """Whether a slot of `slot_zone` is for the officers of `zone` (None: TIMEZONE)."""
    if slot_zone is None:
        return True
    mine = zone or default.key
    if slot_zone.key == default.key:
        return mine not in {z.key for z in zones(default)[1:]}
    return mine == slot_zone.key


def slots(services: Services) -> list[Slot]:
    s = services.settings
    daily = [Slot(f"reminder-{t:%H:%M}", t, REMINDER) for t in s.reminder_times] + [
        Slot("digest-pml", s.digest_time_pml, KINDS[Role.PML], Role.PML),
        Slot("digest-koseka", s.digest_time_koseka, KINDS[Role.KOSEKA], Role.KOSEKA),
        Slot("digest-admin", s.digest_time_admin, KINDS[Role.ADMIN], Role.ADMIN),
    ]
    # The slots of TIMEZONE keep their plain names; the others are named after their zone.
    default, *others = zones(s.tz)
    return [replace(slot, zone=zone, name=slot.name if zone is default
                    else f"{slot.name}@{zone.key}")
            for zone in (default, *others) for slot in daily]


def local_day(services: Services, zone: ZoneInfo | None) -> date:
    """Today on the bot's clock in `zone` (TIMEZONE when None)."""
    return services.clock.now().astimezone(zone or services.settings.tz).date()


def _working(services: Services, day: date) -> bool:
    s = services.settings
    return is_working_day(day, s.period_start, s.period_end, s.days_off)


# Recipients of one run served side by side. One after another, each waited for the one
# before: its answers from the Bot API, and a second between its own messages
# (CHAT_MESSAGE_INTERVAL), over a minute for 67 PML, an hour for 2,000. The Sender keeps the
# overall pace (MESSAGES_PER_SECOND) whatever this is.
SIDE_BY_SIDE = 16


@dataclass(frozen=True)
class _Run:
    """One run of a slot: where its messages are counted, and what it sends once more."""

    summary: RunSummary
    resend: Resend | None = None
    progress: Progress | None = None


async def _deliver_all(
    services: Services, run: _Run, kind: str, day: date, slot: str,
    deliveries: list[tuple[Officer, list[Outgoing]]],
) -> None:
    turns = asyncio.Semaphore(SIDE_BY_SIDE)

    async def one(officer: Officer, items: list[Outgoing]) -> None:
        async with turns:
            await _deliver(services, run, kind, officer, day, slot, items)

    with sending(REMINDER if kind == REMINDER else "digest"):  # counted as such (bot.metrics)
        await asyncio.gather(*(one(officer, items) for officer, items in deliveries))


async def _claim(
    services: Services, run: _Run, kind: str, officer: Officer, day: date, slot: str
) -> bool | None:
    """Claim the message: True when claimed for the first time, False when taken over to
    be sent once more (`run.resend`), None when it is not this run's to send."""
    db, now = services.db, services.clock.now()
    async with db.transaction() as conn:
        if await schedule.claim(conn, kind, officer.officer_id, day, slot, now, db.run_id):
            return True
        if run.resend is None:
            return None
        old = await schedule.get_claim(conn, kind, officer.officer_id, day, slot)
        if old is None or not run.resend.allows(old, await db.at_work()):
            return None
        if not await schedule.reclaim(conn, old, now, db.run_id):
            return None
    log.info("%s of %s for %s (%s before) sent once more", kind, day, officer.officer_id,
             old.status if old.status == schedule.FAILED else "left unfinished")
    return False


async def _deliver(
    services: Services, run: _Run, kind: str, officer: Officer, day: date, slot: str,
    items: list[Outgoing],
) -> None:
    db, now, summary = services.db, services.clock.now, run.summary
    first = await _claim(services, run, kind, officer, day, slot)
    if first is None:
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
        if not first:
            summary.resent += 1
        summary.recipients.append(officer.officer_id)
    elif status is DeliveryStatus.UNREACHABLE:
        summary.unreachable += 1
    else:
        summary.failed += 1
    if run.progress is not None:
        run.progress(kind, officer, status, not first)


async def send_reminders(
    services: Services, *, day: date, slot: str, zone: ZoneInfo | None = None
) -> RunSummary:
    """The reminders of `day` (the officers' own day) to the officers of `zone` (None:
    everyone) who have not reported."""
    summary = RunSummary()
    if not _working(services, day):
        summary.off_day = True
        return summary
    t, conn = services.texts, services.db.conn
    button = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t("btn_report_now"), callback_data="lapor:start")]]
    )
    form = services.form
    unit = form.field(form.progress_field).unit(t.language)  # what a revisit count counts
    deliveries: list[tuple[Officer, list[Outgoing]]] = []
    served = await bots.served_ids(conn, services.scope)  # several bots: only this one's
    for officer_id in await schedule.officers_to_remind(conn, day):
        if served is not None and officer_id not in served:
            continue
        officer = await officers.get_officer(conn, officer_id)
        if officer is None or officer.telegram_chat_id is None:
            continue
        if not serves(services.settings.tz, zone, officer):
            continue
        text = t("reminder", name=officer.name, day=fmt.day(day, t.language))
        revisit = await problems.revisit_households(conn, officer_id)
        if revisit:
            text += "\n" + t("reminder_revisit", count=fmt.number(revisit, t.language),
                              unit=unit)
        deliveries.append(
            (officer, [Outgoing(officer.telegram_chat_id, text, reply_markup=button)])
        )
    await _deliver_all(services, _Run(summary), REMINDER, day, slot, deliveries)
    return summary


async def send_digests(
    services: Services, *, day: date, roles: list[Role], resend: Resend | None = None,
    progress: Progress | None = None, zone: ZoneInfo | None = None,
) -> RunSummary:
    """The digests of `roles` for `day` that were not sent yet, to the recipients of `zone`
    (None: everyone); with `resend`, also those that may not have gone out (see `Resend`).
    `progress` is told of each one sent or tried."""
    summary = RunSummary()
    if not _working(services, day):
        summary.off_day = True
        return summary
    t = services.texts
    served = await bots.served_ids(services.db.conn, services.scope)  # several bots

    def wanted(recipient: Officer) -> bool:
        # An admin of ADMIN_TELEGRAM_IDS is this bot's own.
        if served is not None and recipient.on_roster and recipient.officer_id not in served:
            return False
        return serves(services.settings.tz, zone, recipient)

    run = _Run(summary, resend, progress)
    # A batch per shard of kecamatan: sent before the next one is read and built.
    async for batch in iter_digests(
        services.db.conn, day=day, settings=services.settings, form=services.form, texts=t,
        roles=roles, as_of=services.clock.now, wanted=wanted,
        zone_wanted=partial(serves_zone, services.settings.tz, zone),
        kecamatan_wanted=None if services.scope.everything else services.scope.covers,
    ):
        by_kind: dict[str, list[tuple[Officer, list[Outgoing]]]] = {}
        for digest in batch:
            chat = digest.recipient.telegram_chat_id
            assert chat is not None
            items = [Outgoing(chat, chunk) for chunk in digest.chunks]
            # Drawn only once the digest is claimed, while its texts go out (Sender.send_all).
            items += [Outgoing(chat, chart.caption, make_photo=partial(render, chart.spec))
                      for chart in digest.charts]
            items += [Outgoing(chat, page.text, reply_markup=review_markup(page, t))
                      for page in review_pages(digest.review, t, services.form)]
            by_kind.setdefault(digest.kind, []).append((digest.recipient, items))
        del batch
        for kind, deliveries in by_kind.items():
            await _deliver_all(services, run, kind, day, "", deliveries)
    return summary


async def run_slot(
    services: Services, slot: Slot, day: date, *, resend: Resend | None = None
) -> RunSummary:
    """Run one slot; `resend` applies to digests only (a reminder is sent at most once)."""
    if slot.kind == REMINDER:
        summary = await send_reminders(services, day=day, slot=slot.label, zone=slot.zone)
    else:
        assert slot.role is not None
        summary = await send_digests(services, day=day, roles=[slot.role], resend=resend,
                                     zone=slot.zone)
    log.info("%s for %s: %d sent (%d of them once more), %d already sent, %d unreachable,"
             " %d failed%s", slot.name, day, summary.sent, summary.resent, summary.already,
             summary.unreachable, summary.failed,
             " (not a working day)" if summary.off_day else "")
    return summary


def due_slots(services: Services, now: datetime) -> list[Slot]:
    """Slots of today (in each slot's zone) whose time has passed less than the grace
    window ago."""
    grace = timedelta(hours=services.settings.missed_grace_hours)
    due = []
    for slot in slots(services):
        local = now.astimezone(slot.zone or now.tzinfo)
        start = datetime.combine(local.date(), slot.at, local.tzinfo)
        if start <= local < start + grace:
            due.append(slot)
    return due


async def catch_up(services: Services) -> list[RunSummary]:
    """At start-up, for the slots of the grace window: send what was missed while the bot was
    down, and the digests that failed or that a crash left unfinished, once more (the
    sent-log stops repeats)."""
    now = services.clock.now()
    return [await run_slot(services, slot, local_day(services, slot.zone), resend=AT_START)
            for slot in due_slots(services, now)]


async def _slot_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    services: Services = context.application.bot_data[SERVICES_KEY]
    assert context.job is not None
    slot: Slot = context.job.data
    await run_slot(services, slot, local_day(services, slot.zone))


async def _catch_up_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    services: Services = context.application.bot_data[SERVICES_KEY]
    await catch_up(services)
    await problem_alerts.resend_escalations(services)


def schedule_jobs(app: Application) -> None:
    """(Re)create every daily job with a deterministic name, each at its time in its zone."""
    services: Services = app.bot_data[SERVICES_KEY]
    queue = app.job_queue
    assert queue is not None
    for slot in slots(services):
        for old in queue.get_jobs_by_name(slot.name):
            old.schedule_removal()
        # At the slot's time on the bot's clock (a rehearsal clock runs ahead or behind).
        at = real_time_of_day(services.clock, slot.at, slot.zone or services.settings.tz)
        queue.run_daily(_slot_job, time=at, name=slot.name, data=slot)
    queue.run_once(_catch_up_job, when=0, name="catch-up")
