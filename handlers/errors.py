"""The one error handler: log everything for the operator, a short apology for the user."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application

from bot.context import BotContext

log = logging.getLogger(__name__)


def describe(update: object) -> str:
    """What the log may say of an update: its id, chat and kind, never its text or a phone."""
    if not isinstance(update, Update):
        return type(update).__name__
    chat = update.effective_chat
    kinds = [name for name in Update.ALL_TYPES if getattr(update, name, None) is not None]
    return (f"update {update.update_id} (chat {chat.id if chat else '-'}, "
            f"{kinds[0] if kinds else 'unknown'})")


async def on_error(update: object, context: BotContext) -> None:
    log.error("error while handling %s", describe(update), exc_info=context.error)
    if not isinstance(update, Update):
        return
    text = context.t("error_generic")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, text)
    except Exception:  # the apology itself failed (network down): the log has it all
        log.warning("could not tell the user about the error", exc_info=True)


def register(app: Application) -> None:
    app.add_error_handler(on_error)
