"""The bot's rate limiter: a 429 holds one chat, or everything when the bot's total rate is at
fault; the pace stays even. Run on a simulated clock: nothing here waits for real."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Awaitable
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.messaging.delivery import (
    HINT,
    RETRY_MARGIN,
    HintsBacklogged,
    PacedRateLimiter,
    RateLimit,
)

pytestmark = pytest.mark.filterwarnings(  # PTB warns whenever it builds a RetryAfter
    "ignore::telegram.warnings.PTBDeprecationWarning"
)

A, B, C, D = 101, 102, 103, 104


class SimulatedTime:
    """A monotonic clock and a sleep that only move when every task is waiting: then the
    clock jumps to the earliest wake-up."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = 0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self._order += 1
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), self._order, future))
        await future

    async def run(self, *steps: Awaitable[Any]) -> list[Any]:
        tasks = [asyncio.ensure_future(step) for step in steps]
        while True:
            for _ in range(20):  # let every task that can go on run until it waits
                await asyncio.sleep(0)
            if all(task.done() for task in tasks):
                return [task.result() if not task.exception() else task.exception()
                        for task in tasks]
            assert self._sleepers, "the tasks wait for something that never comes"
            until, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, until)
            future.set_result(None)


class ScriptedApi:
    """Answers each request at once, or with the 429s scripted for its chat."""

    def __init__(self, time: SimulatedTime) -> None:
        self.time = time
        self.refusals: dict[int | None, list[int]] = {}
        self.sent: dict[str, float] = {}  # label -> when it got through
        self.tried: dict[str, list[float]] = {}

    def request(self, limiter: PacedRateLimiter, label: str, chat: int | None,
                *, at: float = 0.0, endpoint: str = "sendMessage",
                limit: RateLimit | None = None) -> Awaitable[Any]:
        async def call() -> bool:
            self.tried.setdefault(label, []).append(self.time.now)
            script = self.refusals.get(chat)
            if script:
                raise RetryAfter(script.pop(0))
            self.sent[label] = self.time.now
            return True

        async def start() -> Any:
            if at:
                await self.time.sleep(at)
            data = {} if chat is None else {"chat_id": chat}
            return await limiter.process_request(call, (), {}, endpoint, data, limit)

        return start()


@pytest.fixture
def time() -> SimulatedTime:
    return SimulatedTime()


@pytest.fixture
def api(time: SimulatedTime) -> ScriptedApi:
    return ScriptedApi(time)


def limiter_on(time: SimulatedTime, **kwargs: Any) -> PacedRateLimiter:
    return PacedRateLimiter(30, monotonic=time.monotonic, sleep=time.sleep, **kwargs)


async def test_a_429_for_one_chat_holds_that_chat_only(
    time: SimulatedTime, api: ScriptedApi
) -> None:
    limiter = limiter_on(time)
    api.refusals[A] = [8]
    await time.run(
        api.request(limiter, "a", A),
        api.request(limiter, "b", B, at=0.01),
        api.request(limiter, "c", C, at=0.5),
        api.request(limiter, "a again", A, at=1.0),  # the same chat waits its turn
    )
    assert api.sent["b"] < 0.2 and 0.5 <= api.sent["c"] < 0.6
    assert api.sent["a"] >= 8 + RETRY_MARGIN and api.sent["a again"] >= 8 + RETRY_MARGIN
    assert api.tried["a again"] == [api.sent["a again"]]  # held, not sent into the refusal
    assert (limiter.chat_holds, limiter.bot_holds) == (1, 0)


async def test_two_chats_refused_in_a_row_hold_every_chat(
    time: SimulatedTime, api: ScriptedApi
) -> None:
    # Two quiet chats (no message in the last second) refused, nothing got through in
    # between: the bot's total rate is at fault.
    limiter = limiter_on(time)
    api.refusals[A] = [8]
    api.refusals[B] = [5]
    await time.run(
        api.request(limiter, "a", A),
        api.request(limiter, "b", B, at=0.01),
        api.request(limiter, "c", C, at=0.02),
        api.request(limiter, "callback", None, at=0.5, endpoint="answerCallbackQuery"),
    )
    assert min(api.sent.values()) >= 8 + RETRY_MARGIN  # the later of the two waits
    assert api.tried["c"] == [api.sent["c"]]
    assert (limiter.chat_holds, limiter.bot_holds) == (1, 1)


