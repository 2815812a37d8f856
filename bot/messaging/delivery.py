"""One sender for every message the bot starts itself (reminders, digests, alerts, broadcasts).

It keeps to Telegram's limits (about 30 messages/s overall, 1 message/s per chat), waits out
`retry_after` on 429, retries with back-off what surely delivered nothing (5xx, no
connection: see `bot.messaging.retryable`), and reports a 403 (the user blocked the bot) as
unreachable instead of retrying it forever. A request that may have been delivered (its
answer timed out, or its connection broke after it was written) is not sent again: it is
FAILED with `maybe_delivered`, and the caller decides what that means for its message.

`PacedRateLimiter` is the application's rate limiter (every request, replies included): PTB's
AIORateLimiter, which waits out a 429 by holding all requests, plus an even pace for the
requests that held, so that they do not all go at once when the pause ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.messaging.retryable import retryable

log = logging.getLogger(__name__)


def _retry_seconds(exc: RetryAfter) -> float:
    """Seconds to wait. PTB 22 gives `retry_after` as seconds with a deprecation warning, or as
    a timedelta (PTB_TIMEDELTA=true; always from PTB 23)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


class _Pace:
    """Evenly spaced turns, at most `per_second`; a pause (a 429) moves every later turn, and
    a turn reserved before the pause began is taken again after it."""

    def __init__(
        self,
        per_second: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = 1.0 / per_second
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = 0.0
        self._pauses = 0

    async def turn(self) -> None:
        while True:
            now = self._monotonic()
            at = max(now, self._next)
            self._next = at + self._interval
            pauses = self._pauses
            if at > now:
                await self._sleep(at - now)
            if pauses == self._pauses:
                return

    def pause(self, seconds: float) -> None:
        self._pauses += 1
        self._next = max(self._next, self._monotonic() + seconds)


class PacedRateLimiter(AIORateLimiter):
    """AIORateLimiter whose requests to a chat go out at most `per_second`, evenly spaced.

    On a 429, AIORateLimiter holds every request until retry_after has passed and then lets
    them all go at once: up to one burst of every request in flight. Here each one still
    takes its turn at the pace, after the pause.
    """

    def __init__(self, per_second: float, *, max_retries: int = 5) -> None:
        super().__init__(overall_max_rate=per_second, max_retries=max_retries)
        self._pace = _Pace(per_second)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if data.get("allow_paid_broadcast"):  # a paid broadcast: its sender keeps its pace
            return await callback(*args, **kwargs)
        if data.get("chat_id") is None:  # not a message (e.g. answerCallbackQuery)
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args)

        async def paced(*call_args: Any, **call_kwargs: Any) -> Any:
            await self._pace.turn()
            try:
                return await callback(*call_args, **call_kwargs)
            except RetryAfter as exc:
                self._pace.pause(_retry_seconds(exc))
                raise  # AIORateLimiter waits it out and calls again

        return await super().process_request(paced, args, kwargs, endpoint, data, rate_limit_args)


class DeliveryStatus(StrEnum):
    SENT = "sent"
    UNREACHABLE = "unreachable"
    FAILED = "failed"


@dataclass(frozen=True)
class Outgoing:
    chat_id: int
    text: str | None = None
    photo: bytes | None = None
    photo_id: str | None = None  # a photo Telegram already has (file_id)
    location: tuple[float, float] | None = None  # latitude, longitude
    document: bytes | None = None
    document_id: str | None = None  # a document Telegram already has (file_id)
    filename: str | None = None
    reply_markup: InlineKeyboardMarkup | None = None
    make_photo: Callable[[], Awaitable[bytes]] | None = None
    """A photo made only when the message is sent (a chart drawn off the event loop)."""


@dataclass(frozen=True)
class DeliveryResult:
    status: DeliveryStatus
    message_id: int | None = None
    error: str | None = None
    maybe_delivered: bool = False
    """FAILED, yet it may have arrived: the request went out and its answer never came."""


