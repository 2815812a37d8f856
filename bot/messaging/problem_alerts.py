"""Messages about field problems that the bot starts itself: the alert of a new problem, the
notice to the reporter on every status change, the forward to the KOSEKA, and the escalation
job (KOSEKA after PROBLEM_ESCALATE_HOURS, the admins after twice that; each level once).

Everything goes through the one `Sender`; a 403 marks the officer unreachable. Nothing goes to
an officer who is no longer active on the roster (checked just before each message), and the
supervisors of a reporter are the active ones.

An escalation is a scheduled message: each recipient's alert is claimed in the sent-log (kind
`escalation_<level>`, slot the problem id) in the transaction that records the level, and
finished after it is sent. One that failed, or whose claim a crash left unfinished, is sent
once more at the next start within MISSED_GRACE_HOURS (`resend_escalations`): at least once.
The other messages here answer what someone just did, and go at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta

from telegram.ext import Application, ContextTypes

from bot.messaging import keyboards
from bot.messaging.delivery import DeliveryStatus, Outgoing
from bot.messaging.services import SERVICES_KEY, Services
from bot.metrics import sending
from bot.present import problems as problem_view
from bot.rules import problems as rules
from db import officers, problems, schedule
from db.models import (
    ADMIN_LEVEL,
    KOSEKA_LEVEL,
    SETTINGS_ADMIN_PREFIX,
    Officer,
    ProblemModel,
    Role,
)

log = logging.getLogger(__name__)

JOB_NAME = "problem-escalation"
JOB_INTERVAL_SECONDS = 600
ESCALATION_PREFIX = "escalation_"
ESCALATION_ATTEMPTS = 2  # the first, and once more at the next start


async def admins(services: Services) -> list[Officer]:
    """Admins on the roster, plus the accounts of ADMIN_TELEGRAM_IDS (one entry per chat)."""
    found = await officers.list_officers(services.db.conn, role=Role.ADMIN)
    chats = {o.telegram_chat_id for o in found if o.telegram_chat_id is not None}
    for user_id in services.settings.admin_telegram_ids:
        if user_id not in chats:
            chats.add(user_id)
            found.append(Officer.settings_admin(user_id, "Admin"))
    return found


async def chain_of(services: Services, officer_id: str) -> rules.Chain:
    """The active supervisors above the officer (one deactivated is skipped)."""
    supervisors = await problems.supervisor_chain(services.db.conn, officer_id)
    return rules.chain_from([o for o in supervisors if o.active])


def alert_items(
    problem: ProblemModel, recipient: Officer, headline: str, services: Services
) -> list[Outgoing]:
    """The alert text (the headline, the description on the second line, the details) with the
    status buttons, then the photo and the location, if any."""
    t = services.texts
    chat = recipient.telegram_chat_id
    assert chat is not None
    text = problem_view.item(problem, t, headline, tz=services.settings.tz,
                             unit=problem_view.revisit_unit(services.form, t.language))
    markup = keyboards.status_markup(problem, t, forward=recipient.role == Role.PML)
    items = [Outgoing(chat, text, reply_markup=markup)]
    if problem.photo_file_id:
        items.append(Outgoing(chat, t("problem_photo_caption", id=problem.id),
                              photo_id=problem.photo_file_id))
    if problem.latitude is not None and problem.longitude is not None:
        items.append(Outgoing(chat, location=(problem.latitude, problem.longitude)))
    return items


async def deliver(services: Services, recipient: Officer, items: list[Outgoing]) -> bool:
    """Send to one officer; True when everything went. A blocked bot marks them unreachable."""
    return await _deliver(services, recipient, items) is DeliveryStatus.SENT


async def _still_active(services: Services, recipient: Officer) -> bool:
    """The roster as it is now: the officer may have been deactivated (a roster import) or
    unlinked since `recipient` was read. An admin of ADMIN_TELEGRAM_IDS always is."""
    if not recipient.on_roster:
        return True
    now = await officers.get_officer(services.db.conn, recipient.officer_id)
    return (now is not None and now.active
            and now.telegram_chat_id == recipient.telegram_chat_id)


async def _deliver(
    services: Services, recipient: Officer, items: list[Outgoing]
) -> DeliveryStatus | None:
    """`deliver`, with how it went; None when the recipient may not receive it."""
    if recipient.telegram_chat_id is None or not items:
        return None
    if not await _still_active(services, recipient):
        log.info("no message to %s: no longer active or linked", recipient.officer_id)
        return None
    assert services.sender is not None
    with sending("alert"):
        results = await services.sender.send_all(items)
    status = results[-1].status
    if status is DeliveryStatus.UNREACHABLE and recipient.on_roster:
        async with services.db.transaction() as conn:
            await schedule.mark_unreachable(conn, recipient.officer_id, services.clock.now())
    return status


async def send_alert(
    services: Services, problem: ProblemModel, recipients: Sequence[Officer], headline: str,
) -> list[Officer]:
    """The problem to each recipient; those it reached."""
    reached = []
    for recipient in recipients:
        if recipient.telegram_chat_id is None:
            continue
        if await deliver(services, recipient, alert_items(problem, recipient, headline, services)):
            reached.append(recipient)
    return reached


async def alert_new_problem(services: Services, problem: ProblemModel) -> list[Officer]:
    """At once after the problem is saved: its PML (and the KOSEKA when urgent)."""
    t = services.texts
    reporter = await officers.get_officer(services.db.conn, problem.officer_id)
    assert reporter is not None
    chain = await chain_of(services, reporter.officer_id)
    recipients = rules.alert_recipients(
        reporter, chain, await admins(services), urgent=problem.urgent
    )
    return await send_alert(services, problem, recipients, problem_view.alert_headline(problem, t))


async def tell_reporter(services: Services, problem: ProblemModel, actor: Officer) -> bool:
    """The reporter learns the new status (not when they changed it themselves)."""
    if actor.officer_id == problem.officer_id:
        return False
    reporter = await officers.get_officer(services.db.conn, problem.officer_id)
    if reporter is None or reporter.telegram_chat_id is None:
        return False
    t = services.texts
    text = t("problem_reporter_notice", id=problem.id,
             category=problem_view.category_label(problem.category, t),
             status=problem_view.status_label(problem.status, t), name=actor.name)
    return await deliver(services, reporter, [Outgoing(reporter.telegram_chat_id, text)])


async def forward(services: Services, problem: ProblemModel, actor: Officer) -> list[Officer]:
    """Teruskan ke KOSEKA: the KOSEKA above (the admins when there is none)."""
    chain = await chain_of(services, problem.officer_id)
    recipients = rules.forward_recipients(actor, chain, await admins(services))
    headline = services.texts("problem_alert_forwarded", id=problem.id, name=actor.name)
    return await send_alert(services, problem, recipients, headline)


async def tell_visited(services: Services, problem: ProblemModel) -> None:
    """The PML (or whoever was alerted) learns the households were visited again."""
    reporter = await officers.get_officer(services.db.conn, problem.officer_id)
    assert reporter is not None
    chain = await chain_of(services, reporter.officer_id)
    t = services.texts
    text = t("problem_visited_notice", id=problem.id, name=reporter.name,
             unit=problem_view.revisit_unit(services.form, t.language))
    for recipient in rules.alert_recipients(reporter, chain, await admins(services), urgent=False):
        if recipient.telegram_chat_id is not None:
            await deliver(services, recipient, [Outgoing(recipient.telegram_chat_id, text)])


def escalation_kind(level: str) -> str:
    """The sent-log kind of an escalation's alerts."""
    return f"{ESCALATION_PREFIX}{level}"


