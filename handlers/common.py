"""Catch-alls that run after every other handler: nothing a user sends goes unanswered, and
every answer says what the bot can do with it.

A `/command` the bot does not know gets "Perintah tidak dikenal"; anything else outside a flow
(text, bare numbers, a photo, a sticker, a voice note, a file) gets a hint: bare numbers from a
PPL become the `/lapor` command that would report them, a photo points to `/kendala`.
"""

from __future__ import annotations

import re

from telegram import Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.commands import names
from bot.context import BotContext
from bot.messaging.replies import say
from bot.present import form_text
from db.models import Role

_NUMBERS = re.compile(r"[0-9]+(?:[\s,;]+[0-9]+)*")


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    await say(update, context, context.t("no_flow"))


def bare_numbers(text: str | None) -> list[str] | None:
    """'12 14 51' or '12, 14, 51' -> ['12', '14', '51']; None for anything else."""
    if text is None or not _NUMBERS.fullmatch(text.strip()):
        return None
    return re.findall(r"[0-9]+", text)


def hint_key(message: Message) -> str:
    """What was sent, as the key of the text that answers it."""
    if message.photo:
        return "hint_photo"
    if message.text is not None:
        return "hint_text"
    return "hint_media"  # sticker, voice, video, file, location, ...


async def unknown(update: Update, context: BotContext) -> None:
    message = update.effective_message
    assert message is not None
    t = context.t
    if message.text is not None and message.text.startswith("/"):
        await say(update, context, t("unknown_command"))
        return
    officer = context.officer
    is_ppl = officer is not None and officer.role == Role.PPL
    numbers = bare_numbers(message.text)
    if numbers is not None and is_ppl:
        form, lang = context.form, t.language
        if len(numbers) == len(form.fields):  # which number is which, as the fast path reads it
            text = t("hint_numbers", numbers=" ".join(numbers),
                     meaning=form_text.meaning(form, numbers, lang))
        else:
            example, meaning = form_text.fast_example(form, lang)
            text = t("hint_numbers_count", count=len(form.fields),
                     keys=" ".join(f.unit(lang) for f in form.fields),
                     example=example, meaning=meaning)
        await say(update, context, text)
        return
    first = t(hint_key(message))
    if message.photo:
        await say(update, context, first)
        return
    await say(update, context, first + "\n" + t("hint_next_ppl" if is_ppl else "hint_next"))


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
