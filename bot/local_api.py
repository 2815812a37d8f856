"""A local stand-in for the Telegram Bot API, served on 127.0.0.1 with aiohttp.

The real python-telegram-bot ``Application``/``Bot`` talks to it over HTTP
(``base_url=api.base_url``, ``base_file_url=api.base_file_url``), so the whole
stack (request encoding, error mapping, polling) runs as in production. The
answers follow the real API's JSON shapes and error texts, simulated users
inject updates, and faults can be injected: one-off answers (``fail_next``,
``fault_hook``), blocked users, Telegram's rate limits, and a seeded random mode
(``set_faults(FaultPlan(...))``: 429/500/502 answers, slow answers, dropped
connections, getUpdates batches delivered twice). Used by the end-to-end tests
and the offline demo; it also runs standalone: ``python -m bot.local_api --port 8081``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import re
import signal
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from http import HTTPStatus
from typing import Any, Literal, TypeVar

from aiohttp import web

from bot.clock import Clock

__all__ = [
    "MAX_CAPTION_LENGTH",
    "MAX_TEXT_LENGTH",
    "NOT_MODIFIED",
    "ApiError",
    "EntityParseError",
    "FaultPlan",
    "InlineButton",
    "LocalBotApi",
    "RecordedRequest",
    "ReplyButton",
    "SentMessage",
    "SimGroup",
    "SimUser",
    "UploadedFile",
    "parse_html",
]

JSONDict = dict[str, Any]
FaultHook = Callable[[str, JSONDict], tuple[int, JSONDict] | None]
# Told of every dispatched method call once it is answered: method, params, status, body.
AnswerHook = Callable[[str, JSONDict, int, JSONDict], None]
_T = TypeVar("_T")

_LOG = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
# Update types a bot receives when it never asked for a specific list.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Parameters that are plain strings on the wire: never JSON-decoded, even if they look like JSON.
_STRING_PARAMS = frozenset(
    {
        "action", "address", "business_connection_id", "callback_query_id", "caption",
        "description", "document", "emoji", "file_id", "first_name", "inline_message_id",
        "ip_address", "language_code", "last_name", "message_effect_id", "name", "parse_mode",
        "phone_number", "photo", "secret_token", "short_description", "text", "title", "url",
        "vcard",
    }
)
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_LEADING_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


# --------------------------------------------------------------------------- HTML parse mode


class EntityParseError(ValueError):
    """Text is not valid Telegram HTML; the message is the part after "can't parse entities: "."""


_HTML_ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "a": "text_link", "code": "code", "pre": "pre", "tg-spoiler": "spoiler", "span": "spoiler",
    "blockquote": "blockquote",
}
_NAMED_CHAR_REFS = {"amp": "&", "lt": "<", "gt": ">", "quot": '"'}
_CHAR_REF = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-z]{2,4}));")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8", "surrogatepass"))


class _Offset:
    """The byte offset of a position, worked out only if an error message shows it."""

    def __init__(self, source: str, index: int) -> None:
        self._source, self._index = source, index

    def __str__(self) -> str:
        return str(_byte_offset(self._source, self._index))


def _read_char_ref(source: str, index: int) -> tuple[str, int]:
    """Decode the character reference starting at ``source[index] == "&"``."""
    match = _CHAR_REF.match(source, index)
    if match:
        if match[3]:
            char = _NAMED_CHAR_REFS.get(match[3])
        else:
            code = int(match[1]) if match[1] else int(match[2], 16)
            valid = 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
            char = chr(code) if valid else None
        if char is not None:
            return char, match.end()
    raise EntityParseError(f'Unescaped "&" at byte offset {_byte_offset(source, index)}')


def _unescape(source: str, start: int, end: int) -> str:
    out: list[str] = []
    index = start
    while index < end:
        if source[index] == "&":
            char, index = _read_char_ref(source, index)
            out.append(char)
        else:
            out.append(source[index])
            index += 1
    return "".join(out)


@dataclass
class _OpenTag:
    name: str
    offset: int  # UTF-16 offset in the parsed text
    attrs: dict[str, str]
    language: str | None = None  # of a <pre>, from a nested <code class="language-...">


def _is_tag_name_char(char: str) -> bool:
    return not char.isspace() and char != ">"


class _HtmlParser:
    """Telegram's HTML parse mode: strict tag set, balanced tags, escaped ``&``."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.out: list[str] = []
        self.offset = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JSONDict] = []

    def parse(self) -> tuple[str, list[JSONDict]]:
        source = self.source
        while self.pos < len(source):
            char = source[self.pos]
            if char == "&":
                char, self.pos = _read_char_ref(source, self.pos)
                self._emit(char)
            elif char != "<":
                # The whole run of plain text up to the next tag or entity, in one piece.
                end = len(source)
                for stop in (source.find("<", self.pos), source.find("&", self.pos)):
                    if stop != -1:
                        end = min(end, stop)
                self._emit(source[self.pos : end])
                self.pos = end
            elif source.startswith("</", self.pos):
                self._end_tag()
            else:
                self._start_tag()
        if self.stack:
            name = self.stack[-1].name
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.out), self.entities

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.offset += _utf16_len(text)

    def _scan(self, accept: Callable[[str], bool]) -> str:
        """Advance over the characters ``accept`` allows; the text passed over."""
        start = self.pos
        while self.pos < len(self.source) and accept(self.source[self.pos]):
            self.pos += 1
        return self.source[start : self.pos]

    def _skip_spaces(self) -> None:
        self._scan(str.isspace)

    def _at_end(self) -> bool:
        return self.pos >= len(self.source)

    def _start_tag(self) -> None:
        at = _Offset(self.source, self.pos)
        self.pos += 1
        name = self._scan(_is_tag_name_char).lower()
        if self._at_end():
            raise EntityParseError(f"Unclosed start tag at byte offset {at}")
        if name not in _HTML_ENTITY_TYPES:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {at}')
        attrs = self._attributes(name, at)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        self.stack.append(_OpenTag(name, self.offset, attrs))

    def _attributes(self, tag: str, at: _Offset) -> dict[str, str]:
        source, attrs = self.source, dict[str, str]()
        while True:
            self._skip_spaces()
            if self._at_end():
                raise EntityParseError(f"Unclosed start tag at byte offset {at}")
            if source[self.pos] == ">":
                self.pos += 1
                return attrs
            attr = self._scan(lambda char: char.isalnum() or char in "-_").lower()
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {at}'
                )
            self._skip_spaces()
            if self._at_end() or source[self.pos] != "=":
                attrs[attr] = ""
                continue
            self.pos += 1
            self._skip_spaces()
            if self._at_end():
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {at}')
            quote = source[self.pos]
            if quote in "'\"":
                close = source.find(quote, self.pos + 1)
                if close < 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {at}")
                attrs[attr] = _unescape(source, self.pos + 1, close)
                self.pos = close + 1
            else:
                value = self._scan(lambda char: char.isalnum() or char in ".-")
                if not value:
                    offset = _byte_offset(source, self.pos)
                    raise EntityParseError(f"Unexpected end of name token at byte offset {offset}")
                attrs[attr] = value

    def _end_tag(self) -> None:
        at = _Offset(self.source, self.pos)
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {at}")
        self.pos += 2
        name = self._scan(_is_tag_name_char).lower()
        self._skip_spaces()
        if self._at_end() or self.source[self.pos] != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {at}")
        self.pos += 1
        tag = self.stack.pop()
        if name and name != tag.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {at}, "
                f'expected "</{tag.name}>", found "</{name}>"'
            )
        self._close(tag)

    def _close(self, tag: _OpenTag) -> None:
        length = self.offset - tag.offset
        entity: JSONDict = {"type": _HTML_ENTITY_TYPES[tag.name], "offset": tag.offset}
        if tag.name == "a":
            if not tag.attrs.get("href"):
                return
            entity["url"] = tag.attrs["href"]
        elif tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            language = tag.attrs.get("class", "")
            if language.startswith("language-"):
                self.stack[-1].language = language.removeprefix("language-")
                return
        elif tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        elif tag.name == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
        if length > 0:
            entity["length"] = length
            self.entities.append(entity)