async def escalate_problems(services: Services) -> int:
    """Escalate every unresolved problem whose time ran out; the number of escalations made.

    Each level is claimed in `problem_escalations`, and each of its alerts in the sent-log,
    in one transaction before they go, so a second run, a restart or a second process never
    escalates the same problem to the same level twice; a crash after that transaction
    leaves the claims for `resend_escalations`.
    """
    hours = services.settings.problem_escalate_hours
    db, now = services.db, services.clock.now()
    pending = await problems.open_problems(db.conn, None)
    done = await problems.escalation_levels(db.conn, [p.id for p in pending])
    made = 0
    admin_list: list[Officer] | None = None
    for problem in pending:
        for level in rules.due_levels(problem, now, hours, done[problem.id]):
            if admin_list is None:
                admin_list = await admins(services)
            chain = await chain_of(services, problem.officer_id)
            recipients = [o for o in rules.escalation_recipients(level, chain, admin_list)
                          if o.telegram_chat_id is not None]
            async with db.transaction() as tx:
                current = await problems.get_problem(tx, problem.id)
                if current is None or not current.is_open:
                    break
                if not await problems.claim_escalation(tx, problem.id, level, now, "auto"):
                    continue
                for recipient in recipients:
                    await schedule.claim(tx, escalation_kind(level), recipient.officer_id,
                                         now.date(), str(problem.id), now, db.run_id)
            made += 1
            reached = 0
            for recipient in recipients:
                reached += await _send_escalation(services, current, level, recipient,
                                                  now.date())
            log.info("problem %d escalated to %s: %d of %d reached", problem.id, level,
                     reached, len(recipients))
    return made


