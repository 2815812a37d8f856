"""`/izin`: an officer declares today a day off (sick, leave, training) with a reason.

No reminder goes to them that day, and digests show "izin" instead of "missing".
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.commands import names
from bot.context import BotContext
from bot.messaging.replies import say
from bot.present import formatting as fmt
from conversations.drafts import canceller
from conversations.flows import Flow, FlowTracker
from db import schedule
from db.models import Role
from db.schedule import DAY_OFF_REASONS, DayOff

ASK_REASON = "izin_reason"
ASK_NOTE = "izin_note"
END = ConversationHandler.END
KEY = "izin"
NOTE_MAX_CHARS = 300


async def start(update: Update, context: BotContext) -> str | int:
    context.require_officer()
    assert context.user_data is not None
    t = context.t
    if context.officer.role != Role.PPL:
        await say(update, context, t("izin_ppl_only"))
        return END
    today = context.clock.today()
    context.user_data[KEY] = {"day": today.isoformat()}
    rows = [
        [InlineKeyboardButton(t(f"izin_{r}"), callback_data=f"izin:{r}")]
        for r in DAY_OFF_REASONS
    ]
    await say(update, context, t("izin_ask_reason", day=fmt.day(today, t.language)),
               InlineKeyboardMarkup(rows))
    return ASK_REASON


async def on_reason(update: Update, context: BotContext) -> str | int | None:
    query = update.callback_query
    assert query is not None and context.user_data is not None
    reason = (query.data or "").split(":", 1)[1]
    pending = context.user_data.get(KEY)
    if pending is None or reason not in DAY_OFF_REASONS:
        await query.answer(context.t("stale_button"), show_alert=True)
        return None
    await query.answer()
    await query.edit_message_reply_markup(None)
    pending["reason"] = reason
    skip = InlineKeyboardMarkup(
        [[InlineKeyboardButton(context.t("btn_skip"), callback_data="izin:skip")]]
    )
    await say(update, context, context.t("izin_ask_note"), skip)
    return ASK_NOTE


async def _save(update: Update, context: BotContext, note: str | None) -> int:
    context.require_officer()
    assert context.user_data is not None
    pending = context.user_data.pop(KEY)
    item = DayOff(officer_id=context.officer.officer_id, day=pending["day"],
                  reason=pending["reason"], note=note)
    async with context.db.transaction() as conn:
        await schedule.set_day_off(conn, item, context.clock.now())
    t = context.t
    await say(update, context, t("izin_saved", reason=t(f"izin_{item.reason}"),
                                  day=fmt.day(item.day, t.language)))
    return END


async def on_note(update: Update, context: BotContext) -> str | int:
    message = update.effective_message
    assert message is not None
    note = (message.text or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        await say(update, context, context.t("note_too_long", max=NOTE_MAX_CHARS))
        return ASK_NOTE
    return await _save(update, context, note or None)


async def on_skip(update: Update, context: BotContext) -> int | None:
    query = update.callback_query
    assert query is not None and context.user_data is not None
    if KEY not in context.user_data:
        await query.answer(context.t("stale_button"), show_alert=True)
        return None
    await query.answer()
    await query.edit_message_reply_markup(None)
    return await _save(update, context, None)


def _wrong_input(key: str):
    async def handler(update: Update, context: BotContext) -> None:
        await say(update, context, context.t(key))

    return handler


cancel = canceller(KEY)


def build(tracker: FlowTracker) -> Flow:
    return Flow(
        tracker,
        draft=KEY,
        entry_points=[CommandHandler(names("izin"), start)],
        states={
            ASK_REASON: [CallbackQueryHandler(on_reason, pattern=r"^izin:(?!skip)"),
                         MessageHandler(~filters.COMMAND, _wrong_input("use_buttons_above"))],
            ASK_NOTE: [CallbackQueryHandler(on_skip, pattern=r"^izin:skip$"),
                       MessageHandler(filters.TEXT & ~filters.COMMAND, on_note),
                       MessageHandler(~filters.COMMAND, _wrong_input("text_expected"))],
        },
        fallbacks=[CommandHandler(names("batal"), cancel)],
        name="izin",
        persistent=True,
        allow_reentry=True,
    )
