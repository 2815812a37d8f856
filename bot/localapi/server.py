"""The HTTP server: routes, request dispatch, the control endpoints of manual runs, and
:class:`LocalBotApi`, which puts the parts together."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.localapi.chats import Chat
from bot.localapi.faults import Dropped, answer_late
from bot.localapi.messages import MessagesMixin
from bot.localapi.profile import ProfileMixin
from bot.localapi.protocol import (
    AnswerHook,
    ApiError,
    JSONDict,
    RecordedRequest,
    brief,
    maybe_int,
    read_params,
)
from bot.localapi.sim import SimGroup, SimUser
from bot.localapi.updates import UpdatesMixin

_LOG = logging.getLogger(__name__)

Handler = Callable[[JSONDict], Awaitable[Any]]


class LocalBotApi(ProfileMixin, MessagesMixin, UpdatesMixin):
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
        super().__init__(
            token, bot_id=bot_id, bot_username=bot_username, first_name=first_name, clock=clock
        )
        # For measurements (bench/): told of each method call as it is answered, faults
        # included, at the moment the answer is ready (a dropped connection is not told).
        self.answer_hook: AnswerHook | None = None
        self._port = port
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None
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
        await self._stop_webhook_delivery()
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

    # ----------------------------------------------------------------- simulated chats

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
            self._chats[user_id] = Chat(chat)
            self._users[user_id] = sim
        return self._users[user_id]

    def group(self, chat_id: int, title: str = "Grup Petugas") -> SimGroup:
        """A group chat with the bot as member (a supergroup for -100... ids)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if chat_id not in self._groups:
            kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
            self._chats[chat_id] = Chat({"id": chat_id, "type": kind, "title": title})
            self._groups[chat_id] = SimGroup(self, chat_id, title)
        return self._groups[chat_id]

    # ----------------------------------------------------------------- HTTP plumbing

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        entry = self._handlers.get(name.lower())
        record = RecordedRequest(entry[0] if entry else name, {})
        try:
            status, body = await self._answer(request, entry, record)
        except Dropped:
            _LOG.info("%s %s -> connection dropped", record.method, brief(record.params))
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
        _LOG.info("%s %s -> %s", record.method, brief(record.params), status)
        self._notify()
        return web.json_response(body, status=status)

    async def _answer(
        self, request: web.Request, entry: tuple[str, Handler] | None, record: RecordedRequest
    ) -> tuple[int, JSONDict]:
        try:
            record.params = await read_params(request)
        finally:
            self.requests.append(record)
            self._notify()
        if request.match_info["token"] != self.token:
            raise ApiError(401, "Unauthorized")
        if entry is None:
            raise ApiError(404, "Not Found")
        late = await self._planned_fault(request, record)
        answer = await self._dispatch(entry[0], entry[1], record.params)
        await answer_late(request, late)  # carried out (delivered), answered late if at all
        return answer

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
        self._check_chat_refused(method, params)
        fault = self._take_fault(method, params)
        if fault is not None:
            raise fault
        blocked = maybe_int(params.get("chat_id")) in self.blocked_users
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
        chat_id = maybe_int(request.match_info["chat_id"])
        messages = self.messages_to(chat_id) if chat_id is not None else []
        return web.json_response({"ok": True, "result": [m.summary() for m in messages]})
