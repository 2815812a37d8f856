"""Which failed requests are sent again: only those that surely delivered nothing.

Each failure is produced for real, by PTB's HTTPXRequest against the local Bot API (or a
closed port), never by building PTB's exceptions by hand.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

from bot.localapi import FaultPlan, LocalBotApi
from bot.messaging import replies
from bot.messaging.delivery import DeliveryStatus, Outgoing, Sender
from bot.messaging.retryable import retryable
from tests.support import eventually

READ_TIMEOUT = 0.3
CHAT = 4242


@asynccontextmanager
async def bot_for(api: LocalBotApi, **request: object) -> AsyncIterator[Bot]:
    values: dict[str, object] = {"read_timeout": READ_TIMEOUT}
    values.update(request)
    async with Bot(api.token, base_url=api.base_url,
                   request=HTTPXRequest(**values)) as bot:  # type: ignore[arg-type]
        yield bot


def late(**overrides: object) -> FaultPlan:
    """The next message to CHAT is delivered, and answered after the client stopped waiting."""
    values: dict[str, object] = {"late_rate": 1.0, "slow_seconds": READ_TIMEOUT * 3,
                                 "chats": frozenset({CHAT}), "limit": 1}
    values.update(overrides)
    return FaultPlan(**values)  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def failure_of(call: object) -> NetworkError:
    with pytest.raises(NetworkError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_what_is_retried_is_what_surely_did_not_arrive(api: LocalBotApi) -> None:
    api.user(CHAT)
    async with bot_for(api) as bot:
        api.fail_next("sendMessage", 500)
        assert retryable(await failure_of(bot.send_message(CHAT, "500")))
        api.fail_next("sendMessage", 502)
        assert retryable(await failure_of(bot.send_message(CHAT, "502")))
        api.fail_next("sendMessage", 400, description="Bad Request: chat not found")
        assert not retryable(await failure_of(bot.send_message(CHAT, "400")))

        api.set_faults(late())  # delivered, but the answer came after the read timeout
        timed_out = await failure_of(bot.send_message(CHAT, "terlambat"))
        assert isinstance(timed_out, TimedOut) and not retryable(timed_out)
        await eventually(lambda: any(m.text == "terlambat" for m in api.messages_to(CHAT)))

        api.set_faults(FaultPlan(drop_rate=1.0, chats=frozenset({CHAT}), limit=1))
        dropped = await failure_of(bot.send_message(CHAT, "putus"))
        assert not retryable(dropped)  # the connection closed: it may have been carried out
        api.clear_faults()

    # Nobody listens there: the connection is refused (initialize asks getMe).
    nowhere = Bot(api.token, base_url=f"http://127.0.0.1:{closed_port()}/bot",
                  request=HTTPXRequest(read_timeout=READ_TIMEOUT))
    assert retryable(await failure_of(nowhere.initialize()))
    await nowhere.shutdown()

    # One connection, held by a slow answer: the next request finds none free in time.
    async with bot_for(api, connection_pool_size=1, pool_timeout=0.05, read_timeout=5) as bot:
        api.set_faults(FaultPlan(slow_rate=1.0, slow_seconds=0.5, chats=frozenset({CHAT}),
                                 limit=1))
        holding = asyncio.create_task(bot.send_message(CHAT, "lambat"))
        await eventually(lambda: any(r.fault == "slow" for r in api.requests))
        pool = await failure_of(bot.send_message(CHAT + 1, "antre"))
        assert isinstance(pool, TimedOut) and retryable(pool)
        await holding
        api.clear_faults()
    assert [m.text for m in api.messages_to(CHAT)].count("terlambat") == 1


async def test_the_sender_does_not_send_again_what_was_answered_late(api: LocalBotApi) -> None:
    api.user(CHAT)
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    async with bot_for(api) as bot:
        sender = Sender(bot, per_chat_interval=0, sleep=no_wait)
        api.set_faults(late())
        result = await sender.send(Outgoing(CHAT, "pengingat"))
        api.clear_faults()
        assert result.status is DeliveryStatus.FAILED and result.maybe_delivered
        api.fail_next("sendMessage", 502)  # an error answer: nothing arrived, so again
        again = await sender.send(Outgoing(CHAT, "kedua"))
    assert again.status is DeliveryStatus.SENT and not again.maybe_delivered
    texts = [m.text for m in api.messages_to(CHAT)]
    assert texts.count("pengingat") == 1 and texts.count("kedua") == 1


async def test_a_reply_is_tried_again_only_when_it_surely_did_not_arrive(
    api: LocalBotApi,
) -> None:
    api.user(CHAT)
    api.user(CHAT + 1)
    async with bot_for(api, connection_pool_size=1, pool_timeout=0.05, read_timeout=5) as bot:
        context = SimpleNamespace(bot=bot)  # what `call` uses of a callback context

        # The connection closed without an answer: maybe carried out, so not sent again.
        api.set_faults(FaultPlan(drop_rate=1.0, chats=frozenset({CHAT}), limit=1))
        with pytest.raises(NetworkError):
            await replies.call(context, "sendMessage", chat_id=CHAT, text="jawaban")
        api.clear_faults()
        assert len([r for r in api.calls("sendMessage") if r.params["chat_id"] == CHAT]) == 1

        # No free connection: the reply never left, so it is tried again and arrives.
        api.set_faults(FaultPlan(slow_rate=1.0, slow_seconds=0.3,
                                 chats=frozenset({CHAT + 1}), limit=1))
        holding = asyncio.create_task(bot.send_message(CHAT + 1, "lambat"))
        await eventually(lambda: any(r.fault == "slow" for r in api.requests))
        await replies.call(context, "sendMessage", chat_id=CHAT, text="antre")
        await holding
        api.clear_faults()
    assert [m.text for m in api.messages_to(CHAT)] == ["antre"]
