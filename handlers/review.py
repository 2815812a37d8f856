"""Setujui: a supervisor approves a report of a review message (from a digest or `/progres`),
one at a time ("✅ Setujui N") or every report still in the message ("✅ Setujui semua", after
a confirmation, in one transaction)."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.messaging.keyboards import confirm_all_markup, reviewed_in, without_reports
from bot.messaging.replies import say
from bot.present.texts import Texts
from bot.rules.review import (
    APPROVE,
    APPROVE_ALL,
    CANCEL_ALL,
    CONFIRM_ALL,
    may_review,
    review_target,
)
from db import areas, officers, reports
from db.connection import WRITE_ERRORS
from db.engine import Connection
from db.models import Officer, Report

log = logging.getLogger(__name__)

# Why a report of "Setujui semua" was not approved: the refusal's text key -> the short reason.
_SKIPPED = {
    "stale_button": "review_skip_gone",
    "not_allowed": "review_skip_not_allowed",
    "review_done_already": "review_skip_done",
    "review_changed": "review_skip_changed",
}


async def _reviewable(
    conn: Connection, me: Officer, report_id: int, revision: int | None
) -> tuple[Report, Officer] | str:
    """The report and its reporter when `me` may still review the revision shown (None: the
    current one), or the text key of a refusal."""
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
    if revision is not None and report.revision != revision:
        return "review_changed"  # the PPL sent new numbers since the message was shown
    if report.status not in reports.REVIEWABLE:
        return "review_done_already"
    return report, reporter


async def load_for_review(context: BotContext, data: str) -> tuple[Report, Officer] | str:
    """The report named in the button and its reporter, or the text key of a refusal."""
    target = review_target(data)
    if target is None:  # forged or altered: not one of our buttons
        return "stale_button"
    return await _reviewable(context.db.conn, context.require_officer(), *target)


def _markup(update: Update) -> InlineKeyboardMarkup | None:
    query = update.callback_query
    assert query is not None and query.message is not None
    return getattr(query.message, "reply_markup", None)


async def _edit_markup(update: Update, markup: InlineKeyboardMarkup | None) -> None:
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_reply_markup(markup)
    except BadRequest:
        pass  # the message is too old to edit or already changed: the review itself is saved


async def drop_row(update: Update, context: BotContext, report_id: int) -> None:
    """The review message without the buttons of one report."""
    await _edit_markup(update, without_reports(_markup(update), {report_id}, context.t))


async def drop_stale_row(update: Update, context: BotContext) -> None:
    """The review message without the buttons of a report that can no longer be reviewed
    from it (reviewed already, or replaced by new numbers)."""
    query = update.callback_query
    assert query is not None
    target = review_target(query.data or "")
    if target is not None:
        await drop_row(update, context, target[0])


async def approve(update: Update, context: BotContext) -> None:
    query = update.callback_query
    context.require_officer()
    assert query is not None
    loaded = await load_for_review(context, query.data or "")
    if isinstance(loaded, str):
        await query.answer(context.t(loaded), show_alert=True)
        if loaded in ("review_done_already", "review_changed"):
            await drop_stale_row(update, context)
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
    await drop_row(update, context, report.id)


async def ask_approve_all(update: Update, context: BotContext) -> None:
    """ "Setujui semua": the confirmation in place of the button, the count in a notice."""
    query = update.callback_query
    context.require_officer()
    assert query is not None
    markup = _markup(update)
    count = len(reviewed_in(markup))
    if count == 0:
        await query.answer(context.t("stale_button"), show_alert=True)
        return
    await query.answer(context.t("review_all_confirm", count=count))
    await _edit_markup(update, confirm_all_markup(markup, context.t))


async def cancel_approve_all(update: Update, context: BotContext) -> None:
    """Batal on the confirmation: "Setujui semua" again, nothing approved."""
    query = update.callback_query
    assert query is not None
    markup = _markup(update)
    if not reviewed_in(markup):  # not a review message (altered data)
        await query.answer(context.t("stale_button"), show_alert=True)
        return
    await query.answer()
    await _edit_markup(update, without_reports(markup, (), context.t))


async def approve_all(update: Update, context: BotContext) -> None:
    """Every report still in the message, in the revision it shows, in one transaction; the
    ones that changed meanwhile (a new revision, reviewed by someone else) are named."""
    query = update.callback_query
    me = context.require_officer()
    assert query is not None
    t, conn = context.t, context.db.conn
    markup = _markup(update)
    shown = reviewed_in(markup)
    if not shown:
        await query.answer(t("stale_button"), show_alert=True)
        return
    to_approve: list[tuple[int, int]] = []
    skipped: list[tuple[int, str]] = []  # report id, refusal key
    for report_id, revision in shown:
        loaded = await _reviewable(conn, me, report_id, revision)
        if isinstance(loaded, str):
            skipped.append((report_id, loaded))
        else:
            to_approve.append((report_id, loaded[0].revision))
    try:
        async with context.db.transaction() as tx:
            approved = await reports.approve_reports(
                tx, to_approve, reviewer_id=me.officer_id, now=context.clock.now())
    except WRITE_ERRORS:
        # Rolled back: none of them is approved. The reviewer reads so, with the buttons back.
        log.exception("approval of %d reports by %s not saved", len(to_approve), me.officer_id)
        await query.answer()
        await _edit_markup(update, without_reports(markup, (), t))
        await say(update, context, t("review_all_not_saved"))
        return
    for report_id, revision in to_approve:
        if report_id not in approved:  # changed between the check and the transaction
            why = await _reviewable(conn, me, report_id, revision)
            skipped.append((report_id, why if isinstance(why, str) else "review_done_already"))
    await query.answer()
    await _edit_markup(update, without_reports(markup, [i for i, _ in shown], t))
    await say(update, context, await _outcome(conn, t, approved, skipped))


async def _label(conn: Connection, report_id: int) -> str:
    """ "Putri PPL · RT 001 Banglas" for a report (its id when it is gone)."""
    report = await reports.get_report_by_id(conn, report_id)
    reporter = await officers.get_officer(conn, report.officer_id) if report else None
    if report is None or reporter is None:
        return f"#{report_id}"
    area = next((a for a in await areas.areas_of(conn, report.officer_id)
                 if a.sls_code == report.sls_code), None)
    return f"{reporter.name} · {area.sls_name if area else report.sls_code}"


async def _outcome(
    conn: Connection, t: Texts, approved: list[int], skipped: list[tuple[int, str]]
) -> str:
    if approved:
        names = [await _label(conn, report_id) for report_id in approved]
        lines = [t("review_all_done", count=len(approved), names="; ".join(names))]
    else:
        lines = [t("review_all_none")]
    if skipped:
        lines.append(t("review_all_skipped", count=len(skipped)))
        for report_id, key in skipped:
            lines.append(t("review_skipped_line", label=await _label(conn, report_id),
                           why=t(_SKIPPED.get(key, "review_skip_done"))))
    return "\n".join(lines)


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(approve, pattern=rf"^{APPROVE}:"))
    app.add_handler(CallbackQueryHandler(ask_approve_all, pattern=rf"^{APPROVE_ALL}$"))
    app.add_handler(CallbackQueryHandler(approve_all, pattern=rf"^{CONFIRM_ALL}$"))
    app.add_handler(CallbackQueryHandler(cancel_approve_all, pattern=rf"^{CANCEL_ALL}$"))
