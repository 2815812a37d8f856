"""Linking a Telegram account to a roster officer: `/start CODE` or a shared phone number."""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot import commands
from bot.context import BotContext
from bot.messaging.replies import say
from db import officers, registration
from db.models import Officer
from db.phone import normalize_phone
from handlers.access import registration_keyboard


async def _welcome(update: Update, context: BotContext, officer: Officer) -> None:
    t = context.t
    text = (
        t("welcome", name=officer.name, role=t(f"role_{officer.role.value}"))
        + "\n\n" + t("help_header") + "\n" + commands.help_lines(officer, t, context.form)
    )
    assert update.effective_message is not None
    await say(update, context, text, ReplyKeyboardRemove())
    await commands.set_officer_menu(context.bot, update.effective_message.chat_id, officer, t,
                                    context.form)


async def _link(
    update: Update, context: BotContext, officer: Officer, code: str | None
) -> str | None:
    """Link the account in one transaction; the text key of a refusal, or None when linked."""
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    async with context.db.transaction() as conn:
        current = await officers.get_officer(conn, officer.officer_id)
        if current is None or not current.active:
            return "officer_inactive"
        if current.telegram_user_id not in (None, user.id):
            return "officer_linked_other"
        await officers.link_telegram(
            conn, officer.officer_id, user.id, chat.id, context.clock.now()
        )
        if code is not None:
            await registration.mark_used(conn, code, user.id, context.clock.now())
    return None


async def start(update: Update, context: BotContext) -> None:
    message = update.effective_message
    assert message is not None
    t = context.t
    if not context.args:
        if context.officer is None:
            await say(update, context, t("not_registered"), registration_keyboard(context))
        else:
            await _welcome(update, context, context.officer)
        return
    code = await registration.get_code(context.db.conn, context.args[0])
    if code is None:
        await say(update, context, t("code_unknown"))
        return
    me = context.officer
    if me is not None and me.officer_id == code.officer_id:
        await say(update, context, t("already_linked", name=me.name, role=me.role.value))
        return
    if me is not None:
        await say(update, context, t("account_linked_other", name=me.name))
        return
    if code.used_at is not None:
        await say(update, context, t("code_used"))
        return
    officer = await officers.get_officer(context.db.conn, code.officer_id)
    if officer is None:  # the code's officer row is gone (a foreign key forbids it)
        await say(update, context, t("code_unknown"))
        return
    refusal = await _link(update, context, officer, code.code)
    if refusal:
        await say(update, context, t(refusal, name=officer.name))
        return
    await _welcome(update, context, officer)


async def contact(update: Update, context: BotContext) -> None:
    message = update.effective_message
    assert message is not None and message.contact is not None and update.effective_user
    t = context.t
    if context.officer is not None:
        me = context.officer
        await say(
            update, context, t("already_linked", name=me.name, role=me.role.value),
            ReplyKeyboardRemove(),
        )
        return
    if message.contact.user_id != update.effective_user.id:
        await say(update, context, t("contact_not_own"), registration_keyboard(context))
        return
    try:
        phone = normalize_phone(message.contact.phone_number)
    except ValueError:
        await say(update, context, t("phone_invalid"), ReplyKeyboardRemove())
        return
    matches = await officers.find_by_phone(context.db.conn, phone)
    if not matches:
        await say(
            update, context, t("phone_not_found", phone=f"+{phone}"),
            ReplyKeyboardRemove(),
        )
        return
    if len(matches) > 1:
        await say(update, context, t("phone_ambiguous"), ReplyKeyboardRemove())
        return
    refusal = await _link(update, context, matches[0], None)
    if refusal:
        await say(update, context, t(refusal, name=matches[0].name), ReplyKeyboardRemove())
        return
    await _welcome(update, context, matches[0])


async def help_command(update: Update, context: BotContext) -> None:
    context.require_officer()
    assert update.effective_message is not None
    t = context.t
    lines = commands.help_lines(context.officer, t, context.form)
    await say(update, context, t("help_header") + "\n" + lines)


def register(app: Application) -> None:
    # Registration only in a private chat (the gate already stops the others: twice is safer).
    app.add_handler(CommandHandler("start", start, filters.ChatType.PRIVATE))
    app.add_handler(MessageHandler(filters.CONTACT & filters.ChatType.PRIVATE, contact))
    app.add_handler(CommandHandler(commands.names("bantuan"), help_command))
