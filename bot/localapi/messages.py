"""The bot's messages: sending, editing and deleting them, formatting and keyboards
validated like Telegram does; getChat and getFile."""

from __future__ import annotations

from typing import Any

from bot.localapi.chats import Chat, SentMessage, StoredFile, inline_markup
from bot.localapi.entities import EntityParseError, parse_html, trim
from bot.localapi.protocol import ApiError, JSONDict, UploadedFile, maybe_int
from bot.localapi.state import ApiState

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)

_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)


class MessagesMixin(ApiState):
    """sendMessage, sendPhoto, sendDocument, sendLocation, sendChatAction, edits, deletion."""

    def _input_file(self, params: JSONDict, name: str) -> StoredFile:
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
        text, entities = trim(text, entities)
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

    def _reply_to(self, chat: Chat, params: JSONDict) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = maybe_int(reply.get("message_id"))
            tolerant = reply.get("allow_sending_without_reply")
        else:
            message_id = maybe_int(params.get("reply_to_message_id"))
            tolerant = params.get("allow_sending_without_reply")
        if message_id is None:
            return None
        if message_id not in chat.user_message_ids and chat.live_message(message_id) is None:
            if tolerant:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return message_id

    def _store(self, chat: Chat, params: JSONDict, **fields: Any) -> SentMessage:
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
        message_id = maybe_int(params.get("message_id"))
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
        current = (message.text, message.entities, inline_markup(message.reply_markup))
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
        message_id = maybe_int(params.get("message_id"))
        if message_id in chat.user_message_ids:
            chat.user_message_ids.remove(message_id)
            return True
        message = chat.live_message(message_id)
        if message is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        message.deleted = True
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
