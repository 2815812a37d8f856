"""What the bot's own work needs, in one object: settings, database, clock, form, texts, the
update log, the sender, the outbox and the metrics. Callbacks reach it as `context.services`
(`bot.context`); jobs and background tasks get it from `application.bot_data`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.clock import Clock
from bot.messaging.delivery import Outgoing, Sender
from bot.metrics import Metrics
from bot.present.texts import Texts
from bot.rules.forms import FormDefinition
from bot.settings import Settings
from db.bots import Scope
from db.connection import Database
from db.updates import UpdateLog

SERVICES_KEY = "services"


class Announcements(Protocol):
    """The announcement outbox (`bot.messaging.outbox.Outbox`), as the others see it."""

    def wake(self, broadcast_id: int | None = None) -> None: ...

    async def start(self) -> list[int]: ...

    async def stop(self) -> None: ...

    async def hand_over(self, officer_id: str, kind: str, items: list[Outgoing]) -> None:
        """Leave messages for an officer another bot serves, in the shared outbox."""


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    form: FormDefinition
    texts: Texts
    update_log: UpdateLog
    sender: Sender | None = None  # needs the bot: set when the application starts
    outbox: Announcements | None = None  # announcements; started with the application
    metrics: Metrics = field(default_factory=Metrics)  # counts for /metrics and /healthz
    # The officers this bot serves (BOT_SCOPE; its name is known once the bot has started).
    scope: Scope = field(default_factory=Scope)
