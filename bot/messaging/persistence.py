"""python-telegram-bot persistence in the bot's own database (SQLite or PostgreSQL).

Only conversation states and per-user data (report drafts) are kept; both are JSON.
python-telegram-bot hands over every changed state at once (every `update_interval`
seconds, and on the way down); they are written together in one transaction right after,
and `flush()` waits for that write, so a restart resumes a flow at the step it was in.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from db.connection import Database

log = logging.getLogger(__name__)

# The types python-telegram-bot gives conversation keys and states (not exported by it).
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]


class DatabasePersistence(BasePersistence[dict, dict, dict]):
    def __init__(self, db: Database, update_interval: float = 1.0) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._db = db
        self._pending: dict[tuple[str, str], str | None] = {}  # (kind, key) -> JSON or delete
        self._writer: asyncio.Task[None] | None = None

    async def _rows(self, kind: str) -> list[tuple[str, str]]:
        await self._db.open()
        async with self._db.conn.execute(
            "SELECT key, data FROM bot_persistence WHERE kind = ?", (kind,)
        ) as cur:
            return [(row[0], row[1]) async for row in cur]

    async def _put(self, kind: str, key: str, data: Any | None) -> None:
        """Queue a write; the states handed over together go in one transaction."""
        self._pending[(kind, key)] = None if data is None else json.dumps(data)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending())

    async def _write_pending(self) -> None:
        await asyncio.sleep(0)  # let the other states of the same hand-over join the batch
        while self._pending:
            batch, self._pending = self._pending, {}
            gone = [(kind, key) for (kind, key), data in batch.items() if data is None]
            kept = [(kind, key, data) for (kind, key), data in batch.items() if data is not None]
            try:
                async with self._db.transaction() as conn:
                    if gone:
                        await conn.executemany(
                            "DELETE FROM bot_persistence WHERE kind = ? AND key = ?", gone)
                    if kept:
                        await conn.executemany(
                            "INSERT INTO bot_persistence (kind, key, data) VALUES (?, ?, ?)"
                            " ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data", kept)
            except Exception:
                # Keep what was not written (newer states win); the next hand-over retries.
                log.exception("could not write the conversation state")
                for item, data in batch.items():
                    self._pending.setdefault(item, data)
                return

    async def get_user_data(self) -> dict[int, dict]:
        return {int(key): json.loads(data) for key, data in await self._rows("user")}

    async def get_chat_data(self) -> dict[int, dict]:
        return {}

    async def get_bot_data(self) -> dict:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        return {
            tuple(json.loads(key)): json.loads(data)
            for key, data in await self._rows(f"conversation:{name}")
        }

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        await self._put(f"conversation:{name}", json.dumps(list(key)), new_state)

    async def update_user_data(self, user_id: int, data: dict) -> None:
        await self._put("user", str(user_id), data or None)

    async def drop_user_data(self, user_id: int) -> None:
        await self._put("user", str(user_id), None)

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        return None

    async def update_bot_data(self, data: dict) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict) -> None:
        return None

    async def flush(self) -> None:
        """Wait until everything handed over is written (python-telegram-bot calls this last)."""
        for _attempt in range(3):
            if self._writer is None or self._writer.done():
                if not self._pending:
                    return
                self._writer = asyncio.create_task(self._write_pending())
            await self._writer
        if self._pending:
            log.error("the conversation state of %d chats could not be written",
                      len(self._pending))
