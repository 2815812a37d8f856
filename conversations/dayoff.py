"""`/izin`: an officer declares today a day off (sick, leave, training) with a reason.

Two interactions: `/izin` and the reason, saved when it is tapped. The confirmation carries a
"Batalkan izin" button that takes the day off back. No reminder goes to them that day, and
digests show "izin" instead of "missing".
"""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
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
from conversations.drafts import canceller, close_buttons, conclude
from conversations.flows import Flow, FlowTracker
from db import schedule
from db.models import Role
from db.schedule import DAY_OFF_REASONS, DayOff

ASK_REASON = "izin_reason"
END = ConversationHandler.END
KEY = "izin"
UNDO = "izin:undo"


async def start(update: Update, context: BotContext) -> str | int:
    context.require_officer()
    assert context.user_data is not None
    t = context.t
    if context.officer.role != Role.PPL:
        await say(update, context, t("izin_ppl_only"))
        return END
    today = context.today()
    context.user_data[KEY] = {"day": today.isoformat()}
    rows = [
        [InlineKeyboardButton(t(f"izin_{r}"), callback_data=f"izin:{r}")]
        for r in DAY_OFF_REASONS
    ]
    await say(update, context, t("izin_ask_reason", day=fmt.day(today, t.language)),
               InlineKeyboardMarkup(rows))
    return ASK_REASON


async def on_reason(update: Update, context: BotContext) -> int | None:
    """The reason tapped: the day off is saved at once, with an undo button."""
    query = update.callback_query
    context.require_officer()
    assert query is not None and context.user_data is not None
    reason = (query.data or "").split(":", 1)[1]
    pending = context.user_data.get(KEY)
    if pending is None or reason not in DAY_OFF_REASONS:
        await query.answer(context.t("stale_button"), show_alert=True)
        return None
    context.user_data.pop(KEY)
    item = DayOff(officer_id=context.officer.officer_id, day=pending["day"], reason=reason,
                  note=None)
    async with context.db.transaction() as conn:
        await schedule.set_day_off(conn, item, context.clock.now())
    await query.answer()
    t = context.t
    undo = InlineKeyboardMarkup([[InlineKeyboardButton(
        t("btn_izin_undo"), callback_data=f"{UNDO}:{item.day.isoformat()}"
    )]])
    await close_buttons(update)
    await say(update, context, t("izin_saved", reason=t(f"izin_{item.reason}"),
                                  day=fmt.day(item.day, t.language)), undo)
    return END


async def on_undo(update: Update, context: BotContext) -> None:
    """"Batalkan izin": the day off is taken back (the officer is reminded again)."""
    query = update.callback_query
    officer = context.require_officer()
    assert query is not None
    try:
        day = date.fromisoformat((query.data or "").rsplit(":", 1)[-1])
    except ValueError:  # not one of our buttons (altered data)
        await query.answer(context.t("stale_button"), show_alert=True)
        return
    async with context.db.transaction() as conn:
        removed = await schedule.delete_day_off(conn, officer.officer_id, day)
    if not removed:  # undone already, or not this officer's day off
        await query.answer(context.t("stale_button"), show_alert=True)
        return
    await query.answer()
    t = context.t
    await conclude(update, context, t("izin_undone", day=fmt.day(day, t.language)))


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
            ASK_REASON: [CallbackQueryHandler(on_reason, pattern=r"^izin:(?!undo)"),
                         MessageHandler(~filters.COMMAND, _wrong_input("use_buttons_above"))],
        },
        fallbacks=[CommandHandler(names("batal"), cancel)],
        name="izin",
        persistent=True,
        allow_reentry=True,
    )


def register(app: Application) -> None:
    """The undo button of a saved day off, pressed any time after the flow ended."""
    app.add_handler(CallbackQueryHandler(on_undo, pattern=rf"^{UNDO}:"))
