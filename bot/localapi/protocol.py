"""What goes over the wire: request parameters, recorded calls and error answers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web

JSONDict = dict[str, Any]
FaultHook = Callable[[str, JSONDict], tuple[int, JSONDict] | None]
# Told of every dispatched method call once it is answered: method, params, status, body.
AnswerHook = Callable[[str, JSONDict, int, JSONDict], None]

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
    dropped connection, or a slow or late answer the client gave up on; a late one was
    carried out all the same).
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


def error_description(status: int, retry_after: int) -> str:
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


async def read_params(request: web.Request) -> JSONDict:
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


def maybe_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def brief(params: JSONDict) -> str:
    keys = ("chat_id", "message_id", "text", "caption", "callback_query_id")
    shown = {key: params[key] for key in keys if key in params}
    return repr(shown)[:160]
