"""The update queue: getUpdates long polling, webhook settings, injected updates and
callback queries."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from bot.localapi.chats import SentMessage
from bot.localapi.faults import FaultsMixin
from bot.localapi.protocol import ApiError, JSONDict, maybe_int

if TYPE_CHECKING:
    from bot.localapi.sim import SimUser

# Update types a bot receives when it never asked for a specific list.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


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
        self._callback_messages: dict[str, SentMessage] = {}
        self._last_callback_id = 0
        # Seconds a getUpdates answer waits once an update is there, gathering those that
        # come meanwhile, as the round trip to Telegram's servers makes them come in batches
        # (the benchmarks set it; 0: answered at once, one update at a time if they trickle).
        self.updates_round_trip = 0.0

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
            batch = [u for u in self._updates if self._is_allowed(u)][:limit]
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

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callback_messages or query_id in self.callback_answers:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.callback_answers[query_id] = params
        return True
