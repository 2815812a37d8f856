"""One flow at a time in a chat, and a flow that waits too long ends by itself.

Every multi-step flow is a `Flow`: a `ConversationHandler` that takes input only while it is
the chat's current flow, the one that asked the last question. `user_data[CURRENT]` names it,
with the moment of its last step; it is persisted with the rest of `user_data`, so a restart
resumes the same flow.

- Starting a flow (its entry point) while another one waits ends the waiting one: the user is
  told, its draft is dropped (a daily report's draft is kept: `/lapor` continues it). From then
  on the text typed next goes to the question that was asked last.
- A flow left idle for `CONVERSATION_TIMEOUT_MINUTES` is no longer current: it takes no more
  input, and `expire_idle` (a repeating job) tells the user it ended.

The flow that is set aside keeps its python-telegram-bot state, but takes nothing while it is
not current; its entry point starts it afresh (`allow_reentry`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, BaseHandler, ConversationHandler

from bot.context import BotContext
from bot.messaging.delivery import Outgoing
from bot.messaging.replies import say
from bot.messaging.services import SERVICES_KEY, Services

log = logging.getLogger(__name__)

FLOWS_KEY = "flows"  # bot_data: the FlowTracker
EXPIRY_INTERVAL = 60  # seconds between two looks for flows idle too long
CURRENT = "flow"  # user_data: {"name": flow name, "at": ISO moment of its last step}
KEPT = "lapor"  # the flow whose draft survives being set aside or expiring

Callback = Callable[[Update, BotContext], Awaitable[Any]]


def _matches(handler: BaseHandler, update: Update) -> bool:
    check = handler.check_update(update)
    return check is not None and check is not False


class FlowTracker:
    """Which flow is current in each chat, read from the application's `user_data`."""

    def __init__(self, application: Application) -> None:
        self.application = application
        self.drafts: dict[str, str] = {}  # flow name -> its draft key in user_data

    @property
    def services(self) -> Services:
        return self.application.bot_data[SERVICES_KEY]

    def timeout(self) -> timedelta:
        return timedelta(minutes=self.services.settings.conversation_timeout_minutes)

    def current_of(self, user_data: Mapping[str, Any], now: datetime) -> str | None:
        """The current flow, unless it has been idle for longer than the timeout."""
        current = user_data.get(CURRENT)
        if not isinstance(current, dict):
            return None
        if now - datetime.fromisoformat(current["at"]) > self.timeout():
            return None
        return current["name"]

    def current(self, update: Update) -> str | None:
        user = update.effective_user
        if user is None:
            return None
        user_data = self.application.user_data.get(user.id)
        if not user_data:
            return None
        return self.current_of(user_data, self.services.clock.now())

    def end(self, user_data: MutableMapping[str, Any], name: str) -> None:
        """`name` is no longer current; its draft goes, but for a daily report's."""
        current = user_data.get(CURRENT)
        if isinstance(current, dict) and current["name"] == name:
            user_data.pop(CURRENT, None)
        if name != KEPT and name in self.drafts:
            user_data.pop(self.drafts[name], None)

    def label(self, texts: Any, name: str) -> str:
        return texts(f"flow_name_{name}")

    def tracked(self, name: str, callback: Callback, *, entry: bool) -> Callback:
        """`callback` of flow `name`: an entry point first sets aside the flow that waits; the
        flow is current from the moment of the step, until a step ends it."""

        async def step(update: Update, context: BotContext) -> Any:
            user_data = context.user_data
            if entry and user_data is not None:
                waiting = self.current_of(user_data, context.clock.now())
                if waiting is not None and waiting != name:
                    await self._set_aside(update, context, waiting)
            if user_data is not None:  # the user's answer is the flow's last step, from now
                user_data[CURRENT] = {"name": name, "at": context.clock.now().isoformat()}
            state = await callback(update, context)
            if user_data is not None and state == ConversationHandler.END:
                current = user_data.get(CURRENT)
                if isinstance(current, dict) and current["name"] == name:
                    user_data.pop(CURRENT, None)
            return state

        return step

    async def _set_aside(self, update: Update, context: BotContext, waiting: str) -> None:
        assert context.user_data is not None
        self.end(context.user_data, waiting)
        t = context.t
        key = "flow_report_kept" if waiting == KEPT else "flow_set_aside"
        try:
            await say(update, context, t(key, flow=self.label(t, waiting)))
        except TelegramError as exc:  # the new flow goes on; the old one has ended anyway
            log.warning("could not say that a flow was set aside: %s", type(exc).__name__)

    async def expire_idle(self) -> int:
        """Tell every chat whose flow has been idle too long that it ended; how many."""
        services = self.services
        now = services.clock.now()
        expired = []
        for user_id, user_data in self.application.user_data.items():
            current = user_data.get(CURRENT)
            if isinstance(current, dict) and self.current_of(user_data, now) is None:
                self.end(user_data, current["name"])
                expired.append((user_id, current["name"]))
        if expired:
            self.application.mark_data_for_update_persistence(
                user_ids=[user_id for user_id, _ in expired]
            )
        t = services.texts
        minutes = services.settings.conversation_timeout_minutes
        assert services.sender is not None  # set when the application starts
        for user_id, name in expired:  # the shared sender: the bot's pace, 429 waited out
            key = "flow_report_expired" if name == KEPT else "flow_expired"
            await services.sender.send(Outgoing(
                user_id, t(key, flow=self.label(t, name), minutes=f"{minutes:g}")))
        return len(expired)


def tracker_of(application: Application) -> FlowTracker:
    return application.bot_data[FLOWS_KEY]


async def _expiry_job(context: Any) -> None:
    await tracker_of(context.application).expire_idle()


def schedule_flow_expiry(application: Application) -> None:
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        _expiry_job, interval=EXPIRY_INTERVAL, first=EXPIRY_INTERVAL, name="flow-expiry"
    )


class Flow(ConversationHandler):
    """A multi-step flow that takes input only while it is the chat's current flow."""

    def __init__(self, tracker: FlowTracker, *, draft: str, **kwargs: Any) -> None:
        name = kwargs["name"]
        steps = [*kwargs["fallbacks"]]
        for handlers in kwargs["states"].values():
            steps += handlers
        entries = {id(handler) for handler in kwargs["entry_points"]}
        wrapped: set[int] = set()  # one handler may serve several states: wrap it once
        for handler in [*kwargs["entry_points"], *steps]:
            if id(handler) not in wrapped:
                wrapped.add(id(handler))
                handler.callback = tracker.tracked(
                    name, handler.callback, entry=id(handler) in entries
                )
        kwargs.setdefault("allow_reentry", True)
        super().__init__(**kwargs)
        self.tracker = tracker
        tracker.drafts[name] = draft

    def check_update(self, update: object) -> Any:
        if isinstance(update, Update) and self.tracker.current(update) != self.name:
            # Not the flow that asked last: only its entry point may start it again.
            if not any(_matches(handler, update) for handler in self.entry_points):
                return None
        return super().check_update(update)
