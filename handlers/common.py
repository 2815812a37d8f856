"""Catch-alls that run after every other handler: nothing a user sends goes unanswered."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.commands import names
from bot.context import BotContext
from bot.messaging.replies import say


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    await say(update, context, context.t("no_flow"))


async def unknown(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    await say(update, context, context.t("unknown_command"))


async def stale_button(update: Update, context: BotContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(context.t("stale_button"), show_alert=True)


def register(app: Application) -> None:
    """Handlers of group 0 answer first; these only see what nothing else took."""
    app.add_handlers(
        [
            CommandHandler(names("batal"), nothing_to_cancel),
            MessageHandler(filters.ALL, unknown),
            CallbackQueryHandler(stale_button),
        ]
    )