def parse_html(source: str) -> tuple[str, list[JSONDict]]:
    """Plain text and message entities (UTF-16 offsets) of a Telegram-HTML text.

    Stricter than Telegram in one respect: a bare ``&`` that does not start
    ``&amp;``/``&lt;``/``&gt;``/``&quot;`` or a numeric reference is rejected.
    """
    return _HtmlParser(source).parse()


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip surrounding whitespace like Telegram does, keeping the entities aligned."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = _utf16_len(text[: len(text) - len(text.lstrip())])
    size = _utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


# --------------------------------------------------------------------------- recorded data


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """One call the bot made: decoded parameters (uploads as :class:`UploadedFile`) and answer.

    ``at`` is when it arrived (``time.monotonic()``); ``fault`` the kind of fault the
    :class:`FaultPlan` gave it (see :attr:`LocalBotApi.fault_counts`), if any. ``status``
    stays 0 while the request is being answered, and for good when it got no answer (a
    dropped connection, or a slow answer the client gave up on).
    """

    method: str
    params: JSONDict
    status: int = 0
    response: JSONDict | None = None
    at: float = field(default_factory=time.monotonic)
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK


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
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes | None
    file_name: str | None
    mime_type: str | None


@dataclass
class _Chat:
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


@dataclass
class _Fault:
    method: str | None
    status: int
    retry_after: int
    remaining: int
    description: str | None


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
    then, so a client that timed out and retries never causes a second message); or a
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
            ("slow", self.slow_rate), ("drop", self.drop_rate),
        ]

    def applies_to(self, method: str, params: JSONDict) -> bool:
        if method.lower() not in {name.lower() for name in self.methods}:
            return False
        return self.chats is None or _maybe_int(params.get("chat_id")) in self.chats


