"""One sender for every message the bot starts itself (reminders, digests, alerts, broadcasts).

It keeps to Telegram's limits (about 30 messages/s overall, 1 message/s per chat), waits out
`retry_after` on 429, retries with back-off what surely delivered nothing (5xx, no
connection: see `bot.messaging.retryable`), and reports a 403 (the user blocked the bot) as
unreachable instead of retrying it forever. A request that may have been delivered (its
answer timed out, or its connection broke after it was written) is not sent again: it is
FAILED with `maybe_delivered`, and the caller decides what that means for its message.

`PacedRateLimiter` is the application's rate limiter (every request, replies included): an
even pace for the bot's messages, hints to strangers after everyone else's answers, and a 429
that holds only what it concerns, one chat or, when the bot's total rate is at fault,
everything.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.messaging.retryable import retryable

log = logging.getLogger(__name__)

RETRY_MARGIN = 0.1  # seconds added to Telegram's retry_after before trying again
# A chat the bot sent to less than this before a 429 was over its own limit (about 1 a second).
CHAT_BUSY_SECONDS = 1.0
# At most this many low-priority messages (hints) a second, out of MESSAGES_PER_SECOND, and
# at most HINT_BACKLOG_SECONDS of them waiting: the others are not sent (HintsBacklogged).
HINTS_PER_SECOND = 3.0
HINT_BACKLOG_SECONDS = 2.0


def _retry_seconds(exc: RetryAfter) -> float:
    """Seconds to wait. PTB 22 gives `retry_after` as an int with a deprecation warning, or as
    a timedelta when PTB_TIMEDELTA is set; both are read through the public attribute."""
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


ChatKey = int | str


def _chat_of(data: dict[str, Any]) -> ChatKey | None:
    chat_id = data.get("chat_id")
    if chat_id is None:
        return None
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)  # an @username


@dataclass(frozen=True)
class RateLimit:
    """What a request may tell the rate limiter, as `rate_limit_args` (python-telegram-bot
    passes it from `Bot.do_api_request(..., rate_limit_args=...)` and every Bot method)."""

    max_retries: int | None = None  # retries after a 429; None: the limiter's own
    low: bool = False  # a hint (to a stranger, a group, a flooding chat): after the others


HINT = RateLimit(low=True)


class HintsBacklogged(TelegramError):
    """A low-priority message was not sent: HINT_BACKLOG_SECONDS of them wait already."""


@dataclass(frozen=True)
class _Refusal:
    chat: ChatKey
    at: float
    until: float


class PacedRateLimiter(BaseRateLimiter[RateLimit | int]):
    """The bot's rate limiter, on python-telegram-bot's public `BaseRateLimiter` interface.

    Pace: the requests that carry a `chat_id` (messages, edits, chat actions) go out at most
    `per_second`, evenly spaced; the others (answerCallbackQuery, getMe, ...) are not paced.
    A request marked low (`rate_limit_args=HINT`: the registration hint, the group hint, the
    flood notice) first waits for a turn among at most `hints_per_second`, so that a crowd of
    strangers, each told once, never queues before the officers' answers; when
    HINT_BACKLOG_SECONDS of such turns are taken already, it is not sent at all
    (`HintsBacklogged`), so that no hint waits long, nor holds its update that long.

    A 429 (`RetryAfter`) holds what it concerns for its `retry_after` (plus RETRY_MARGIN),
    then the request is tried again, at most `max_retries` times (`RateLimit.max_retries`,
    or a plain int, when a call gives it), after which the caller gets the RetryAfter.
    Telegram answers 429 both when one chat exceeds its own limit (about 1 message a second
    in a private chat, 20 a minute in a group) and when the bot exceeds its total (about 30
    a second), and the Bot API does not say which. The rule here:

    - A 429 for a request without a chat, or one that comes while everything is held, is
      the bot's: every request waits.
    - A 429 for a chat is that chat's own, and holds only that chat's requests, while the
      others go on at the pace:
      - for certain when the bot had sent to that chat less than CHAT_BUSY_SECONDS before:
        the chat was over its own limit;
      - otherwise (the chat was quiet, so its own limit can hardly be the cause) until the
        other chats tell: a request to another chat sent after the refusal that succeeds
        shows it was the chat's own; a second quiet chat refused before that happens shows
        the bot's total is at fault: every request waits until the later of the two
        retry_after ends, and then the pace resumes evenly.

    So a chat that floods, or that Telegram refuses, delays nobody else, and a flood of the
    whole bot costs at most the few requests in flight before everything waits. Two quiet
    chats refused for their own reasons one right after the other are taken for a flood of
    the bot: everything then waits longer than needed (as before this rule), never shorter.
    Groups have no limit of their own here: the bot posts there only its hint, at most once
    per few minutes (`handlers/access.py`).

    State, in memory: the chats sent to within the last CHAT_BUSY_SECONDS, the chats being
    held (refused within their retry_after) and the last quiet refusal not yet explained;
    none of it grows with the number of chats the bot has talked to.
    """

    def __init__(
        self,
        per_second: float,
        *,
        max_retries: int = 5,
        hints_per_second: float = HINTS_PER_SECOND,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._pace = _Pace(per_second, monotonic, sleep)
        hints_per_second = min(hints_per_second, per_second)
        self._hint_pace = _Pace(hints_per_second, monotonic, sleep)
        self._hint_backlog = max(1, int(HINT_BACKLOG_SECONDS * hints_per_second))
        self._hints_waiting = 0
        self._max_retries = max_retries
        self._monotonic = monotonic
        self._sleep = sleep
        self._bot_until = 0.0
        self._chat_until: dict[ChatKey, float] = {}
        self._last_sent: OrderedDict[ChatKey, float] = OrderedDict()  # oldest first
        self._suspect: _Refusal | None = None
        self.chat_holds = 0  # 429s taken as one chat's own
        self.bot_holds = 0  # 429s that held every request

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def held(self, chat_id: ChatKey | None = None) -> float:
        """Seconds before a request (to `chat_id`, when given) may go; 0 when it may now."""
        until = self._bot_until
        if chat_id is not None:
            until = max(until, self._chat_until.get(chat_id, 0.0))
        return max(0.0, until - self._monotonic())

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: RateLimit | int | None,
    ) -> Any:
        if data.get("allow_paid_broadcast"):  # a paid broadcast: its sender keeps its pace
            return await callback(*args, **kwargs)
        chat = _chat_of(data)
        limit = (rate_limit_args if isinstance(rate_limit_args, RateLimit)
                 else RateLimit(max_retries=rate_limit_args))
        retries = self._max_retries if limit.max_retries is None else limit.max_retries
        attempt = 0
        while True:
            await self._turn(chat, limit.low)
            sent = self._monotonic()
            busy = self._sending(chat, sent)
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = _retry_seconds(exc)
                self._refused(chat, seconds, busy)
                if attempt >= retries:
                    log.warning("%s to chat %s: still refused after %d retries", endpoint,
                                chat, retries)
                    raise
                attempt += 1
                log.info("%s to chat %s refused for %.0f s; held, then tried again",
                         endpoint, chat, seconds)
                continue
            self._answered(chat, sent)
            return result

    async def _turn(self, chat: ChatKey | None, low: bool) -> None:
        while True:
            while (wait := self.held(chat)) > 0:
                await self._sleep(wait)
            if chat is None:
                return
            if low:
                if self._hints_waiting >= self._hint_backlog:
                    raise HintsBacklogged(f"{self._hints_waiting} hints wait already")
                self._hints_waiting += 1
                try:
                    await self._hint_pace.turn()
                finally:
                    self._hints_waiting -= 1
            await self._pace.turn()
            if self.held(chat) <= 0:  # not refused meanwhile
                return

    def _sending(self, chat: ChatKey | None, now: float) -> bool:
        """Note a request to `chat`; whether the bot sent to it within CHAT_BUSY_SECONDS."""
        if chat is None:
            return False
        last = self._last_sent
        while last and next(iter(last.values())) <= now - CHAT_BUSY_SECONDS:
            last.popitem(last=False)
        busy = chat in last
        last.pop(chat, None)
        last[chat] = now
        return busy

    def _refused(self, chat: ChatKey | None, seconds: float, busy: bool) -> None:
        now = self._monotonic()
        until = now + seconds + RETRY_MARGIN
        suspect = self._suspect
        if suspect is not None and suspect.until <= now:
            suspect = self._suspect = None
        quiet_again = not busy and suspect is not None and suspect.chat != chat
        if chat is None or self._bot_until > now or quiet_again:
            if quiet_again and suspect is not None:
                until = max(until, suspect.until)
            self._suspect = None
            self.bot_holds += 1
            self._bot_until = max(self._bot_until, until)
            self._pace.pause(self._bot_until - now)
            self._hint_pace.pause(self._bot_until - now)
            log.warning("429: the bot's total rate; every request waits %.1f s",
                        self._bot_until - now)
            return
        self.chat_holds += 1
        for key in [key for key, end in self._chat_until.items() if end <= now]:
            del self._chat_until[key]
        self._chat_until[chat] = max(self._chat_until.get(chat, 0.0), until)
        if not busy:
            self._suspect = _Refusal(chat, now, self._chat_until[chat])

    def _answered(self, chat: ChatKey | None, sent: float) -> None:
        suspect = self._suspect
        if (suspect is not None and chat is not None and chat != suspect.chat
                and sent >= suspect.at):
            self._suspect = None  # another chat got through: that refusal was its chat's


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
    file_id: str | None = None
    """SENT with a photo or document: Telegram's file_id of it, for this bot to send again."""


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
        """Reserve the next slot that respects both the global and the per-chat pace.

        The global slot is the next free one; the message goes at the later of it and its
        chat's slot. A chat that must wait its own interval does not push the global pace
        back: the other chats' messages go on in the slots after it (the bot's rate limiter
        still keeps the total under Telegram's)."""
        async with self._lock:
            now = self._monotonic()
            slot = max(now, self._next_global)
            at = max(slot, self._next_chat.get(chat_id, 0.0))
            self._next_global = slot + self._interval
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
                return DeliveryResult(DeliveryStatus.SENT, message.message_id,
                                      file_id=_file_id(message))
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


def _file_id(message: Message) -> str | None:
    if message.photo:
        return message.photo[-1].file_id
    return message.document.file_id if message.document is not None else None


async def _make_photo(item: Outgoing) -> bytes | None:
    """The item's photo; None when making it failed (logged here, with the traceback)."""
    assert item.make_photo is not None
    try:
        return await item.make_photo()
    except Exception:
        log.exception("the photo for chat %s could not be made", item.chat_id)
        return None
