"""The state shared by every part of the local Bot API, and waiting for it to change.

:class:`ApiState` is the base of the mixins :class:`~bot.localapi.server.LocalBotApi` is
made of: the bot's identity, the chats, simulated users and groups, stored files, the
recorded requests, and the event every change of state sets.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from bot.clock import Clock
from bot.localapi.chats import Chat, SentMessage, StoredFile, inline_markup
from bot.localapi.protocol import ApiError, JSONDict, RecordedRequest, maybe_int

if TYPE_CHECKING:
    from bot.localapi.sim import SimGroup, SimUser

_T = TypeVar("_T")


class ApiState:
    """Identity, chats, files and recorded requests; inspection and waiting helpers."""

    def __init__(
        self,
        token: str,
        *,
        bot_id: int,
        bot_username: str,
        first_name: str,
        clock: Clock | None,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.first_name = first_name
        self.requests: list[RecordedRequest] = []
        self._clock = clock
        self._closing = False
        self._changed = asyncio.Event()
        self._chats: dict[int, Chat] = {}
        self._users: dict[int, SimUser] = {}
        self._groups: dict[int, SimGroup] = {}
        self._files: dict[str, StoredFile] = {}

    @property
    def clock(self) -> Clock | None:
        """The clock messages and edits are dated by; None: the real one."""
        return self._clock

    @clock.setter
    def clock(self, clock: Clock | None) -> None:
        self._clock = clock

    # ----------------------------------------------------------------- inspection

    def calls(self, method: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method.lower() == method.lower()]

    async def wait_request(
        self, method: str, *, since: int = 0, timeout: float = 5.0
    ) -> RecordedRequest:
        """The first request of ``method`` at index >= ``since`` in :attr:`requests`, once it
        arrives (``status`` stays 0 while it is being answered, e.g. a pending long poll)."""

        def probe() -> RecordedRequest | None:
            wanted = method.lower()
            return next((r for r in self.requests[since:] if r.method.lower() == wanted), None)

        found = await self._wait_until(probe, timeout)
        if found is None:
            raise AssertionError(f"no {method} request within {timeout}s")
        return found

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """Bot messages currently in that chat (not deleted), oldest first."""
        chat = self._chats.get(chat_id)
        return [m for m in chat.inbox if not m.deleted] if chat else []

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        chat = self._chats.get(chat_id)
        if chat is None or message_id not in chat.by_id:
            raise KeyError(f"no bot message {message_id} in chat {chat_id}")
        return chat.by_id[message_id]

    # ----------------------------------------------------------------- waiting

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_changed(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    async def _wait_until(self, probe: Callable[[], _T | None], timeout: float) -> _T | None:
        """Re-evaluate ``probe`` at every state change until it is not None or the deadline."""
        deadline = time.monotonic() + timeout
        while (found := probe()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closing:
                return None
            await self._wait_changed(remaining)
        return found

    def _describe_chat(self, chat_id: int, headline: str, cursor: int) -> str:
        feed = self._chats[chat_id].feed if chat_id in self._chats else []
        lines = [headline, f"bot messages in chat {chat_id} (- consumed, * not consumed yet):"]
        lines += [
            f"  {'-' if index < cursor else '*'} {m.summary()}"
            for index, m in enumerate(feed)
            if index >= len(feed) - 10
        ] or ["  (none)"]
        failed = [r for r in self.requests if r.status not in (0, 200)][-5:]
        if failed:
            lines.append("recent failed requests:")
            lines += [
                f"  {r.method} -> {r.status} {(r.response or {}).get('description')}"
                for r in failed
            ]
        return "\n".join(lines)

    # ----------------------------------------------------------------- building blocks

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    @property
    def _bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.bot_username,
        }

    def _chat_for(self, params: JSONDict) -> Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = maybe_int(raw)
        chat = None if chat_id is None else self._chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _new_file(
        self, kind: str, data: bytes | None, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        number = len(self._files) + 1
        suffix = {"photo": ".jpg", "sticker": ".webp"}.get(kind, "")
        stored = StoredFile(
            # A file_id belongs to one bot, as Telegram's do: another bot's id is refused.
            file_id=f"{kind[:2].upper()}ACAgUAAxkBAAI{self.bot_id}_{number:06d}",
            file_unique_id=f"AQAD{number:06d}",
            file_path=f"{kind}s/file_{number}{suffix}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        return stored

    def _photo_sizes(self, stored: StoredFile) -> list[JSONDict]:
        size: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 1280,
            "height": 960,
        }
        if stored.data is not None:
            size["file_size"] = len(stored.data)
        return [size]

    def _message_json(self, message: SentMessage) -> JSONDict:
        """The API Message object of a bot message, as the bot would receive it."""
        out: JSONDict = {
            "message_id": message.message_id,
            "from": self._bot_user,
            "chat": self._chats[message.chat_id].payload,
            "date": int(message.date.timestamp()),
        }
        if message.edit_date is not None:
            out["edit_date"] = int(message.edit_date.timestamp())
        if message.kind == "text":
            out["text"] = message.text
            if message.entities:
                out["entities"] = message.entities
        elif message.kind == "location":
            out["location"] = message.location
        else:
            stored = self._files[message.file_id or ""]
            if message.kind == "photo":
                out["photo"] = self._photo_sizes(stored)
            else:
                document: JSONDict = {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                }
                if stored.file_name:
                    document["file_name"] = stored.file_name
                if stored.mime_type:
                    document["mime_type"] = stored.mime_type
                if stored.data is not None:
                    document["file_size"] = len(stored.data)
                out["document"] = document
            if message.text:
                out["caption"] = message.text
                if message.entities:
                    out["caption_entities"] = message.entities
        markup = inline_markup(message.reply_markup)
        if markup:
            out["reply_markup"] = markup
        return out
