"""The access gate: every update passes here first (handler groups -3, -2 and -1).

It loads the officer behind the Telegram account into `context.officer`. Only registration
(`/start`, a shared contact) reaches unregistered accounts, and only in a private chat; group
chats get a hint instead.

Floods and strangers cost little (`handlers/throttle.py` keeps the windows, in memory): a
chat that sends more than CHAT_UPDATES_PER_SECOND updates within a second has the rest
dropped before anything else looks at them, with one notice in a private chat that was sent
no other hint lately; the registration hint, the group hint and "edit ignored" reach a chat
at most once per HINT_INTERVAL_MINUTES, and the updates in between are dropped silently. An
account told it is not registered has its next updates dropped there too, before the
database is asked again, until the interval ends or it registers (`/start`, a contact).

It fails closed: whatever goes wrong inside the de-duplication or the gate (the database, a
refusal that cannot be sent, an update of an unexpected shape) stops the update there, so no
handler after it ever runs without an officer the gate let in.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.context import BotContext
from bot.messaging.delivery import HINT, HintsBacklogged
from bot.messaging.replies import call, say
from bot.messaging.services import SERVICES_KEY
from db import bots, officers, schedule
from db.models import Officer, Role
from handlers.throttle import ChatWindows

log = logging.getLogger(__name__)

FLOOD_GROUP = -3
ONCE_GROUP = -2
GATE_GROUP = -1
WINDOWS_KEY = "access_windows"

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


LOW_PRIORITY = frozenset({"not_registered", "too_many_updates"})  # after everyone's answers


async def refuse(update: Update, context: BotContext, key: str) -> bool:
    """A short answer for the update, whatever kind it is (message or button); whether it was
    sent. An answer that cannot be sent (the chat blocked the bot, the network is down)
    changes nothing: the update is refused all the same."""
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(context.t(key), show_alert=True)
        elif update.effective_message is not None:
            markup = registration_keyboard(context) if key == "not_registered" else None
            await say(update, context, context.t(key), markup,
                      rate_limit=HINT if key in LOW_PRIORITY else None)
        else:
            return False
    except HintsBacklogged:
        log.info("update %s: the refusal %s waits for a later update (hints backlogged)",
                 update.update_id, key)
        return False
    except TelegramError as exc:
        log.warning("update %s: the refusal %s was not sent (%s)", update.update_id, key,
                    type(exc).__name__)
        return False
    return True


def windows_of(context: BotContext) -> ChatWindows:
    return context.application.bot_data[WINDOWS_KEY]


async def hint(update: Update, context: BotContext, key: str,
               send: Callable[[], Awaitable[bool]], *, alone: bool = False) -> None:
    """`send` the hint `key` unless this chat got it within HINT_INTERVAL_MINUTES (any hint,
    with `alone`); a hint that could not be sent does not count. A button pressed meanwhile
    is answered without a text, so that its spinner stops."""
    chat = update.effective_chat
    if chat is None:
        return
    windows = windows_of(context)
    if not windows.may_hint(chat.id, key, context.clock.now(), alone=alone):
        log.debug("update %s: hint %s to chat %s already sent lately", update.update_id, key,
                  chat.id)
        await _stop_spinner(update)
        return
    try:
        sent = await send()
    except BaseException:
        windows.forget(chat.id, key)
        raise
    if not sent:
        windows.forget(chat.id, key)


async def flood(update: Update, context: BotContext) -> None:
    """Updates beyond CHAT_UPDATES_PER_SECOND in one second from one chat go no further, nor
    do those of an account told lately that it is not registered (unless it registers)."""
    chat, user = update.effective_chat, update.effective_user
    key = chat.id if chat is not None else user.id if user is not None else None
    if key is None:
        return
    windows, now = windows_of(context), context.clock.now()
    if windows.arrived(key, now):
        log.info("update %s: chat %s is flooding; dropped", update.update_id, key)
        if chat is not None and chat.type == ChatType.PRIVATE:
            await hint(update, context, "too_many_updates",
                       lambda: refuse(update, context, "too_many_updates"), alone=True)
        raise ApplicationHandlerStop
    if windows.hinted(key, "not_registered", now) and not _is_registration(update):
        log.debug("update %s: chat %s was told it is not registered; dropped",
                  update.update_id, key)
        await _stop_spinner(update)
        raise ApplicationHandlerStop


async def _stop_spinner(update: Update) -> None:
    """A button press answered without a text, so that its spinner stops."""
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()


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

            async def group_hint() -> bool:
                try:  # quoting the command: groups are busy
                    await call(context, "sendMessage", chat_id=chat.id, parse_mode="HTML",
                               text=context.t("group_hint"), rate_limit=HINT,
                               reply_parameters={"message_id": message.message_id})
                except HintsBacklogged:
                    return False
                except TelegramError as exc:  # the bot may not post there
                    log.warning("update %s: no group hint (%s)", update.update_id,
                                type(exc).__name__)
                    return False
                return True

            await hint(update, context, "group_hint", group_hint)
        raise ApplicationHandlerStop
    if update.edited_message is not None:
        # An edit is not a new answer: taking it as one would put it in the wrong step.
        await hint(update, context, "edit_ignored", lambda: _say(update, context, "edit_ignored"))
        raise ApplicationHandlerStop
    officer = await officers.get_by_telegram_id(context.db.conn, user.id)
    if officer is not None and not officer.active:
        await refuse(update, context, "inactive")
        raise ApplicationHandlerStop
    if officer is not None and not _served_here(context, officer):
        await hint(update, context, "other_bot_linked",
                   lambda: _other_bot(update, context, officer))
        raise ApplicationHandlerStop
    if officer is not None and officer.unreachable_at is not None:
        async with context.db.transaction() as conn:  # they unblocked the bot
            await schedule.mark_reachable(conn, user.id)
    context.officer = officer or admin_from_settings(context, user.id, user.first_name)
    if context.officer is None:
        if _is_registration(update):  # whatever the outcome, look at its next update again
            windows_of(context).forget(chat.id, "not_registered")
        else:
            await hint(update, context, "not_registered",
                       lambda: refuse(update, context, "not_registered"))
            raise ApplicationHandlerStop
    query = update.callback_query
    if query is not None and not query.data:  # no data matches every button pattern: stale
        await refuse(update, context, "stale_button")
        raise ApplicationHandlerStop


def _served_here(context: BotContext, officer: Officer) -> bool:
    """Several bots (BOT_SCOPE): an officer of another bot's wilayah is sent there. An admin
    is served by any bot they write to (their digests come from the bot they linked in)."""
    return officer.role is Role.ADMIN or context.services.scope.covers(officer.kecamatan_code)


async def _other_bot(update: Update, context: BotContext, officer: Officer) -> bool:
    other = await bots.bot_for(context.db.conn, officer.kecamatan_code)
    text = (context.t("other_bot_linked", name=officer.name, bot=other) if other
            else context.t("other_bot_unknown", name=officer.name))
    await say(update, context, text)
    return True


async def _say(update: Update, context: BotContext, key: str) -> bool:
    await say(update, context, context.t(key))  # an error here stops the update (fail_closed)
    return True


def register(app: Application) -> None:
    settings = app.bot_data[SERVICES_KEY].settings
    app.bot_data[WINDOWS_KEY] = ChatWindows(
        updates_per_second=settings.chat_updates_per_second,
        hint_interval=timedelta(minutes=settings.hint_interval_minutes),
    )
    app.add_handler(TypeHandler(Update, fail_closed(flood)), group=FLOOD_GROUP)
    app.add_handler(TypeHandler(Update, fail_closed(once)), group=ONCE_GROUP)
    app.add_handler(TypeHandler(Update, fail_closed(gate)), group=GATE_GROUP)
