"""The stored state of chats: the bot's messages, their keyboards, and uploaded files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.localapi.protocol import JSONDict


@dataclass(frozen=True)
class InlineButton:
    text: str
    callback_data: str | None
    url: str | None


@dataclass(frozen=True)
class ReplyButton:
    text: str
    request_contact: bool = False
    request_location: bool = False


@dataclass(eq=False)
class SentMessage:
    """A message the bot sent. Stored objects are live: edits and deletion update them."""

    message_id: int
    chat_id: int
    text: str | None  # text, or caption for media
    parse_mode: str | None
    reply_markup: JSONDict | None  # decoded JSON, inline or reply keyboard
    kind: str  # "text" | "photo" | "document" | "location"
    date: datetime
    entities: list[JSONDict] = field(default_factory=list)
    file_name: str | None = None
    file_bytes: bytes | None = None
    file_id: str | None = None
    mime_type: str | None = None
    location: dict[str, float] | None = None
    reply_to_message_id: int | None = None
    edited: bool = False
    edit_date: datetime | None = None
    version: int = 0  # incremented by every edit
    deleted: bool = False

    def buttons(self) -> list[InlineButton]:
        """The inline keyboard, flattened row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            InlineButton(str(b.get("text", "")), b.get("callback_data"), b.get("url"))
            for row in rows
            for b in row
        ]

    def button(self, text_or_data: str) -> InlineButton:
        """The button whose callback_data or text equals, else whose text uniquely contains, it."""
        buttons = self.buttons()
        for exact in (
            [b for b in buttons if b.callback_data == text_or_data],
            [b for b in buttons if b.text == text_or_data],
        ):
            if exact:
                return exact[0]
        partial = [b for b in buttons if text_or_data in b.text]
        if len(partial) == 1:
            return partial[0]
        problem = "ambiguous" if partial else "no"
        raise AssertionError(f"{problem} button {text_or_data!r} in message {self.summary()}")

    def reply_keyboard_buttons(self) -> list[ReplyButton]:
        """The custom reply keyboard (e.g. a "share contact" button), flattened."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [
            ReplyButton(b)
            if isinstance(b, str)
            else ReplyButton(
                str(b.get("text", "")),
                bool(b.get("request_contact")),
                bool(b.get("request_location")),
            )
            for row in rows
            for b in row
        ]

    def summary(self) -> str:
        flags = "".join((", edited" if self.edited else "", ", deleted" if self.deleted else ""))
        labels = [b.text for b in self.buttons()] + [b.text for b in self.reply_keyboard_buttons()]
        keyboard = f" buttons={labels}" if labels else ""
        return f"#{self.message_id} [{self.kind}{flags}] {self.text!r}{keyboard}"


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes | None
    file_name: str | None
    mime_type: str | None


@dataclass
class Chat:
    payload: JSONDict  # the API Chat object
    inbox: list[SentMessage] = field(default_factory=list)
    # What a user sees arrive, in order: each new message, and a message again when its text
    # or caption is edited (an outcome written under a pressed message is news to them).
    feed: list[SentMessage] = field(default_factory=list)
    by_id: dict[int, SentMessage] = field(default_factory=dict)
    user_message_ids: set[int] = field(default_factory=set)
    last_message_id: int = 0

    @property
    def chat_id(self) -> int:
        return int(self.payload["id"])

    def take_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id

    def live_message(self, message_id: int | None) -> SentMessage | None:
        """The bot message with that id, unless unknown or deleted."""
        message = None if message_id is None else self.by_id.get(message_id)
        return None if message is None or message.deleted else message


def inline_markup(markup: JSONDict | None) -> JSONDict | None:
    return markup if markup and "inline_keyboard" in markup else None