async def test_chats_refused_right_after_a_message_were_over_their_own_limit(
    time: SimulatedTime, api: ScriptedApi
) -> None:
    # Each chat got a message less than a second before its refusal: their own limits, even
    # with no other chat answered in between.
    limiter = limiter_on(time)
    api.refusals[A] = []
    api.refusals[B] = []
    await time.run(api.request(limiter, "a", A), api.request(limiter, "b", B))
    api.refusals[A] = [4]
    api.refusals[B] = [4]
    await time.run(
        api.request(limiter, "a again", A, at=0.3),
        api.request(limiter, "b again", B, at=0.35),
        api.request(limiter, "c", C, at=0.4),
    )
    assert api.sent["c"] < 0.5
    assert min(api.sent["a again"], api.sent["b again"]) >= 0.3 + 4 + RETRY_MARGIN
    assert (limiter.chat_holds, limiter.bot_holds) == (2, 0)


async def test_a_chat_that_got_through_after_a_refusal_shows_it_was_the_chats_own(
    time: SimulatedTime, api: ScriptedApi
) -> None:
    limiter = limiter_on(time)
    api.refusals[A] = [8]
    api.refusals[C] = [3]
    await time.run(
        api.request(limiter, "a", A),
        api.request(limiter, "b", B, at=0.01),  # sent after A's refusal, and answered
        api.request(limiter, "c", C, at=0.1),  # so this refusal is C's own as well
        api.request(limiter, "d", D, at=0.2),
    )
    assert api.sent["b"] < 0.1 and api.sent["d"] < 0.3
    assert api.sent["c"] >= 0.1 + 3 + RETRY_MARGIN and api.sent["c"] < api.sent["a"]
    assert (limiter.chat_holds, limiter.bot_holds) == (2, 0)


async def test_a_429_without_a_chat_holds_everything(
    time: SimulatedTime, api: ScriptedApi
) -> None:
    limiter = limiter_on(time)
    api.refusals[None] = [2]
    await time.run(
        api.request(limiter, "callback", None, endpoint="answerCallbackQuery"),
        api.request(limiter, "a", A, at=0.01),
    )
    assert api.sent["a"] >= 2 + RETRY_MARGIN and api.sent["callback"] >= 2 + RETRY_MARGIN
    assert (limiter.chat_holds, limiter.bot_holds) == (0, 1)


async def test_the_held_requests_go_at_the_pace_after_a_hold_of_the_bot(
    time: SimulatedTime, api: ScriptedApi
) -> None:
    limiter = limiter_on(time)
    api.refusals[None] = [1]
    chats = range(1000, 1010)
    await time.run(
        api.request(limiter, "callback", None, endpoint="answerCallbackQuery"),
        *(api.request(limiter, str(chat), chat, at=0.01) for chat in chats),
    )
    times = sorted(api.sent[str(chat)] for chat in chats)
    assert times[0] >= 1 + RETRY_MARGIN
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 1 / 30 - 1e-9  # no burst when the hold ends


async def test_a_chat_still_refused_after_the_retries_gives_the_429_to_the_caller(
    time: SimulatedTime, api: ScriptedApi
) -> None:
    limiter = limiter_on(time, max_retries=2)
    api.refusals[A] = [1, 1, 1]
    api.refusals[B] = []
    result, other = await time.run(api.request(limiter, "a", A),
                                   api.request(limiter, "b", B, at=0.5))
    assert isinstance(result, RetryAfter)
    assert len(api.tried["a"]) == 3 and "a" not in api.sent
    assert other is True and api.sent["b"] < 1


async def test_hints_wait_behind_the_answers_to_everyone_else(
    time: SimulatedTime, api: ScriptedApi
) -> None:
    # A hundred strangers to be told at once (low priority), then an officer's answer: the
    # answer goes within two turns of the pace; the hints go three a second, and those that
    # would wait more than two seconds are not sent.
    limiter = limiter_on(time, hints_per_second=3)
    strangers = range(5000, 5100)
    outcomes = await time.run(
        *(api.request(limiter, f"hint {chat}", chat, limit=HINT) for chat in strangers),
        api.request(limiter, "answer", A, at=0.001),
        api.request(limiter, "answer to B", B, at=1.0),
    )
    assert api.sent["answer"] < 2 / 30 + 0.01
    assert api.sent["answer to B"] < 1.0 + 2 / 30 + 0.01
    hints = sorted(api.sent[f"hint {chat}"] for chat in strangers if f"hint {chat}" in api.sent)
    assert len(hints) == 1 + 6 and hints[-1] < 2 + 0.1  # the first, and two seconds' worth
    assert all(later - earlier >= 1 / 3 - 1e-9
               for earlier, later in zip(hints, hints[1:], strict=False))
    assert sum(isinstance(o, HintsBacklogged) for o in outcomes) == 100 - 7
