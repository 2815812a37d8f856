"""Updates of different chats are handled concurrently; those of one chat strictly in order.

python-telegram-bot handles one update at a time by default, so one officer's slow request
holds up everyone. Handling every update concurrently would let two messages of the same
officer race through a conversation. This processor does neither: one lock per chat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def _key(update: object) -> int:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return 0  # anything without a chat is handled in order with the others of its kind


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """`handling(update)`: a context manager around the handlers of each update (metrics)."""

    def __init__(
        self,
        max_concurrent_updates: int,
        handling: Callable[[object], AbstractContextManager[Any]] = nullcontext,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._handling = handling
        self._locks: dict[int, asyncio.Lock] = {}
        self._pending: dict[int, int] = {}

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # The chat's turn first, then a slot: a busy chat never holds slots others could use.
        key = _key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._pending[key] = self._pending.get(key, 0) + 1
        try:
            async with lock:
                await super().process_update(update, coroutine)
        finally:
            self._pending[key] -= 1
            if not self._pending[key]:
                del self._pending[key], self._locks[key]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        with self._handling(update):
            await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
