"""What every callback can reach: settings, database, clock, form and texts, via `context`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.messaging.services import SERVICES_KEY, Services
from bot.present.texts import Texts
from bot.rules.forms import FormDefinition
from bot.settings import Settings
from db.connection import Database
from db.models import Officer


class NotLetIn(Exception):
    """A callback behind the access gate ran without an officer: it stops, it never guesses."""


class BotContext(CallbackContext[ExtBot[None], dict, dict, dict]):
    """Typed context: `context.db`, `context.clock`, `context.t(...)`, `context.officer`."""

    officer: Officer | None

    def __init__(
        self, application: Application, chat_id: int | None = None, user_id: int | None = None
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.officer = None
        # What several steps of one update read once (a context lives for one update).
        self.per_update: dict[str, Any] = {}

    @property
    def services(self) -> Services:
        return self.application.bot_data[SERVICES_KEY]

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def form(self) -> FormDefinition:
        return self.services.form

    @property
    def t(self) -> Texts:
        return self.services.texts

    @property
    def zone(self) -> ZoneInfo:
        """The time zone of the officer the gate let in (TIMEZONE without one): their day
        and their hours."""
        return self.settings.tz if self.officer is None else self.officer.zone(self.settings.tz)

    def now(self) -> datetime:
        """The moment on the bot's clock, in the officer's zone."""
        return self.clock.now().astimezone(self.zone)

    def today(self) -> date:
        """The officer's today: 00:30 WIT is still yesterday in WIB."""
        return self.now().date()

    def require_officer(self) -> Officer:
        """The officer the gate let in. Not an `assert`: `python -O` would strip it."""
        if self.officer is None:
            raise NotLetIn("no officer on the context")
        return self.officer
