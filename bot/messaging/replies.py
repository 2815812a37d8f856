"""How the bot answers the update it is handling: a new HTML message in that chat.

Every handler, single-step or part of a flow, replies through `say` (and a flow writes its
outcome under the pressed message through `call`). A reply that surely did not arrive (a 5xx
answer, or no connection: refused, a connect timeout, no free connection in the pool; see
`bot.messaging.retryable`) is tried again twice, after 0.5 s and 1 s. One that may have
arrived (its answer timed out, or the connection broke after it was sent) is not tried again,
so that it never comes twice; nor is a 4xx.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

from telegram import TelegramObject, Update
from telegram.error import NetworkError
from telegram.ext import CallbackContext
from telegram.warnings import PTBUserWarning

from bot.messaging.delivery import RateLimit
from bot.messaging.retryable import retryable

AnyContext = CallbackContext[Any, Any, Any, Any]


log = logging.getLogger(__name__)

REPLY_ATTEMPTS = 3
REPLY_BACKOFF = 0.5  # seconds before the second attempt; doubled before the third


async def say(
    update: Update, context: AnyContext, text: str, markup: TelegramObject | None = None,
    *, rate_limit: RateLimit | None = None,
) -> None:
    """`text` (HTML) to the chat of `update`, with `markup` (inline or reply keyboard);
    `rate_limit=HINT` for a hint that may wait behind everyone else's answers."""
    assert update.effective_chat is not None
    await call(context, "sendMessage", chat_id=update.effective_chat.id, text=text,
               parse_mode="HTML", reply_markup=markup, rate_limit=rate_limit)


# `call` is the documented `do_api_request` on purpose; PTB suggests the typed method each time.
warnings.filterwarnings(
    "ignore", r"Please use 'Bot\.(sendMessage|editMessageText)' instead of", PTBUserWarning
)


async def call(
    context: AnyContext, method: str, *, rate_limit: RateLimit | None = None, **params: Any
) -> None:
    """A Bot API call whose answer is not used. The typed Bot methods would turn the returned
    message into PTB objects, a good part of what a reply costs; this keeps the raw answer.
    It goes through the same request path (rate limiter, errors) as the typed methods, and
    is tried again as the module says. `rate_limit` goes to the rate limiter."""
    data = {key: value for key, value in params.items() if value is not None}
    # Only an ExtBot (the application's) takes rate limiter arguments.
    limiter = {} if rate_limit is None else {"rate_limit_args": rate_limit}
    for attempt in range(REPLY_ATTEMPTS):
        try:
            await context.bot.do_api_request(method, data, **limiter)
            return
        except NetworkError as exc:
            if attempt == REPLY_ATTEMPTS - 1 or not retryable(exc):
                raise
            log.warning("%s failed (%s), trying again", method, exc)
            await asyncio.sleep(REPLY_BACKOFF * 2**attempt)
