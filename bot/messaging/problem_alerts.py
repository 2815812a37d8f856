"""Messages about field problems that the bot starts itself: the alert of a new problem, the
notice to the reporter on every status change, the forward to the KOSEKA, and the escalation
job (KOSEKA after PROBLEM_ESCALATE_HOURS, the admins after twice that; each level once).

Everything goes through the one `Sender`; a 403 marks the officer unreachable.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram.ext import Application, ContextTypes

from bot.messaging import keyboards
from bot.messaging.delivery import DeliveryStatus, Outgoing
from bot.messaging.services import SERVICES_KEY, Services
from bot.metrics import sending
from bot.present import problems as problem_view
from bot.present.texts import Raw
from bot.rules import problems as rules
from db import officers, problems, schedule
from db.models import Officer, ProblemModel, Role

log = logging.getLogger(__name__)

JOB_NAME = "problem-escalation"
JOB_INTERVAL_SECONDS = 600


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
    return rules.chain_from(await problems.supervisor_chain(services.db.conn, officer_id))


def alert_items(
    problem: ProblemModel, recipient: Officer, headline: str, services: Services
) -> list[Outgoing]:
    """The alert text with the status buttons, then the photo and the location, if any."""
    t = services.texts
    chat = recipient.telegram_chat_id
    assert chat is not None
    text = headline + "\n" + problem_view.details(problem, t, with_reporter=True)
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
    if recipient.telegram_chat_id is None or not items:
        return False
    assert services.sender is not None
    with sending("alert"):
        results = await services.sender.send_all(items)
    status = results[-1].status
    if status is DeliveryStatus.UNREACHABLE and recipient.on_roster:
        async with services.db.transaction() as conn:
            await schedule.mark_unreachable(conn, recipient.officer_id, services.clock.now())
    return status is DeliveryStatus.SENT


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
    headline = t("problem_alert_new", id=problem.id,
                 urgent=Raw(t("problem_urgent_flag") if problem.urgent else ""))
    return await send_alert(services, problem, recipients, headline)


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
    text = t("problem_visited_notice", id=problem.id, name=reporter.name)
    for recipient in rules.alert_recipients(reporter, chain, await admins(services), urgent=False):
        if recipient.telegram_chat_id is not None:
            await deliver(services, recipient, [Outgoing(recipient.telegram_chat_id, text)])


async def escalate_problems(services: Services) -> int:
    """Escalate every unresolved problem whose time ran out; the number of escalations made.

    Each level is claimed in `problem_escalations` before its alert goes, so a second run, a
    restart or a second process never escalates the same problem to the same level twice.
    """
    hours = services.settings.problem_escalate_hours
    now = services.clock.now()
    conn = services.db.conn
    pending = await problems.open_problems(conn, None)
    done = await problems.escalation_levels(conn, [p.id for p in pending])
    made = 0
    admin_list: list[Officer] | None = None
    for problem in pending:
        for level in rules.due_levels(problem, now, hours, done[problem.id]):
            async with services.db.transaction() as tx:
                current = await problems.get_problem(tx, problem.id)
                if current is None or not current.is_open:
                    break
                if not await problems.claim_escalation(tx, problem.id, level, now, "auto"):
                    continue
            made += 1
            if admin_list is None:
                admin_list = await admins(services)
            chain = await chain_of(services, problem.officer_id)
            recipients = rules.escalation_recipients(level, chain, admin_list)
            headline = services.texts(
                "problem_alert_escalated", id=current.id,
                hours=problem_view.hours_text(
                    rules.level_hours(level, hours), services.texts.language
                ),
            )
            reached = await send_alert(services, current, recipients, headline)
            log.info("problem %d escalated to %s: %d of %d reached", problem.id, level,
                     len(reached), len(recipients))
    return made


async def _escalation_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await escalate_problems(context.application.bot_data[SERVICES_KEY])


def schedule_problem_jobs(app: Application) -> None:
    """(Re)create the repeating escalation check, every 10 minutes from start-up."""
    queue = app.job_queue
    assert queue is not None
    for old in queue.get_jobs_by_name(JOB_NAME):
        old.schedule_removal()
    queue.run_repeating(_escalation_job, interval=JOB_INTERVAL_SECONDS, first=0, name=JOB_NAME)
