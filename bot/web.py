"""Serving the bot: long polling, or a webhook that Telegram calls, and `/healthz` and
`/metrics` for the operator.

With `WEBHOOK_URL` set, the bot serves one aiohttp listener on `WEBHOOK_LISTEN` (TLS is the
reverse proxy's job) with the webhook at the path of `WEBHOOK_URL`, `/healthz` and
`/metrics`, and feeds each update Telegram POSTs into the application's `update_queue`, as
python-telegram-bot's `customwebhookbot` example does. A request without the right
`X-Telegram-Bot-Api-Secret-Token` is refused (403) before its body is read; a body too large,
not JSON or not an update gets 400; neither ever reaches a handler. Without `WEBHOOK_URL` the
bot polls, as before, and serves `/healthz` and `/metrics` on `HEALTH_LISTEN` when set.

Switching modes loses nothing: the webhook is set without dropping pending updates, and
polling starts by deleting the webhook without dropping them either. Stopping (SIGTERM or
SIGINT) stops accepting first (the listener, or the poller), then handles every update
already received, writes the conversation state and exits 0. The webhook stays set, so
Telegram keeps the updates that arrive while the bot is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application, services_of
from bot.health import health_report
from bot.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # an update is a few kB; Telegram's largest are far below this
PROBE_SECONDS = 60.0  # webhook mode: how often the Bot API is asked (getWebhookInfo)


class Listener:
    """One aiohttp server: the webhook (when `webhook_path` is given), /healthz, /metrics."""

    def __init__(
        self,
        app: Application,
        host: str,
        port: int,
        *,
        mode: str,
        webhook_path: str | None = None,
        secret: str | None = None,
        webhook_info: dict[str, Any] | None = None,
    ) -> None:
        self._app = app
        self._host, self._port = host, port
        self._mode = mode
        self._secret = (secret or "").encode()
        self.webhook_info = webhook_info
        self._runner: web.AppRunner | None = None
        self._web = web.Application(client_max_size=MAX_BODY)
        self._web.router.add_get("/healthz", self._healthz)
        self._web.router.add_get("/metrics", self._metrics)
        if webhook_path is not None:
            self._web.router.add_post(webhook_path, self._webhook)

    async def start(self) -> None:
        self._runner = web.AppRunner(self._web, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        log.info("listening on %s:%d (%s)", self._host, self.port,
                 "webhook, /healthz, /metrics" if self._mode == "webhook"
                 else "/healthz, /metrics")

    async def stop(self) -> None:
        """Stop accepting, let the requests in hand finish, close."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def port(self) -> int:
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError("the listener is not started")
        return int(self._runner.addresses[0][1])

    async def _webhook(self, request: web.Request) -> web.Response:
        metrics = services_of(self._app).metrics.webhook
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            metrics.labels("forbidden").inc()
            log.warning("webhook: a request without the right secret token was refused")
            return web.Response(status=403, text="forbidden")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            metrics.labels("bad_request").inc()
            log.warning("webhook: a body larger than %d bytes was refused", MAX_BODY)
            return web.Response(status=400, text="body too large")
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self._app.bot)
        except Exception as exc:  # never a stack trace, never the body (it may hold a text)
            metrics.labels("bad_request").inc()
            log.warning("webhook: a malformed update (%d bytes) was refused: %s",
                        len(body), type(exc).__name__)
            return web.Response(status=400, text="malformed update")
        await self._app.update_queue.put(update)
        metrics.labels("accepted").inc()
        return web.Response(status=200)

    async def _report(self) -> tuple[bool, dict[str, Any]]:
        healthy, report = await health_report(self._app, mode=self._mode)
        if self.webhook_info:  # Telegram's view, once the first getWebhookInfo answered
            report["webhook"] = self.webhook_info
        return healthy, report

    async def _healthz(self, _request: web.Request) -> web.Response:
        healthy, report = await self._report()
        return web.json_response(report, status=200 if healthy else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        await self._report()  # refreshes the gauges read from the database
        body = generate_latest(services_of(self._app).metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


class BotRunner:
    """Starts and stops a built application in the mode its settings say."""

    def __init__(self, app: Application, settings: Settings, *, poll_timeout: float = 10) -> None:
        self.app = app
        self.settings = settings
        self.poll_timeout = poll_timeout
        self.listener: Listener | None = None
        self.webhook_info: dict[str, Any] = {}
        self._probe: asyncio.Task[None] | None = None
        self._started = False

    @property
    def mode(self) -> str:
        return "webhook" if self.settings.webhook_mode else "polling"

    async def start(self) -> None:
        app, settings = self.app, self.settings
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        await app.start()
        self._started = True
        address = settings.listen_address()
        if address is not None:
            secret = settings.webhook_secret
            self.listener = Listener(
                app, *address, mode=self.mode,
                webhook_path=settings.webhook_path if settings.webhook_mode else None,
                secret=secret.get_secret_value() if secret is not None else None,
                webhook_info=self.webhook_info if settings.webhook_mode else None,
            )
            await self.listener.start()
        if settings.webhook_mode:
            assert settings.webhook_url is not None and settings.webhook_secret is not None
            await app.bot.set_webhook(
                settings.webhook_url,
                secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
            log.info("webhook set: Telegram delivers updates to WEBHOOK_URL")
            self._probe = asyncio.create_task(self._probe_api(), name="bot-api-probe")
        else:
            assert app.updater is not None
            await app.updater.start_polling(
                poll_interval=0, timeout=self.poll_timeout, drop_pending_updates=False,
                allowed_updates=ALLOWED_UPDATES,
            )

    async def _probe_api(self) -> None:
        """Webhook mode: a quiet bot makes no Bot API call, so ask one now and then
        (getWebhookInfo, which also tells Telegram's last delivery error)."""
        interval = min(PROBE_SECONDS, self.settings.health_stale_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                info = await self.app.bot.get_webhook_info()
            except TelegramError as exc:
                log.warning("the Bot API did not answer getWebhookInfo: %s", exc.message)
                continue
            self.webhook_info.clear()
            self.webhook_info.update(
                pending_update_count=info.pending_update_count,
                last_error_message=info.last_error_message,
                last_error_date=(info.last_error_date.isoformat()
                                 if info.last_error_date else None),
            )

    async def stop(self) -> None:
        """Stop accepting, handle what was received, write the state, shut down; safe to call
        after a start that failed half-way."""
        app = self.app
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()  # handles every update already in the queue, flushes the state
        if self._started:
            self._started = False
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


async def serve(settings: Settings) -> None:
    """`python -m bot run`: the bot until SIGTERM or SIGINT."""
    app = build_application(settings, settle=True)
    runner = BotRunner(app, settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await runner.start()
        log.info("running in %s mode; SIGTERM or Ctrl-C stops", runner.mode)
        await stopping.wait()
        log.info("stopping: no new updates; handling those received")
    finally:
        await runner.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
