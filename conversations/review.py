"""Kembalikan: a supervisor returns a report with a reason; the PPL is told at once."""

from __future__ import annotations

from datetime import date

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.commands import names
from bot.context import BotContext
from bot.messaging.delivery import DeliveryStatus, Outgoing
from bot.present import formatting as fmt
from bot.rules.review import RETURN
from conversations.drafts import canceller
from conversations.flows import Flow, FlowTracker
from db import areas, officers, reports, schedule
from db.models import Area
from handlers.review import drop_row, drop_stale_row, load_for_review

ASK_REASON = "ask_reason"
END = ConversationHandler.END
KEY = "review"
REASON_MAX_CHARS = 500


async def start_return(update: Update, context: BotContext) -> str | int:
    query = update.callback_query
    assert query is not None and context.user_data is not None
    loaded = await load_for_review(context, query.data or "")
    if isinstance(loaded, str):
        await query.answer(context.t(loaded), show_alert=True)
        if loaded in ("review_done_already", "review_changed"):
            await drop_stale_row(update, context)
        return END
    report, reporter = loaded
    await query.answer()
    await drop_row(update, context, report.id)
    context.user_data[KEY] = {"report_id": report.id, "revision": report.revision}
    assert update.effective_chat is not None
    area = await _area(context, reporter.officer_id, report.sls_code)
    await context.bot.send_message(
        update.effective_chat.id,
        context.t("ask_return_reason", name=reporter.name,
                  sls=area.sls_name if area else report.sls_code,
                  day=fmt.day(report.report_date, context.t.language)),
        parse_mode="HTML",
    )
    return ASK_REASON


async def on_reason(update: Update, context: BotContext) -> str | int:
    message = update.effective_message
    context.require_officer()
    assert message is not None and context.user_data is not None
    t = context.t
    reason = (message.text or "").strip()
    if not reason or len(reason) > REASON_MAX_CHARS:
        await message.reply_html(t("return_reason_invalid", max=REASON_MAX_CHARS))
        return ASK_REASON
    pending = context.user_data.pop(KEY, None)
    if pending is None:
        return END
    async with context.db.transaction() as conn:
        report = await reports.get_report_by_id(conn, pending["report_id"])
        returned = False
        if report is not None and report.revision == pending["revision"]:
            # The version the reviewer chose to return, if it still waits for review.
            returned = await reports.review_report(
                conn, report, reviewer_id=context.officer.officer_id, action="returned",
                reason=reason, now=context.clock.now())
    if report is None or not returned:
        await message.reply_html(t("review_done_already"))
        return END
    reporter = await officers.get_officer(context.db.conn, report.officer_id)
    assert reporter is not None
    told = await _tell_reporter(context, report.report_date, report.sls_code, reporter, reason)
    # Whether the PPL was actually told: a PPL not on the bot or who blocked it is named.
    await message.reply_html(t(_OUTCOME[told], name=reporter.name))
    return END


_OUTCOME = {
    DeliveryStatus.SENT: "return_saved",
    DeliveryStatus.UNREACHABLE: "return_saved_unreachable",
    DeliveryStatus.FAILED: "return_saved_failed",
    None: "return_saved_unlinked",
}


async def _tell_reporter(
    context: BotContext, day: date, sls_code: str, reporter, reason: str
) -> DeliveryStatus | None:
    """Tell the PPL; how it went (None: the PPL has not linked an account to the bot)."""
    if reporter.telegram_chat_id is None:
        return None
    t = context.t
    area = await _area(context, reporter.officer_id, sls_code)
    text = t("report_returned", day=fmt.day(day, t.language),
             sls=area.sls_name if area else sls_code, reviewer=context.officer.name, reason=reason)
    sender = context.services.sender
    assert sender is not None
    result = await sender.send(Outgoing(reporter.telegram_chat_id, text))
    if result.status is DeliveryStatus.UNREACHABLE:
        async with context.db.transaction() as conn:
            await schedule.mark_unreachable(conn, reporter.officer_id, context.clock.now())
    return result.status


async def _area(context: BotContext, officer_id: str, sls_code: str) -> Area | None:
    """The officer's work area of that SLS (None when it is no longer theirs)."""
    return next((a for a in await areas.areas_of(context.db.conn, officer_id)
                 if a.sls_code == sls_code), None)


cancel = canceller(KEY)


async def need_text(update: Update, context: BotContext) -> str:
    assert update.effective_message is not None
    await update.effective_message.reply_html(
        context.t("return_reason_invalid", max=REASON_MAX_CHARS)
    )
    return ASK_REASON


def build(tracker: FlowTracker) -> Flow:
    return Flow(
        tracker,
        draft=KEY,
        entry_points=[CallbackQueryHandler(start_return, pattern=rf"^{RETURN}:")],
        states={
            ASK_REASON: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, on_reason),
                MessageHandler(~filters.COMMAND, need_text),
            ]
        },
        fallbacks=[CommandHandler(names("batal"), cancel)],
        name="kembalikan",
        persistent=True,
        allow_reentry=True,
    )
