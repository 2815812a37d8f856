"""The update queue: getUpdates long polling, webhook delivery, injected updates and
callback queries.

With a webhook set (``setWebhook``), updates are POSTed to its URL one at a time, in order,
as JSON, with the ``X-Telegram-Bot-Api-Secret-Token`` header when a secret was given. An
update counts as delivered on a 2xx answer; any other answer, a refused connection or a
timeout is retried after a pause (``webhook_retry_seconds``, doubled each time up to
``webhook_retry_max_seconds``), as Telegram does. Every attempt is recorded in
:attr:`UpdatesMixin.webhook_deliveries`; getWebhookInfo tells the pending count and the
last error. getUpdates is refused (409) while a webhook is set, and never hands out an
update whose delivery is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from bot.localapi.chats import SentMessage
from bot.localapi.faults import FaultsMixin
from bot.localapi.protocol import ApiError, JSONDict, maybe_int

if TYPE_CHECKING:
    from bot.localapi.sim import SimUser

# Update types a bot receives when it never asked for a specific list.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to deliver an update to the webhook: the bot's HTTP status, or 0 with
    ``error`` when there was no answer (connection refused, timeout)."""

    update_id: int
    status: int
    error: str | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return 200 <= self.status <= 299


class UpdatesMixin(FaultsMixin):
    """Updates waiting for getUpdates (a fault plan may deliver a batch twice)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.callback_answers: dict[str, JSONDict] = {}
        self._updates: list[JSONDict] = []
        self._last_update_id = 0
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._duplicate_next = False
        self._redelivery: list[JSONDict] = []
        self._webhook_url = ""
        self._webhook_secret = ""
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_error: tuple[int, str] | None = None
        self._in_flight: set[int] = set()
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.webhook_retry_seconds = 0.05
        self.webhook_retry_max_seconds = 1.0
        self.webhook_timeout_seconds = 10.0
        self._callback_messages: dict[str, SentMessage] = {}
        self._last_callback_id = 0
        # Seconds a getUpdates answer waits once an update is there, gathering those that
        # come meanwhile, as the round trip to Telegram's servers makes them come in batches
        # (the benchmarks set it; 0: answered at once, one update at a time if they trickle).
        self.updates_round_trip = 0.0

    @property
    def webhook_url(self) -> str:
        """The URL set with setWebhook; empty when updates are fetched with getUpdates."""
        return self._webhook_url

    @property
    def pending_updates(self) -> int:
        """Updates not yet delivered (or confirmed with a getUpdates offset)."""
        return len(self._updates)

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

    def _inject_message(
        self, chat_id: int, sender: SimUser, content: JSONDict, date: datetime | None = None
    ) -> int:
        chat = self._chats[chat_id]
        message_id = chat.take_message_id()
        chat.user_message_ids.add(message_id)
        message = {
            "message_id": message_id,
            "from": sender.to_api(),
            "chat": chat.payload,
            "date": int((date or self._now()).timestamp()),
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

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self._webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = maybe_int(params.get("offset")) or 0
        limit = min(max(maybe_int(params.get("limit")) or 100, 1), 100)
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
        gathered = False
        while not self._closing:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = [u for u in self._updates
                     if self._is_allowed(u) and u["update_id"] not in self._in_flight][:limit]
            remaining = deadline - time.monotonic()
            if batch and self.updates_round_trip and not gathered:
                gathered = True
                await asyncio.sleep(self.updates_round_trip)
                continue
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
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApiError(400, "Bad Request: bad webhook: an HTTPS URL must be provided")
        secret = str(params.get("secret_token") or "")
        if len(secret) > 256 or not set(secret) <= _SECRET_CHARS:
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if "allowed_updates" in params:
            self._allowed_updates = frozenset(params["allowed_updates"] or ()) or None
        self._webhook_url, self._webhook_secret = url, secret
        self._webhook_error = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_to_webhook())
        self._notify()
        return True

    async def _delete_webhook(self, params: JSONDict) -> bool:
        self._webhook_url = self._webhook_secret = ""
        self._webhook_error = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._notify()
        return True

    async def _get_webhook_info(self, _params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook_url:
            info["max_connections"] = 1
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
            if self._webhook_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _deliver_to_webhook(self) -> None:
        """Deliver pending updates to the webhook until it is deleted or the server stops."""
        delay = self.webhook_retry_seconds
        async with aiohttp.ClientSession() as session:
            while self._webhook_url and not self._closing:
                update = next((u for u in self._updates if self._is_allowed(u)), None)
                if update is None:
                    await self._wait_changed(1.0)
                    continue
                delivery = await self._post_update(session, update)
                self.webhook_deliveries.append(delivery)
                if delivery.ok:
                    self._updates = [
                        u for u in self._updates if u["update_id"] != delivery.update_id]
                    delay = self.webhook_retry_seconds
                    self._notify()
                    continue
                self._webhook_error = (int(self._now().timestamp()), delivery.error or "")
                self._notify()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.webhook_retry_max_seconds)

    async def _post_update(
        self, session: aiohttp.ClientSession, update: JSONDict
    ) -> WebhookDelivery:
        update_id = int(update["update_id"])
        headers = {"Content-Type": "application/json"}
        if self._webhook_secret:
            headers[SECRET_HEADER] = self._webhook_secret
        self._in_flight.add(update_id)
        try:
            async with session.post(
                self._webhook_url, data=json.dumps(update), headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout_seconds),
            ) as answer:
                await answer.read()
                status = answer.status
                error = None if 200 <= status <= 299 else (
                    f"Wrong response from the webhook: {status} {answer.reason or ''}".rstrip())
        except (aiohttp.ClientError, TimeoutError) as exc:
            status, error = 0, f"Connection failed: {type(exc).__name__}"
        finally:
            self._in_flight.discard(update_id)
        return WebhookDelivery(update_id, status, error)

    async def _stop_webhook_delivery(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callback_messages or query_id in self.callback_answers:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.callback_answers[query_id] = params
        return True
