"""What the multi-step flows share.

A flow keeps its draft in `user_data` as JSON (it is persisted, so a restart resumes it).
Each draft has a random token that its buttons carry: a button whose token is not the
current draft's is stale. Every question is a new HTML message; the outcome of a final
button (Kirim) is written under the message that was pressed.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest, TelegramError
from telegram.ext import ConversationHandler

from bot.context import BotContext
from bot.messaging.replies import call, say

log = logging.getLogger(__name__)

def reask(
    next_step: Callable[[Update, BotContext, str], Awaitable[Any]], key: str, **values: object
) -> Callable[[Update, BotContext], Awaitable[Any]]:
    """A handler for input a step cannot use (a sticker, text instead of a button...): it
    says why, then asks the step's question again (`next_step` with that as a prefix)."""

    async def handler(update: Update, context: BotContext) -> Any:
        return await next_step(update, context, context.t(key, **values) + "\n\n")

    return handler


def get_draft(context: BotContext, key: str) -> dict[str, Any] | None:
    assert context.user_data is not None
    return context.user_data.get(key)


def new_draft(context: BotContext, key: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A fresh draft (replacing any earlier one of the flow) with a new token."""
    assert context.user_data is not None
    draft = {"token": secrets.token_hex(6), "step": None, **fields}
    context.user_data[key] = draft
    return draft


def drop_draft(context: BotContext, key: str) -> None:
    assert context.user_data is not None
    context.user_data.pop(key, None)


def canceller(
    key: str, text_key: str = "cancelled"
) -> Callable[[Update, BotContext], Awaitable[int]]:
    """A flow's /batal (and Batal button): the draft is dropped, the user told, the flow ended."""

    async def cancel(update: Update, context: BotContext) -> int:
        drop_draft(context, key)
        await say(update, context, context.t(text_key))
        return ConversationHandler.END

    return cancel


def keyboard(
    prefix: str, draft: dict[str, Any], rows: list[list[tuple[str, str]]]
) -> InlineKeyboardMarkup:
    """Inline buttons whose data is `prefix:token:action`."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=f"{prefix}:{draft['token']}:{action}")
             for label, action in row]
            for row in rows
        ]
    )


def parse_button(data: str) -> tuple[str, str, str]:
    """(token, action, argument) of `prefix:token:action[:argument]`."""
    _, token, action, argument = (data.split(":", 3) + ["", "", ""])[:4]
    return token, action, argument


async def close_buttons(update: Update) -> None:
    """Take the buttons off the pressed message so that it cannot be pressed twice."""
    try:
        assert update.callback_query is not None
        await update.callback_query.edit_message_reply_markup(reply_markup=None)
    except BadRequest:
        pass  # already without buttons, or too old to edit: nothing to take off
    except TelegramError as exc:  # a network error or 5xx: what the button started goes on
        log.warning("could not take the buttons off a message: %s", exc)


async def conclude(update: Update, context: BotContext, text: str) -> None:
    """The outcome of a button press, written under the message that was pressed (its buttons
    taken off): one edit instead of taking the buttons off and sending a new message.
    A message that cannot be edited (too old, too long with the outcome) gets a new one."""
    query = update.callback_query
    assert query is not None
    message = query.message
    if isinstance(message, Message) and message.text is not None:
        combined = f"{message.text_html}\n\n{text}"
        if len(combined) <= MessageLimit.MAX_TEXT_LENGTH:
            try:
                await call(context, "editMessageText", chat_id=message.chat_id,
                            message_id=message.message_id, text=combined, parse_mode="HTML")
                return
            except TelegramError as exc:
                log.warning("could not write the outcome under the pressed message: %s", exc)
    await close_buttons(update)
    await say(update, context, text)


async def refuse_stale(update: Update, context: BotContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(context.t("stale_button"), show_alert=True)


def pressed(
    context: BotContext, key: str, data: str, actions: dict[str, set[str]]
) -> tuple[dict[str, Any], str, str] | None:
    """The draft, action and argument of a button; None when the button is stale (another
    draft's, or not one of the actions of the step the draft is at)."""
    token, action, argument = parse_button(data)
    draft = get_draft(context, key)
    if draft is None or token != draft["token"] or action not in actions.get(draft["step"], ()):
        return None
    return draft, action, argument
