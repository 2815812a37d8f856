"""Injected faults: one-off answers, random faults of a :class:`FaultPlan`, rate limits."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.localapi.protocol import (
    ApiError,
    FaultHook,
    JSONDict,
    RecordedRequest,
    error_description,
    maybe_int,
)
from bot.localapi.state import ApiState


@dataclass
class _Fault:
    method: str | None
    status: int
    retry_after: int
    remaining: int
    description: str | None
    chat_id: int | None = None

    def matches(self, method: str, params: JSONDict) -> bool:
        if self.method is None and method == "getUpdates":
            return False
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or maybe_int(params.get("chat_id")) == self.chat_id


# The methods a FaultPlan disturbs unless told otherwise: the bot's messages and their edits.
DEFAULT_FAULT_METHODS = frozenset(
    {
        "sendMessage", "sendPhoto", "sendDocument", "sendLocation",
        "editMessageText", "editMessageCaption", "editMessageReplyMarkup",
    }
)


@dataclass(frozen=True)
class FaultPlan:
    """Random faults for :meth:`LocalBotApi.set_faults`, drawn per request from a seeded RNG.

    Each request of one of ``methods`` (to one of ``chats``, when given) gets at most one
    fault, with these probabilities: an error answer (429 with ``retry_after``, 500 or 502);
    a slow answer (held ``slow_seconds``; carried out only if the client is still waiting
    then, so a client that timed out and retries never causes a second message); a late
    answer (carried out at once, the message delivered, and answered only after
    ``slow_seconds``, as Telegram can: a client that stopped waiting before then does not
    know that its message arrived, and one that sends it again delivers it twice); or a
    dropped connection (closed without an answer, not carried out). Independently, a
    non-empty getUpdates batch is delivered once more with ``duplicate_updates_rate``.
    ``limit`` caps the faults of each kind (e.g. to keep the cost of 429s down).
    """

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_502: float = 0.0
    retry_after: int = 1
    slow_rate: float = 0.0
    slow_seconds: float = 6.0
    drop_rate: float = 0.0
    late_rate: float = 0.0
    duplicate_updates_rate: float = 0.0
    methods: frozenset[str] = DEFAULT_FAULT_METHODS
    chats: frozenset[int] | None = None
    limit: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        rates = [rate for _, rate in self.kinds()] + [self.duplicate_updates_rate]
        if any(not 0 <= rate <= 1 for rate in rates) or sum(rates[:-1]) > 1:
            raise ValueError("fault rates must be within 0..1 and add up to at most 1")

    def kinds(self) -> list[tuple[str, float]]:
        """Per-request fault kinds (the keys of ``fault_counts``) and their probabilities."""
        return [
            ("429", self.rate_429), ("500", self.rate_500), ("502", self.rate_502),
            ("slow", self.slow_rate), ("drop", self.drop_rate), ("late", self.late_rate),
        ]

    def applies_to(self, method: str, params: JSONDict) -> bool:
        if method.lower() not in {name.lower() for name in self.methods}:
            return False
        return self.chats is None or maybe_int(params.get("chat_id")) in self.chats


class Dropped(Exception):
    """Close the connection without an answer."""


async def _hold(request: web.Request, seconds: float) -> None:
    """Wait `seconds`, then raise Dropped if the client stopped waiting meanwhile."""
    await asyncio.sleep(seconds)
    if request.transport is None or request.transport.is_closing():
        raise Dropped


async def answer_late(request: web.Request, seconds: float) -> None:
    """Hold the answer of a request already carried out (a late answer of a FaultPlan);
    Dropped if the client stopped waiting meanwhile: it never learns that it was done."""
    if seconds > 0:
        await _hold(request, seconds)


class _SlidingWindow:
    """At most ``rate`` events per sliding second (one per ``1/rate`` seconds if rate < 1)."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._span = 1.0 if rate >= 1 else 1.0 / rate
        self._capacity = int(rate) if rate >= 1 else 1
        self._stamps: deque[float] = deque()

    def has_room(self, now: float) -> bool:
        while self._stamps and self._stamps[0] <= now - self._span:
            self._stamps.popleft()
        return len(self._stamps) < self._capacity

    def add(self, now: float) -> None:
        self._stamps.append(now)