class _Dropped(Exception):
    """Close the connection without an answer."""


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


class ApiError(Exception):
    """An error answer of the API."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _error_description(status: int, retry_after: int) -> str:
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return f"Too Many Requests: retry after {retry_after}"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _decode_value(name: str, raw: str) -> Any:
    """A form or query value: JSON-encoded unless it is one of the plain string parameters."""
    if name in _STRING_PARAMS:
        return raw
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return raw if isinstance(value, str) else value


async def _read_params(request: web.Request) -> JSONDict:
    params: JSONDict = {name: _decode_value(name, value) for name, value in request.query.items()}
    if request.content_type == "application/json":
        body = await request.read()
        if body:
            try:
                data = json.loads(body)
            except ValueError as exc:
                raise ApiError(400, "Bad Request: can't parse JSON encoded request body") from exc
            if not isinstance(data, dict):
                raise ApiError(400, "Bad Request: JSON object expected in the request body")
            params.update(data)
    elif request.can_read_body:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                params[name] = UploadedFile(value.filename, value.content_type, value.file.read())
            else:
                text = value if isinstance(value, str) else bytes(value).decode("utf-8", "replace")
                params[name] = _decode_value(name, text)
    return params


def _command_entities(text: str) -> list[JSONDict]:
    match = _LEADING_COMMAND.match(text)
    return [{"type": "bot_command", "offset": 0, "length": match.end()}] if match else []


def _inline_markup(markup: JSONDict | None) -> JSONDict | None:
    return markup if markup and "inline_keyboard" in markup else None


# --------------------------------------------------------------------------- simulated chats


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

    async def send(self, text: str, *, reply_to: SentMessage | None = None) -> int:
        """A text message (a leading ``/command`` gets its bot_command entity); its message_id."""
        content = _text_content(self._api, text, reply_to)
        return self._api._inject_message(self.chat_id, self, content)

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
    entities = _command_entities(text)
    if entities:
        content["entities"] = entities
    if reply_to is not None:
        content["reply_to_message"] = api._message_json(reply_to)
    return content


# --------------------------------------------------------------------------- the server


Handler = Callable[[JSONDict], Awaitable[Any]]


class LocalBotApi:
    """The fake Bot API server and its state. Use as ``async with LocalBotApi() as api:``."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_id: int = 123456,
        bot_username: str = "regsosek_test_bot",
        first_name: str = "Regsosek Bot",
        port: int = 0,
        clock: Clock | None = None,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.first_name = first_name
        self.requests: list[RecordedRequest] = []
        self.blocked_users: set[int] = set()
        self.fault_hook: FaultHook | None = None
        # For measurements (bench/): told of each method call as it is answered, faults
        # included, at the moment the answer is ready (a dropped connection is not told).
        self.answer_hook: AnswerHook | None = None
        # Injected faults by kind: "429", "500", "502" (any status a fault answered with),
        # "slow", "drop", "duplicate" (a getUpdates batch delivered again), "rate_limit"
        # (a 429 of enforce_rate_limits). Kept across set_faults()/clear_faults().
        self.fault_counts: Counter[str] = Counter()
        # (scope JSON with sorted keys, language_code) -> commands; see commands_for().
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.callback_answers: dict[str, JSONDict] = {}
        self._port = port
        self._clock = clock
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None
        self._closing = False
        self._changed = asyncio.Event()
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, SimUser] = {}
        self._groups: dict[int, SimGroup] = {}
        self._files: dict[str, _StoredFile] = {}
        self._updates: list[JSONDict] = []
        self._last_update_id = 0
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._duplicate_next = False
        self._redelivery: list[JSONDict] = []
        self._webhook_url = ""
        self._faults: list[_Fault] = []
        self._plan: FaultPlan | None = None
        self._plan_rng = random.Random()
        self._updates_rng = random.Random()
        self._global_window: _SlidingWindow | None = None
        self._per_chat_rate: float | None = None
        self._chat_windows: dict[int, _SlidingWindow] = {}
        self._callback_messages: dict[str, SentMessage] = {}
        self._last_callback_id = 0
        self._handlers: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._ok,
                "close": self._ok,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setMyDescription": self._ok,
                "setMyShortDescription": self._ok,
                "setChatMenuButton": self._ok,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendLocation": self._send_location,
                "sendChatAction": self._send_chat_action,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "getChat": self._get_chat,
                "getFile": self._get_file,
            }.items()
        }

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Serve on 127.0.0.1 (an ephemeral port unless ``port`` was given)."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_get("/control/messages/{chat_id}", self._control_messages)
        app.router.add_post("/control/{action}", self._control_action)
        self._closing = False
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self._port).start()
        self._bound_port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving; pending long polls are answered (empty) right away."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._bound_port is None:
            raise RuntimeError("LocalBotApi is not started")
        return self._bound_port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ----------------------------------------------------------------- simulation and inspection

    def user(
        self,
        user_id: int,
        first_name: str = "Petugas",
        *,
        username: str | None = None,
        language_code: str = "id",
    ) -> SimUser:
        """The simulated user with that id (created on first use, then always the same object)."""
        if user_id not in self._users:
            sim = SimUser(self, user_id, first_name, username, language_code)
            chat: JSONDict = {"id": user_id, "type": "private", "first_name": first_name}
            if username:
                chat["username"] = username
            self._chats[user_id] = _Chat(chat)
            self._users[user_id] = sim
        return self._users[user_id]

    def group(self, chat_id: int, title: str = "Grup Petugas") -> SimGroup:
        """A group chat with the bot as member (a supergroup for -100... ids)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if chat_id not in self._groups:
            kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
            self._chats[chat_id] = _Chat({"id": chat_id, "type": kind, "title": title})
            self._groups[chat_id] = SimGroup(self, chat_id, title)
        return self._groups[chat_id]

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

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict] | None:
        """Commands set for that scope (default scope if None) and language, None if unset."""
        return self.commands.get((self._scope_key(scope), language_code))

    def add_update(self, update: JSONDict) -> int:
        """Queue a raw update (update_id assigned if missing) and wake a pending getUpdates."""
        update = dict(update)
        update_id = int(update.setdefault("update_id", self._last_update_id + 1))
        self._last_update_id = max(self._last_update_id, update_id)
        self._updates.append(update)
        self._notify()
        return update_id

    def duplicate_next_delivery(self) -> None:
        """The next batch getUpdates delivers is delivered once more, despite the offset."""
        self._duplicate_next = True

    # ----------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str | None,
        status: int,
        *,
        retry_after: int = 1,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """The next ``count`` calls of ``method`` (None: any but getUpdates) answer ``status``."""
        self._faults.append(_Fault(method, status, retry_after, count, description))

    def enforce_rate_limits(
        self, *, per_second: float | None = 30, per_chat_per_second: float | None = 1
    ) -> None:
        """From now on, sends beyond these rates answer 429 with retry_after=1."""
        self._global_window = _SlidingWindow(per_second) if per_second else None
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

    async def _planned_fault(self, request: web.Request, record: RecordedRequest) -> None:
        """Apply the fault plan to this request: raise its error, drop it, or hold it."""
        kind = self._draw_fault(record.method, record.params)
        if kind is None:
            return
        assert self._plan is not None
        plan = self._plan
        record.fault = kind
        self.fault_counts[kind] += 1
        if kind == "drop":
            raise _Dropped
        if kind == "slow":
            await asyncio.sleep(plan.slow_seconds)
            if request.transport is None or request.transport.is_closing():
                raise _Dropped  # the client gave up: the request is never carried out
            return
        status = int(kind)
        parameters = {"retry_after": plan.retry_after} if status == 429 else None
        raise ApiError(status, _error_description(status, plan.retry_after), parameters)

    def _take_fault(self, method: str) -> ApiError | None:
        for fault in self._faults:
            if fault.method is None and method == "getUpdates":
                continue
            if fault.method is not None and fault.method.lower() != method.lower():
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            self.fault_counts[str(fault.status)] += 1
            description = fault.description or _error_description(fault.status, fault.retry_after)
            parameters = {"retry_after": fault.retry_after} if fault.status == 429 else None
            return ApiError(fault.status, description, parameters)
        return None

    def _check_rate_limits(self, method: str, params: JSONDict) -> None:
        if not method.startswith("send") or method == "sendChatAction":
            return
        windows = [self._global_window] if self._global_window else []
        chat_id = _maybe_int(params.get("chat_id"))
        if self._per_chat_rate and chat_id is not None:
            windows.append(
                self._chat_windows.setdefault(chat_id, _SlidingWindow(self._per_chat_rate))
            )
        now = time.monotonic()
        if not all(window.has_room(now) for window in windows):
            self.fault_counts["rate_limit"] += 1
            raise ApiError(429, _error_description(429, 1), {"retry_after": 1})
        for window in windows:
            window.add(now)

    # ----------------------------------------------------------------- HTTP plumbing

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        entry = self._handlers.get(name.lower())
        record = RecordedRequest(entry[0] if entry else name, {})
        try:
            status, body = await self._answer(request, entry, record)
        except _Dropped:
            _LOG.info("%s %s -> connection dropped", record.method, _brief(record.params))
            if request.transport is not None:
                request.transport.close()
            self._notify()
            return web.Response(status=500)  # never written: the connection is gone
        except ApiError as exc:
            status, body = exc.status, exc.body()
        except Exception as exc:  # a bug in this server: show it to the client and in the log
            _LOG.exception("local Bot API failed on %s", name)
            status, body = 500, ApiError(500, f"Internal Server Error: {exc!r}").body()
        record.status, record.response = status, body
        _LOG.info("%s %s -> %s", record.method, _brief(record.params), status)
        self._notify()
        return web.json_response(body, status=status)

    async def _answer(
        self, request: web.Request, entry: tuple[str, Handler] | None, record: RecordedRequest
    ) -> tuple[int, JSONDict]:
        try:
            record.params = await _read_params(request)
        finally:
            self.requests.append(record)
            self._notify()
        if request.match_info["token"] != self.token:
            raise ApiError(401, "Unauthorized")
        if entry is None:
            raise ApiError(404, "Not Found")
        await self._planned_fault(request, record)
        return await self._dispatch(entry[0], entry[1], record.params)

    async def _dispatch(
        self, method: str, handler: Handler, params: JSONDict
    ) -> tuple[int, JSONDict]:
        try:
            status, body = await self._dispatch_call(method, handler, params)
        except ApiError as exc:
            if self.answer_hook is not None:
                self.answer_hook(method, params, exc.status, exc.body())
            raise
        if self.answer_hook is not None:
            self.answer_hook(method, params, status, body)
        return status, body

    async def _dispatch_call(
        self, method: str, handler: Handler, params: JSONDict
    ) -> tuple[int, JSONDict]:
        if self.fault_hook is not None:
            injected = self.fault_hook(method, params)
            if injected is not None:
                if injected[0] != HTTPStatus.OK:
                    self.fault_counts[str(injected[0])] += 1
                return injected
        fault = self._take_fault(method)
        if fault is not None:
            raise fault
        blocked = _maybe_int(params.get("chat_id")) in self.blocked_users
        if blocked and method.startswith(("send", "edit")):
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        self._check_rate_limits(method, params)
        return 200, {"ok": True, "result": await handler(params)}

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        stored = next((f for f in self._files.values() if f.file_path == path), None)
        if request.match_info["token"] != self.token or stored is None or stored.data is None:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        content_type = stored.mime_type or "application/octet-stream"
        return web.Response(body=stored.data, content_type=content_type)

    async def _control_action(self, request: web.Request) -> web.Response:
        """Manual runs: POST /control/send {user_id, text},
        /control/press {user_id, message_id, button, chat_id (default: the user's chat)}."""
        try:
            body = await request.json()
            user = self.user(int(body["user_id"]), str(body.get("first_name", "Petugas")))
            action = request.match_info["action"]
            if action == "send":
                result: JSONDict = {"message_id": await user.send(str(body["text"]))}
            elif action == "press":
                chat_id = int(body.get("chat_id", user.user_id))
                message = self.message(chat_id, int(body["message_id"]))
                result = {"callback_query_id": await user.press(message, str(body["button"]))}
            else:
                raise KeyError(f"unknown action {action!r}")
        except (KeyError, ValueError, TypeError, AssertionError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        return web.json_response({"ok": True, "result": result})

    async def _control_messages(self, request: web.Request) -> web.Response:
        """Manual runs: GET /control/messages/{chat_id} lists the bot's messages there."""
        chat_id = _maybe_int(request.match_info["chat_id"])
        messages = self.messages_to(chat_id) if chat_id is not None else []
        return web.json_response({"ok": True, "result": [m.summary() for m in messages]})

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

    def _chat_for(self, params: JSONDict) -> _Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = _maybe_int(raw)
        chat = None if chat_id is None else self._chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _inject_message(self, chat_id: int, sender: SimUser, content: JSONDict) -> int:
        chat = self._chats[chat_id]
        message_id = chat.take_message_id()
        chat.user_message_ids.add(message_id)
        message = {
            "message_id": message_id,
            "from": sender.to_api(),
            "chat": chat.payload,
            "date": int(self._now().timestamp()),
            **content,
        }
        self.add_update({"message": message})
        return message_id

    def _inject_callback(self, sender: SimUser, message: SentMessage, data: str) -> str:
        if message.deleted:
            raise AssertionError(f"message {message.summary()} was deleted")
        self._last_callback_id += 1
        query_id = str(4_000_000_000_000_000_000 + self._last_callback_id)
        self._callback_messages[query_id] = message
        query = {
            "id": query_id,
            "from": sender.to_api(),
            "message": self._message_json(message),
            "chat_instance": str(abs(message.chat_id) * 7919 + 17),
            "data": data,
        }
        self.add_update({"callback_query": query})
        return query_id

    def _new_file(
        self, kind: str, data: bytes | None, file_name: str | None, mime_type: str | None
    ) -> _StoredFile:
        number = len(self._files) + 1
        suffix = {"photo": ".jpg", "sticker": ".webp"}.get(kind, "")
        stored = _StoredFile(
            file_id=f"{kind[:2].upper()}ACAgUAAxkBAAI{number:06d}",
            file_unique_id=f"AQAD{number:06d}",
            file_path=f"{kind}s/file_{number}{suffix}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        return stored

    def _input_file(self, params: JSONDict, name: str) -> _StoredFile:
        value = params.get(name)
        if isinstance(value, UploadedFile):
            return self._new_file(name, value.data, value.filename, value.content_type)
        if not value:
            raise ApiError(400, f"Bad Request: there is no {name} in the request")
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return self._new_file(name, None, value.rsplit("/", 1)[-1] or None, None)
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _photo_sizes(self, stored: _StoredFile) -> list[JSONDict]:
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
        markup = _inline_markup(message.reply_markup)
        if markup:
            out["reply_markup"] = markup
        return out

    def _formatted(self, params: JSONDict, *, caption: bool) -> tuple[str | None, list[JSONDict]]:
        """Text or caption after entity parsing and trimming, validated like Telegram does."""
        raw = params.get("caption" if caption else "text")
        raw = "" if raw is None else str(raw)
        mode = str(params.get("parse_mode") or "")
        if mode.lower() == "html":
            try:
                text, entities = parse_html(raw)
            except EntityParseError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
        elif mode.lower() in ("", "markdown", "markdownv2"):  # Markdown is stored unparsed
            text = raw
            entities = list(params.get("caption_entities" if caption else "entities") or [])
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        text, entities = _trim(text, entities)
        if caption:
            if len(text) > MAX_CAPTION_LENGTH:
                raise ApiError(400, "Bad Request: message caption is too long")
        elif not text:
            raise ApiError(400, "Bad Request: message text is empty")
        elif len(text) > MAX_TEXT_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        return text or None, entities

    @staticmethod
    def _reply_markup(params: JSONDict) -> JSONDict | None:
        markup = params.get("reply_markup")
        if markup in (None, ""):
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                data, url = button.get("callback_data"), button.get("url")
                if data is None and url is None and len(button) <= 1:
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard",
                    )
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                    raise ApiError(
                        400, f"Bad Request: inline keyboard button URL '{url}' is invalid"
                    )
        return markup

    def _reply_to(self, chat: _Chat, params: JSONDict) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = _maybe_int(reply.get("message_id"))
            tolerant = reply.get("allow_sending_without_reply")
        else:
            message_id = _maybe_int(params.get("reply_to_message_id"))
            tolerant = params.get("allow_sending_without_reply")
        if message_id is None:
            return None
        if message_id not in chat.user_message_ids and chat.live_message(message_id) is None:
            if tolerant:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return message_id

    def _store(self, chat: _Chat, params: JSONDict, **fields: Any) -> SentMessage:
        message = SentMessage(
            message_id=chat.take_message_id(),
            chat_id=chat.chat_id,
            parse_mode=params.get("parse_mode"),
            reply_markup=self._reply_markup(params),
            date=self._now(),
            reply_to_message_id=self._reply_to(chat, params),
            **fields,
        )
        chat.inbox.append(message)
        chat.feed.append(message)
        chat.by_id[message.message_id] = message
        return message

    def _message_to_edit(self, params: JSONDict) -> SentMessage:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._chat_for(params)
        message_id = _maybe_int(params.get("message_id"))
        if message_id in chat.user_message_ids:
            raise ApiError(400, "Bad Request: message can't be edited")
        message = chat.live_message(message_id)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return message

    def _apply_edit(
        self,
        message: SentMessage,
        params: JSONDict,
        text: str | None,
        entities: list[JSONDict],
        markup: JSONDict | None,
    ) -> JSONDict:
        current = (message.text, message.entities, _inline_markup(message.reply_markup))
        if (text, entities, markup) == current:
            raise ApiError(400, NOT_MODIFIED)
        if params.get("parse_mode") is not None:
            message.parse_mode = params["parse_mode"]
        if (text, entities) != current[:2]:
            self._chats[message.chat_id].feed.append(message)
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.edited, message.edit_date = True, self._now()
        message.version += 1
        return self._message_json(message)

    @staticmethod
    def _scope_key(scope: JSONDict | None) -> str:
        return json.dumps(scope or {"type": "default"}, sort_keys=True)

    def _commands_key(self, params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope")
        if scope is not None and not isinstance(scope, dict):
            raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
        return self._scope_key(scope), str(params.get("language_code") or "")

    # ----------------------------------------------------------------- API methods

    async def _ok(self, _params: JSONDict) -> bool:
        return True

    async def _get_me(self, _params: JSONDict) -> JSONDict:
        return {
            **self._bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self._webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _maybe_int(params.get("offset")) or 0
        limit = min(max(_maybe_int(params.get("limit")) or 100, 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if "allowed_updates" in params:
            self._allowed_updates = frozenset(params["allowed_updates"] or ()) or None
        if offset < 0:
            self._updates = self._updates[offset:]
        elif offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if self._redelivery:
            batch, self._redelivery = self._redelivery, []
            return batch
        self._poll_generation += 1
        generation = self._poll_generation
        deadline = time.monotonic() + timeout
        batch = []
        while not self._closing:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = [u for u in self._updates if self._is_allowed(u)][:limit]
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0:
                break
            await self._wait_changed(remaining)
        if batch and (self._duplicate_next or self._draw_duplicate()):
            self._duplicate_next = False
            self._redelivery = list(batch)
            self.fault_counts["duplicate"] += 1
        return batch

    def _is_allowed(self, update: JSONDict) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self._allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    async def _set_webhook(self, params: JSONDict) -> bool:
        self._webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _delete_webhook(self, params: JSONDict) -> bool:
        self._webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, _params: JSONDict) -> JSONDict:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict):
                raise ApiError(400, "Bad Request: can't parse BotCommand JSON object")
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        if commands:
            self.commands[key] = commands
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._chat_for(params)
        text, entities = self._formatted(params, caption=False)
        message = self._store(chat, params, kind="text", text=text, entities=entities)
        return self._message_json(message)

    async def _send_media(self, params: JSONDict, kind: str) -> JSONDict:
        chat = self._chat_for(params)
        stored = self._input_file(params, kind)
        caption, entities = self._formatted(params, caption=True)
        message = self._store(
            chat,
            params,
            kind=kind,
            text=caption,
            entities=entities,
            file_id=stored.file_id,
            file_name=stored.file_name,
            file_bytes=stored.data,
            mime_type=stored.mime_type,
        )
        return self._message_json(message)

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        return await self._send_media(params, "photo")

    async def _send_document(self, params: JSONDict) -> JSONDict:
        return await self._send_media(params, "document")

    async def _send_location(self, params: JSONDict) -> JSONDict:
        chat = self._chat_for(params)
        try:
            location = {
                "latitude": float(params["latitude"]),
                "longitude": float(params["longitude"]),
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError(400, "Bad Request: wrong latitude or longitude specified") from exc
        message = self._store(chat, params, kind="location", text=None, location=location)
        return self._message_json(message)

    async def _send_chat_action(self, params: JSONDict) -> bool:
        self._chat_for(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _edit_message_text(self, params: JSONDict) -> JSONDict:
        message = self._message_to_edit(params)
        if message.kind != "text":
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = self._formatted(params, caption=False)
        return self._apply_edit(message, params, text, entities, self._reply_markup(params))

    async def _edit_message_caption(self, params: JSONDict) -> JSONDict:
        message = self._message_to_edit(params)
        if message.kind not in ("photo", "document"):
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, entities = self._formatted(params, caption=True)
        return self._apply_edit(message, params, caption, entities, self._reply_markup(params))

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        message = self._message_to_edit(params)
        markup = self._reply_markup(params)
        return self._apply_edit(message, params, message.text, message.entities, markup)

    async def _delete_message(self, params: JSONDict) -> bool:
        chat = self._chat_for(params)
        message_id = _maybe_int(params.get("message_id"))
        if message_id in chat.user_message_ids:
            chat.user_message_ids.remove(message_id)
            return True
        message = chat.live_message(message_id)
        if message is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        message.deleted = True
        return True

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callback_messages or query_id in self.callback_answers:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.callback_answers[query_id] = params
        return True

    async def _get_chat(self, params: JSONDict) -> JSONDict:
        chat = self._chat_for(params)
        return {
            **chat.payload,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        result: JSONDict = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.data is not None:
            result["file_size"] = len(stored.data)
            result["file_path"] = stored.file_path
        return result


def _maybe_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _brief(params: JSONDict) -> str:
    keys = ("chat_id", "message_id", "text", "caption", "callback_query_id")
    shown = {key: params[key] for key in keys if key in params}
    return repr(shown)[:160]


# --------------------------------------------------------------------------- standalone run


async def _serve(port: int, token: str, bot_username: str) -> None:
    api = LocalBotApi(token, port=port, bot_username=bot_username)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    async with api:
        print(f"base_url      {api.base_url}", flush=True)
        print(f"base_file_url {api.base_file_url}", flush=True)
        print(
            f"inject: curl -d '{{\"user_id\": 1001, \"text\": \"/start\"}}' "
            f"-H 'Content-Type: application/json' http://127.0.0.1:{api.port}/control/send",
            flush=True,
        )
        await stopped.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local fake Telegram Bot API server (127.0.0.1).")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    parser.add_argument("--bot-username", default="regsosek_test_bot")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    asyncio.run(_serve(args.port, args.token, args.bot_username))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
