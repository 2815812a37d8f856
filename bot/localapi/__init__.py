"""A local stand-in for the Telegram Bot API, served on 127.0.0.1 with aiohttp.

The real python-telegram-bot ``Application``/``Bot`` talks to it over HTTP
(``base_url=api.base_url``, ``base_file_url=api.base_file_url``), so the whole
stack (request encoding, error mapping, polling) runs as in production. The
answers follow the real API's JSON shapes and error texts, simulated users
inject updates, and faults can be injected: one-off answers (``fail_next``, also a
429 of one chat, held for its retry_after like Telegram's; ``fault_hook``), blocked users,
Telegram's rate limits, and a seeded random mode (``set_faults(FaultPlan(...))``:
429/500/502 answers, slow answers, late answers of requests carried out, dropped
connections, getUpdates batches delivered twice). Used by the end-to-end tests, the offline
demo and the benchmarks; it also runs standalone:
``python -m bot.localapi --port 8081``.

It depends on the standard library, aiohttp and :mod:`bot.clock` only. Modules:

- ``server``: :class:`LocalBotApi` (the parts put together), the HTTP routes, request
  dispatch and the ``/control`` endpoints of manual runs.
- ``state``: the state every part shares (chats, users, files, recorded requests) and
  waiting for it to change.
- ``chats``: a chat's stored messages (:class:`SentMessage`), keyboards and files.
- ``messages``: sending, editing and deleting messages; getChat and getFile.
- ``entities``: Telegram's HTML parse mode (:func:`parse_html`) and text trimming.
- ``updates``: the update queue, getUpdates long polling, webhook delivery (retried until
  the bot answers 2xx), callback queries.
- ``faults``: :class:`FaultPlan`, one-off faults and Telegram's rate limits.
- ``profile``: getMe and the bot's commands.
- ``sim``: simulated users and groups (:class:`SimUser`, :class:`SimGroup`).
- ``protocol``: request parameters, :class:`RecordedRequest` and :class:`ApiError`.
- ``__main__``: the standalone run.
"""

from bot.localapi.chats import InlineButton, ReplyButton, SentMessage
from bot.localapi.entities import EntityParseError, parse_html
from bot.localapi.faults import DEFAULT_FAULT_METHODS, FaultPlan
from bot.localapi.messages import MAX_CAPTION_LENGTH, MAX_TEXT_LENGTH, NOT_MODIFIED
from bot.localapi.protocol import ApiError, RecordedRequest, UploadedFile
from bot.localapi.server import LocalBotApi
from bot.localapi.sim import SimGroup, SimUser
from bot.localapi.updates import WebhookDelivery

__all__ = [
    "DEFAULT_FAULT_METHODS",
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
    "WebhookDelivery",
    "parse_html",
]
