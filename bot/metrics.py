"""What the running bot counts, for `/metrics` (Prometheus) and `/healthz`.

One `Metrics` per application, each with its own `CollectorRegistry`, so that several bots in
one process (the test suite) never share a count. Labels are kinds, methods and results, never
a chat, a user, a name or a text.

* Bot API calls: `InstrumentedRequest` wraps the bot's `BaseRequest` (python-telegram-bot's
  documented extension point) and counts every call by method and result (`ok`, `429`, `4xx`,
  `5xx`, `timeout`, `network`); it also remembers the last success and the last error.
* Messages sent: a successful `send...` call counts under the kind of work that sent it, a
  context variable set with `sending(kind)` around reminders, digests, alerts and
  announcements; anything else answers an update (`reply`).
* Updates handled, by kind, with the time the handlers took (`handling(update)`).

Ages are measured on the injected `monotonic` (tests move it by hand).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from telegram import Update
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

REPLY = "reply"
MESSAGE_KINDS = (REPLY, "reminder", "digest", "alert", "announcement")
API_RESULTS = ("ok", "429", "4xx", "5xx", "timeout", "network")

_kind: contextvars.ContextVar[str] = contextvars.ContextVar("message_kind", default=REPLY)


@contextmanager
def sending(kind: str) -> Iterator[None]:
    """Messages sent inside (and by tasks started inside) count as `kind`."""
    if kind not in MESSAGE_KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    token = _kind.set(kind)
    try:
        yield
    finally:
        _kind.reset(token)


def update_kind(update: object) -> str:
    """`message`, `callback_query`, ...: the field of the update that is set."""
    if isinstance(update, Update):
        for name in Update.ALL_TYPES:
            if getattr(update, name, None) is not None:
                return name
        return "unknown"
    return "other"


def api_result(status: int) -> str:
    if 200 <= status <= 299:
        return "ok"
    if status == 429:
        return "429"
    return "4xx" if status < 500 else "5xx"


@dataclass(frozen=True)
class ApiError:
    """The last Bot API call that did not succeed (no parameters: they may hold a text)."""

    method: str
    result: str
    description: str
    at: float  # monotonic


class Metrics:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.monotonic = monotonic
        self.started = monotonic()
        self.last_api_success: float | None = None
        self.last_api_error: ApiError | None = None
        self.last_update: float | None = None
        self.updates_handled = 0
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter(
            "regsosek_updates_handled", "Updates handled, by kind", ["kind"], registry=r)
        self.latency = Histogram(
            "regsosek_update_handling_seconds", "Time the handlers took for one update",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=r)
        self.api_calls = Counter(
            "regsosek_bot_api_calls", "Bot API calls, by method and result",
            ["method", "result"], registry=r)
        self.messages = Counter(
            "regsosek_messages_sent", "Messages sent, by kind", ["kind"], registry=r)
        self.reports = Counter("regsosek_reports_stored", "Daily reports stored", registry=r)
        self.db_errors = Counter(
            "regsosek_database_errors", "Database operations that failed", registry=r)
        self.webhook = Counter(
            "regsosek_webhook_requests", "Webhook requests, by answer "
            "(accepted, forbidden, bad_request)", ["result"], registry=r)
        self.outbox_backlog = Gauge(
            "regsosek_outbox_backlog", "Announcement messages waiting to be sent", registry=r)
        self.healthy = Gauge(
            "regsosek_healthy", "1 when /healthz answers 200, else 0", registry=r)
        self.api_success_age = Gauge(
            "regsosek_bot_api_success_age_seconds",
            "Seconds since the last successful Bot API call (since start-up before the first)",
            registry=r)
        for kind in MESSAGE_KINDS:
            self.messages.labels(kind)

    # ----------------------------------------------------------------- recording

    def api_call(self, method: str, result: str, description: str = "") -> None:
        self.api_calls.labels(method, result).inc()
        if result == "ok":
            self.last_api_success = self.monotonic()
            if _is_message(method):
                self.messages.labels(_kind.get()).inc()
        else:
            self.last_api_error = ApiError(method, result, description[:200], self.monotonic())

    @contextmanager
    def handling(self, update: object) -> Iterator[None]:
        """Around the handlers of one update: its kind, how long they took, when it was."""
        start = self.monotonic()
        try:
            yield
        finally:
            end = self.monotonic()
            self.latency.observe(max(end - start, 0.0))
            self.updates.labels(update_kind(update)).inc()
            self.updates_handled += 1
            self.last_update = end

    def report_stored(self) -> None:
        self.reports.inc()

    def db_error(self, _exc: BaseException | None = None) -> None:
        self.db_errors.inc()

    # ----------------------------------------------------------------- reading

    def age(self, moment: float | None) -> float | None:
        return None if moment is None else max(self.monotonic() - moment, 0.0)

    def api_success_age_seconds(self) -> float:
        """Since the last successful call, or since start-up when none succeeded yet."""
        return self.age(self.last_api_success if self.last_api_success is not None
                        else self.started) or 0.0


def _is_message(method: str) -> bool:
    """A call that puts a new message in a chat (not sendChatAction)."""
    name = method.lower()
    return (name.startswith("send") and name != "sendchataction") or name in (
        "copymessage", "forwardmessage")


class InstrumentedRequest(BaseRequest):
    """A `BaseRequest` that hands every call to another one and counts it in `metrics`.

    The method is the last part of the URL; a file download is counted as `download`. The
    token (`token`, part of every URL) never reaches a description."""

    def __init__(self, inner: BaseRequest, metrics: Metrics, *, token: str = "") -> None:
        self._inner = inner
        self._metrics = metrics
        self._token = token

    @property
    def inner(self) -> BaseRequest:
        """The request that does the work (the bot's: `bot.messaging.transport`)."""
        return self._inner

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        **timeouts: Any,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1] if method == "POST" else "download"

        def clean(text: str) -> str:
            return text.replace(self._token, "<token>") if self._token else text

        try:
            status, payload = await self._inner.do_request(url, method, request_data, **timeouts)
        except TimedOut as exc:
            self._metrics.api_call(api_method, "timeout", clean(exc.message))
            raise
        except NetworkError as exc:
            self._metrics.api_call(api_method, "network", clean(exc.message))
            raise
        except Exception as exc:
            self._metrics.api_call(api_method, "network", type(exc).__name__)
            raise
        result = api_result(status)
        description = "" if result == "ok" else clean(_describe(payload))
        self._metrics.api_call(api_method, result, description)
        return status, payload


def _describe(payload: bytes) -> str:
    """Telegram's description of an error answer ("Bad Request: chat not found")."""
    try:
        answer = BaseRequest.parse_json_payload(payload)
    except Exception:
        return "unreadable answer"
    return str(answer.get("description") or "")
