"""Setujui: a supervisor approves one of today's reports from a digest or `/progres`."""

from __future__ import annotations

import re

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.messaging.keyboards import without_report
from bot.rules.review import APPROVE, may_review
from db import officers, reports
from db.models import Officer, Report


async def load_for_review(context: BotContext, data: str) -> tuple[Report, Officer] | str:
    """The report named in the button and its reporter, or the text key of a refusal."""
    me = context.officer
    assert me is not None
    raw_id = data.rsplit(":", 1)[-1]
    if not re.fullmatch(r"[0-9]{1,18}", raw_id):  # forged: not an id SQLite can hold
        return "stale_button"
    report_id = int(raw_id)
    conn = context.db.conn
    report = await reports.get_report_by_id(conn, report_id)
    reporter = await officers.get_officer(conn, report.officer_id) if report else None
    if report is None or reporter is None:
        return "stale_button"
    pml = (
        await officers.get_officer(conn, reporter.supervisor_id)
        if reporter.supervisor_id
        else None
    )
    if not may_review(me, reporter, pml):
        return "not_allowed"
    if report.status not in reports.REVIEWABLE:
        return "review_done_already"
    return report, reporter


async def drop_row(update: Update, report_id: int) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    try:
        await query.edit_message_reply_markup(
            without_report(getattr(query.message, "reply_markup", None), report_id)
        )
    except BadRequest:
        pass  # the message is too old to edit or already changed: the review itself is saved


async def approve(update: Update, context: BotContext) -> None:
    query = update.callback_query
    context.require_officer()
    assert query is not None
    loaded = await load_for_review(context, query.data or "")
    if isinstance(loaded, str):
        await query.answer(context.t(loaded), show_alert=True)
        return
    report, reporter = loaded
    async with context.db.transaction() as conn:
        # The version read above, if it still waits for review: a return or a correction
        # saved meanwhile is not overwritten.
        approved = await reports.review_report(
            conn, report, reviewer_id=context.officer.officer_id, action="approved",
            reason=None, now=context.clock.now())
    if not approved:
        await query.answer(context.t("review_done_already"), show_alert=True)
        return
    await query.answer(context.t("review_approved", name=reporter.name))
    await drop_row(update, report.id)


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(approve, pattern=rf"^{APPROVE}:"))
