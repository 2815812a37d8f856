"""Simulated users and groups: they send messages, press buttons and wait for the bot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Literal

from bot.localapi.chats import SentMessage
from bot.localapi.entities import command_entities
from bot.localapi.protocol import JSONDict

if TYPE_CHECKING:
    from bot.localapi.server import LocalBotApi


class _ChatView:
    """Cursor over the bot messages of one chat (base of :class:`SimUser`, :class:`SimGroup`)."""

    def __init__(self, api: LocalBotApi, chat_id: int) -> None:
        self._api = api
        self.chat_id = chat_id
        self._cursor = 0

    @property
    def inbox(self) -> list[SentMessage]:
        """Everything the bot sent to this chat, including edited and deleted messages."""
        return list(self._api._chats[self.chat_id].inbox)

    async def next_message(self, timeout: float = 5.0) -> SentMessage:
        """The next bot message not consumed yet by this cursor (a message whose text was
        edited comes again, as the user sees it change)."""
        return await self._take(lambda _message: True, timeout, "new bot message")

    async def wait_for(
        self, predicate: Callable[[SentMessage], bool], timeout: float = 5.0
    ) -> SentMessage:
        """The next unconsumed message (or text edit) satisfying ``predicate``; earlier ones
        are consumed too."""
        return await self._take(predicate, timeout, "bot message matching the predicate")

    async def wait_edit(
        self, message: SentMessage, timeout: float = 5.0, *, since_version: int | None = None
    ) -> SentMessage:
        """Wait until ``message`` is edited after this call (or after ``since_version``)."""
        live = self._api.message(message.chat_id, message.message_id)
        baseline = live.version if since_version is None else since_version
        found = await self._api._wait_until(
            lambda: live if live.version > baseline else None, timeout
        )
        if found is None:
            headline = f"message {live.summary()} was not edited within {timeout}s"
            raise AssertionError(self._api._describe_chat(live.chat_id, headline, self._cursor))
        return found

    async def _take(
        self, predicate: Callable[[SentMessage], bool], timeout: float, wanted: str
    ) -> SentMessage:
        feed = self._api._chats[self.chat_id].feed

        def probe() -> SentMessage | None:
            for index in range(self._cursor, len(feed)):
                if predicate(feed[index]):
                    self._cursor = index + 1
                    return feed[index]
            return None

        found = await self._api._wait_until(probe, timeout)
        if found is None:
            headline = f"no {wanted} in chat {self.chat_id} within {timeout}s"
            raise AssertionError(self._api._describe_chat(self.chat_id, headline, self._cursor))
        return found


class _Own(Enum):
    OWN = "own"


class SimUser(_ChatView):
    """A Telegram user in a private chat with the bot (chat id == user id)."""

    def __init__(
        self,
        api: LocalBotApi,
        user_id: int,
        first_name: str,
        username: str | None,
        language_code: str,
    ) -> None:
        super().__init__(api, user_id)
        self.user_id = user_id
        self.first_name = first_name
        self.username = username
        self.language_code = language_code

    def to_api(self) -> JSONDict:
        user: JSONDict = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        user["language_code"] = self.language_code
        return user

    async def send(
        self, text: str, *, reply_to: SentMessage | None = None, date: datetime | None = None
    ) -> int:
        """A text message (a leading ``/command`` gets its bot_command entity); its message_id.

        ``date``: when the user sent it (an aware datetime); by default the API's clock now,
        so a message sent earlier and delivered late can be simulated."""
        content = _text_content(self._api, text, reply_to)
        return self._api._inject_message(self.chat_id, self, content, date)

    async def send_contact(
        self,
        phone_number: str,
        *,
        user_id: int | Literal[_Own.OWN] | None = _Own.OWN,
        first_name: str | None = None,
    ) -> int:
        """A shared contact; by default the user's own (``user_id`` = own id, None for none)."""
        contact: JSONDict = {
            "phone_number": phone_number,
            "first_name": first_name or self.first_name,
        }
        owner = self.user_id if user_id is _Own.OWN else user_id
        if owner is not None:
            contact["user_id"] = owner
        return self._api._inject_message(self.chat_id, self, {"contact": contact})

    async def send_photo(
        self, caption: str | None = None, *, data: bytes = b"\xff\xd8\xff\xe0 photo \xff\xd9"
    ) -> int:
        stored = self._api._new_file("photo", data, None, "image/jpeg")
        content: JSONDict = {"photo": self._api._photo_sizes(stored)}
        if caption:
            content["caption"] = caption
        return self._api._inject_message(self.chat_id, self, content)

    async def send_sticker(self) -> int:
        stored = self._api._new_file("sticker", b"RIFF sticker", None, "image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "\N{THUMBS UP SIGN}",
        }
        return self._api._inject_message(self.chat_id, self, {"sticker": sticker})

    async def send_location(self, latitude: float, longitude: float) -> int:
        location = {"latitude": latitude, "longitude": longitude}
        return self._api._inject_message(self.chat_id, self, {"location": location})

    async def press(self, message: SentMessage, text_or_data: str) -> str:
        """Press an inline button (see :meth:`SentMessage.button`); the callback query id."""
        live = self._api.message(message.chat_id, message.message_id)
        button = live.button(text_or_data)
        if button.callback_data is None:
            raise AssertionError(f"button {button.text!r} has no callback_data (url={button.url})")
        return self._api._inject_callback(self, live, button.callback_data)

    async def press_data(self, message: SentMessage, data: str) -> str:
        """A callback query with arbitrary (possibly forged) data for ``message``."""
        live = self._api.message(message.chat_id, message.message_id)
        return self._api._inject_callback(self, live, data)

    async def wait_answer(self, callback_query_id: str, timeout: float = 5.0) -> JSONDict:
        """The answerCallbackQuery parameters the bot sent for that query."""
        answers = self._api.callback_answers
        found = await self._api._wait_until(lambda: answers.get(callback_query_id), timeout)
        if found is None:
            headline = f"callback query {callback_query_id} not answered within {timeout}s"
            raise AssertionError(self._api._describe_chat(self.chat_id, headline, self._cursor))
        return found


class SimGroup(_ChatView):
    """A group chat containing the bot; users post into it with :meth:`send`."""

    def __init__(self, api: LocalBotApi, chat_id: int, title: str) -> None:
        super().__init__(api, chat_id)
        self.title = title

    async def send(self, user: SimUser, text: str, *, reply_to: SentMessage | None = None) -> int:
        content = _text_content(self._api, text, reply_to)
        return self._api._inject_message(self.chat_id, user, content)


def _text_content(api: LocalBotApi, text: str, reply_to: SentMessage | None) -> JSONDict:
    content: JSONDict = {"text": text}
    entities = command_entities(text)
    if entities:
        content["entities"] = entities
    if reply_to is not None:
        content["reply_to_message"] = api._message_json(reply_to)
    return content
