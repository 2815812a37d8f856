"""The access gate: every update passes here first (handler group -1).

It loads the officer behind the Telegram account into `context.officer`. Only registration
(`/start`, a shared contact) reaches unregistered accounts; group chats get a hint instead.
"""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.context import BotContext
from bot.messaging.replies import say
from db import officers, schedule
from db.models import Officer

ONCE_GROUP = -2
GATE_GROUP = -1


def admin_from_settings(context: BotContext, user_id: int, first_name: str) -> Officer | None:
    """Accounts in ADMIN_TELEGRAM_IDS are admins without a roster code."""
    if user_id in context.settings.admin_telegram_ids:
        return Officer.settings_admin(user_id, first_name)
    return None


def registration_keyboard(context: BotContext) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(context.t("share_phone_button"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def _is_registration(update: Update) -> bool:
    message = update.message
    if message is None:
        return False
    if message.contact is not None:
        return True
    text = message.text or ""
    return text.split(maxsplit=1)[0].split("@")[0] == "/start" if text else False


async def refuse(update: Update, context: BotContext, key: str) -> None:
    """A short answer for the update, whatever kind it is (message or button)."""
    if update.callback_query is not None:
        await update.callback_query.answer(context.t(key), show_alert=True)
    elif update.effective_message is not None:
        markup = registration_keyboard(context) if key == "not_registered" else None
        await say(update, context, context.t(key), markup)


async def once(update: Update, context: BotContext) -> None:
    """A repeated delivery of an update (Telegram retries after a crash) is dropped."""
    if not await context.services.update_log.first_time(update.update_id, context.clock.now()):
        raise ApplicationHandlerStop


async def gate(update: Update, context: BotContext) -> None:
    user = update.effective_user
    chat = update.effective_chat
    if user is None or user.is_bot:
        raise ApplicationHandlerStop
    if chat is not None and chat.type != ChatType.PRIVATE:
        message = update.effective_message
        if message is not None and (message.text or "").startswith("/"):
            await message.reply_html(context.t("group_hint"))  # quotes it: groups are busy
        raise ApplicationHandlerStop
    if update.edited_message is not None:
        # An edit is not a new answer: taking it as one would put it in the wrong step.
        await say(update, context, context.t("edit_ignored"))
        raise ApplicationHandlerStop
    officer = await officers.get_by_telegram_id(context.db.conn, user.id)
    if officer is not None and not officer.active:
        await refuse(update, context, "inactive")
        raise ApplicationHandlerStop
    if officer is not None and officer.unreachable_at is not None:
        async with context.db.transaction() as conn:  # they unblocked the bot
            await schedule.mark_reachable(conn, user.id)
    context.officer = officer or admin_from_settings(context, user.id, user.first_name)
    if context.officer is None and not _is_registration(update):
        await refuse(update, context, "not_registered")
        raise ApplicationHandlerStop
    query = update.callback_query
    if query is not None and not query.data:  # no data matches every button pattern: stale
        await refuse(update, context, "stale_button")
        raise ApplicationHandlerStop


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, once), group=ONCE_GROUP)
    app.add_handler(TypeHandler(Update, gate), group=GATE_GROUP)
