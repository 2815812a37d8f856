"""The access gate: every update passes here first (handler groups -2 and -1).

It loads the officer behind the Telegram account into `context.officer`. Only registration
(`/start`, a shared contact) reaches unregistered accounts, and only in a private chat; group
chats get a hint instead.

It fails closed: whatever goes wrong inside the de-duplication or the gate (the database, a
refusal that cannot be sent, an update of an unexpected shape) stops the update there, so no
handler after it ever runs without an officer the gate let in.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.context import BotContext
from bot.messaging.replies import say
from db import officers, schedule
from db.models import Officer

log = logging.getLogger(__name__)

ONCE_GROUP = -2
GATE_GROUP = -1

Step = Callable[[Update, BotContext], Awaitable[None]]


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
    words = (message.text or "").split(maxsplit=1)
    return bool(words) and words[0].split("@")[0] == "/start"


async def refuse(update: Update, context: BotContext, key: str) -> None:
    """A short answer for the update, whatever kind it is (message or button). An answer that
    cannot be sent (the chat blocked the bot, the network is down) changes nothing: the update
    is refused all the same."""
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(context.t(key), show_alert=True)
        elif update.effective_message is not None:
            markup = registration_keyboard(context) if key == "not_registered" else None
            await say(update, context, context.t(key), markup)
    except TelegramError as exc:
        log.warning("update %s: the refusal %s was not sent (%s)", update.update_id, key,
                    type(exc).__name__)


def fail_closed(step: Step) -> Step:
    """`step`, where any exception stops the update (logged, without the update's content);
    a private chat is told that something went wrong."""

    async def guarded(update: Update, context: BotContext) -> None:
        try:
            await step(update, context)
        except ApplicationHandlerStop:
            raise
        except Exception:
            context.officer = None
            chat = update.effective_chat
            log.exception("update %s (chat %s): %s failed; the update is dropped",
                          update.update_id, chat.id if chat else "-", step.__name__)
            if chat is not None and chat.type == ChatType.PRIVATE:
                with contextlib.suppress(Exception):  # a failure is reported as a failure
                    await refuse(update, context, "error_generic")
            raise ApplicationHandlerStop from None

    guarded.__name__ = step.__name__
    return guarded


async def once(update: Update, context: BotContext) -> None:
    """A repeated delivery of an update (Telegram retries after a crash) is dropped."""
    if not await context.services.update_log.first_time(update.update_id, context.clock.now()):
        raise ApplicationHandlerStop


async def gate(update: Update, context: BotContext) -> None:
    user = update.effective_user
    chat = update.effective_chat
    if user is None or user.is_bot or chat is None:  # a channel, an inline query: not ours
        raise ApplicationHandlerStop
    if chat.type != ChatType.PRIVATE:
        message = update.effective_message
        if message is not None and (message.text or "").startswith("/"):
            try:
                await message.reply_html(context.t("group_hint"))  # quotes it: groups are busy
            except TelegramError as exc:  # the bot may not post there
                log.warning("update %s: no group hint (%s)", update.update_id,
                            type(exc).__name__)
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
    app.add_handler(TypeHandler(Update, fail_closed(once)), group=ONCE_GROUP)
    app.add_handler(TypeHandler(Update, fail_closed(gate)), group=GATE_GROUP)