class Sender:
    def __init__(
        self,
        bot: Bot,
        *,
        per_second: float = 30,
        per_chat_interval: float = 1.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        paid: bool = False,  # allow_paid_broadcast on its messages (Bot API 7.11)
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._bot = bot
        self._paid: dict[str, Any] = {"allow_paid_broadcast": True} if paid else {}
        self._interval = 1.0 / per_second
        self._per_chat_interval = per_chat_interval
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._next_global = 0.0
        self._next_chat: dict[int, float] = {}
        self.retries = 0

    async def _wait_turn(self, chat_id: int) -> None:
        """Reserve the next slot that respects both the global and the per-chat pace."""
        async with self._lock:
            now = self._monotonic()
            at = max(now, self._next_global, self._next_chat.get(chat_id, 0.0))
            self._next_global = at + self._interval
            self._next_chat[chat_id] = at + self._per_chat_interval
        if at > now:
            await self._sleep(at - now)

    def _answered(self, chat_id: int) -> None:
        """The chat's next message waits its interval from now, not from the reserved slot:
        the bot's rate limiter may have held this call for long (it waits out a 429 itself)."""
        later = self._monotonic() + self._per_chat_interval
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), later)

    async def _call(self, item: Outgoing) -> Message:
        if item.photo is not None or item.photo_id is not None:
            return await self._bot.send_photo(
                item.chat_id, item.photo if item.photo is not None else item.photo_id,
                caption=item.text, parse_mode="HTML", reply_markup=item.reply_markup, **self._paid,
            )
        if item.location is not None:
            return await self._bot.send_location(
                item.chat_id, latitude=item.location[0], longitude=item.location[1],
                reply_markup=item.reply_markup,
            )
        if item.document is not None:
            return await self._bot.send_document(
                item.chat_id, item.document, filename=item.filename, caption=item.text,
                parse_mode="HTML", reply_markup=item.reply_markup, **self._paid,
            )
        if item.document_id is not None:
            return await self._bot.send_document(
                item.chat_id, item.document_id, caption=item.text, parse_mode="HTML",
                reply_markup=item.reply_markup, **self._paid,
            )
        return await self._bot.send_message(
            item.chat_id, item.text or "", parse_mode="HTML", reply_markup=item.reply_markup,
            **self._paid,
        )

    async def send(self, item: Outgoing) -> DeliveryResult:
        if item.make_photo is not None:
            return await self._send_made(item, _make_photo(item))
        attempt = 0
        while True:
            await self._wait_turn(item.chat_id)
            try:
                try:
                    message = await self._call(item)
                finally:
                    self._answered(item.chat_id)
                return DeliveryResult(DeliveryStatus.SENT, message.message_id)
            except Forbidden as exc:
                return DeliveryResult(DeliveryStatus.UNREACHABLE, error=exc.message)
            except RetryAfter as exc:
                self.retries += 1
                await self._sleep(_retry_seconds(exc))
                continue  # Telegram said when: waiting it out is not a failed attempt
            except BadRequest as exc:
                log.warning("message to chat %s refused: %s", item.chat_id, exc.message)
                return DeliveryResult(DeliveryStatus.FAILED, error=exc.message)
            except NetworkError as exc:  # 5xx, and failures of the connection or timeouts
                if not retryable(exc):
                    log.warning("message to chat %s may or may not have arrived (%s): not sent"
                                " again", item.chat_id, exc.message)
                    return DeliveryResult(DeliveryStatus.FAILED, error=exc.message,
                                          maybe_delivered=True)
                attempt += 1
                self.retries += 1
                if attempt >= self._max_attempts:
                    log.warning("giving up on chat %s after %d attempts: %s",
                                item.chat_id, attempt, exc.message)
                    return DeliveryResult(DeliveryStatus.FAILED, error=exc.message)
                await self._sleep(self._backoff * 2 ** (attempt - 1))

    async def send_all(self, items: list[Outgoing]) -> list[DeliveryResult]:
        """Several messages to one recipient, in order; stops at the first that cannot go.

        The photos to make are all started at once, so that they are made while the messages
        before them wait their turn; those left when a message cannot go are dropped.
        """
        photos = [asyncio.ensure_future(_make_photo(item)) if item.make_photo else None
                  for item in items]
        results = []
        try:
            for item, photo in zip(items, photos, strict=True):
                if photo is None:
                    result = await self.send(item)
                else:
                    result = await self._send_made(item, photo)
                results.append(result)
                if result.status is not DeliveryStatus.SENT:
                    break
        finally:
            for photo in photos:
                if photo is not None:
                    photo.cancel()
        return results

    async def _send_made(self, item: Outgoing, photo: Awaitable[bytes | None]) -> DeliveryResult:
        made = await photo
        if made is None:
            return DeliveryResult(DeliveryStatus.FAILED, error="the photo could not be made")
        return await self.send(replace(item, photo=made, make_photo=None))


async def _make_photo(item: Outgoing) -> bytes | None:
    """The item's photo; None when making it failed (logged here, with the traceback)."""
    assert item.make_photo is not None
    try:
        return await item.make_photo()
    except Exception:
        log.exception("the photo for chat %s could not be made", item.chat_id)
        return None