async def _send_escalation(
    services: Services, problem: ProblemModel, level: str, recipient: Officer, day: date
) -> bool:
    """One claimed escalation alert: sent, and its claim finished with how it went."""
    hours = services.settings.problem_escalate_hours
    headline = services.texts(
        "problem_alert_escalated", id=problem.id,
        hours=problem_view.hours_text(rules.level_hours(level, hours), services.texts.language),
    )
    status = await _deliver(services, recipient,
                            alert_items(problem, recipient, headline, services))
    async with services.db.transaction() as conn:
        await schedule.finish(conn, escalation_kind(level), recipient.officer_id, day,
                              str(problem.id), (status or DeliveryStatus.FAILED).value,
                              services.clock.now())
    return status is DeliveryStatus.SENT


async def resend_escalations(services: Services) -> int:
    """At start-up: the escalation alerts of the last MISSED_GRACE_HOURS that failed, or whose
    claim a crash left unfinished, sent once more (each at most once more); how many went.

    Not for a problem resolved meanwhile, nor to an officer no longer active."""
    db, now = services.db, services.clock.now()
    since = now - timedelta(hours=services.settings.missed_grace_hours)
    kinds = [escalation_kind(level) for level in (KOSEKA_LEVEL, ADMIN_LEVEL)]
    at_work = await db.at_work()
    left = [c for c in await schedule.claims_of(db.conn, kinds, [schedule.CLAIMED,
                                                                 schedule.FAILED])
            if c.attempts < ESCALATION_ATTEMPTS and c.claimed_at >= since
            and c.left_unsent(at_work)]
    sent = 0
    for old in left:
        async with db.transaction() as tx:
            if not await schedule.reclaim(tx, old, now, db.run_id):
                continue
        problem = await problems.get_problem(db.conn, int(old.slot))
        recipient = await _recipient(services, old.recipient)
        if problem is None or not problem.is_open or recipient is None:
            async with db.transaction() as tx:  # no longer needed: not sent, not tried again
                await schedule.finish(tx, old.kind, old.recipient, old.day, old.slot,
                                      schedule.FAILED, now)
            continue
        level = old.kind.removeprefix(ESCALATION_PREFIX)
        log.info("escalation of problem %d to %s sent once more to %s", problem.id, level,
                 old.recipient)
        sent += await _send_escalation(services, problem, level, recipient, old.day)
    return sent


async def _recipient(services: Services, recipient_id: str) -> Officer | None:
    """The officer of a claim; an admin of ADMIN_TELEGRAM_IDS while the setting still has it."""
    if recipient_id.startswith(SETTINGS_ADMIN_PREFIX):
        user_id = int(recipient_id.removeprefix(SETTINGS_ADMIN_PREFIX))
        known = user_id in services.settings.admin_telegram_ids
        return Officer.settings_admin(user_id, "Admin") if known else None
    officer = await officers.get_officer(services.db.conn, recipient_id)
    return officer if officer is not None and officer.active else None


async def _escalation_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await escalate_problems(context.application.bot_data[SERVICES_KEY])


def schedule_problem_jobs(app: Application) -> None:
    """(Re)create the repeating escalation check, every 10 minutes from start-up."""
    queue = app.job_queue
    assert queue is not None
    for old in queue.get_jobs_by_name(JOB_NAME):
        old.schedule_removal()
    queue.run_repeating(_escalation_job, interval=JOB_INTERVAL_SECONDS, first=0, name=JOB_NAME)