class FaultsMixin(ApiState):
    """Fault injection: :meth:`fail_next`, :meth:`set_faults`, :meth:`enforce_rate_limits`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.blocked_users: set[int] = set()
        self.fault_hook: FaultHook | None = None
        # Injected faults by kind: "429", "500", "502" (any status a fault answered with),
        # "slow", "drop", "late", "duplicate" (a getUpdates batch delivered again), "rate_limit"
        # (a 429 of enforce_rate_limits). Kept across set_faults()/clear_faults().
        self.fault_counts: Counter[str] = Counter()
        self._faults: list[_Fault] = []
        self._plan: FaultPlan | None = None
        self._plan_rng = random.Random()
        self._updates_rng = random.Random()
        self._global_window: _SlidingWindow | None = None
        self._paid_window: _SlidingWindow | None = None
        self._per_chat_rate: float | None = None
        self._chat_windows: dict[int, _SlidingWindow] = {}
        self._chat_refused_until: dict[int, float] = {}

    def fail_next(
        self,
        method: str | None,
        status: int,
        *,
        retry_after: int = 1,
        count: int = 1,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """The next ``count`` calls of ``method`` (None: any but getUpdates) answer ``status``;
        with ``chat_id``, only calls to that chat.

        A 429 for a ``chat_id`` is that chat's own flood limit, as Telegram gives it: from
        then on every send or edit to that chat is answered 429 (with the seconds left) until
        ``retry_after`` seconds have passed, while other chats are served as usual.
        """
        self._faults.append(_Fault(method, status, retry_after, count, description, chat_id))

    def enforce_rate_limits(
        self,
        *,
        per_second: float | None = 30,
        per_chat_per_second: float | None = 1,
        paid_per_second: float | None = 1000,
    ) -> None:
        """From now on, sends beyond these rates answer 429 with retry_after=1.

        A send with ``allow_paid_broadcast`` (a paid broadcast) counts against
        ``paid_per_second`` instead of ``per_second``; the per-chat limit holds for both."""
        self._global_window = _SlidingWindow(per_second) if per_second else None
        self._paid_window = _SlidingWindow(paid_per_second) if paid_per_second else None
        self._per_chat_rate = per_chat_per_second
        self._chat_windows.clear()

    def set_faults(self, plan: FaultPlan) -> None:
        """From now on, disturb requests at random as ``plan`` says (replaces an earlier plan)."""
        self._plan = plan
        self._plan_rng = random.Random(plan.seed)
        # A separate stream: how often the bot polls must not shift the request faults.
        self._updates_rng = random.Random(f"{plan.seed}:updates")

    def clear_faults(self) -> None:
        """Stop the random faults (``fault_counts`` keeps what happened)."""
        self._plan = None

    def _draw_fault(self, method: str, params: JSONDict) -> str | None:
        plan = self._plan
        if plan is None or not plan.applies_to(method, params):
            return None
        draw = self._plan_rng.random()
        for kind, rate in plan.kinds():
            if draw < rate:
                full = plan.limit is not None and self.fault_counts[kind] >= plan.limit
                return None if full else kind
            draw -= rate
        return None

    def _draw_duplicate(self) -> bool:
        plan = self._plan
        if plan is None or not plan.duplicate_updates_rate:
            return False
        if plan.limit is not None and self.fault_counts["duplicate"] >= plan.limit:
            return False
        return self._updates_rng.random() < plan.duplicate_updates_rate

    async def _planned_fault(self, request: web.Request, record: RecordedRequest) -> float:
        """Apply the fault plan to this request before it is carried out: raise its error,
        drop it, or hold it. Returns how long to hold the answer once it is carried out
        (a late answer), else 0."""
        kind = self._draw_fault(record.method, record.params)
        if kind is None:
            return 0.0
        assert self._plan is not None
        plan = self._plan
        record.fault = kind
        self.fault_counts[kind] += 1
        if kind == "drop":
            raise Dropped
        if kind == "late":
            return plan.slow_seconds
        if kind == "slow":
            await _hold(request, plan.slow_seconds)  # the client gave up: never carried out
            return 0.0
        status = int(kind)
        parameters = {"retry_after": plan.retry_after} if status == 429 else None
        raise ApiError(status, error_description(status, plan.retry_after), parameters)

    def _take_fault(self, method: str, params: JSONDict) -> ApiError | None:
        for fault in self._faults:
            if not fault.matches(method, params):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            self.fault_counts[str(fault.status)] += 1
            if fault.status == 429 and fault.chat_id is not None:
                self._chat_refused_until[fault.chat_id] = time.monotonic() + fault.retry_after
            description = fault.description or error_description(fault.status, fault.retry_after)
            parameters = {"retry_after": fault.retry_after} if fault.status == 429 else None
            return ApiError(fault.status, description, parameters)
        return None

    def _check_chat_refused(self, method: str, params: JSONDict) -> None:
        """A chat given a 429 of its own (``fail_next(..., chat_id=...)``) stays refused until
        its retry_after has passed."""
        if not self._chat_refused_until or not method.startswith(("send", "edit")):
            return
        chat_id = maybe_int(params.get("chat_id"))
        until = self._chat_refused_until.get(chat_id) if chat_id is not None else None
        if until is None:
            return
        left = until - time.monotonic()
        if left <= 0:
            del self._chat_refused_until[chat_id]
            return
        self.fault_counts["429"] += 1
        seconds = max(1, math.ceil(left))
        raise ApiError(429, error_description(429, seconds), {"retry_after": seconds})

    def _check_rate_limits(self, method: str, params: JSONDict) -> None:
        if not method.startswith("send") or method == "sendChatAction":
            return
        paid = params.get("allow_paid_broadcast") in (True, "true", "True")
        overall = self._paid_window if paid else self._global_window
        windows = [overall] if overall else []
        chat_id = maybe_int(params.get("chat_id"))
        if self._per_chat_rate and chat_id is not None:
            windows.append(
                self._chat_windows.setdefault(chat_id, _SlidingWindow(self._per_chat_rate))
            )
        now = time.monotonic()
        if not all(window.has_room(now) for window in windows):
            self.fault_counts["rate_limit"] += 1
            raise ApiError(429, error_description(429, 1), {"retry_after": 1})
        for window in windows:
            window.add(now)
