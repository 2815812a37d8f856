"""The clock is injected everywhere: nothing deep in the logic reads the wall clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    tz: ZoneInfo

    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def today(self) -> date:
        return self.now().date()


class ManualClock:
    """A clock that only moves when told to (tests and the demo)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self.tz = start.tzinfo  # type: ignore[assignment]
        self._now = start

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(self.tz)

    def advance(self, delta: timedelta) -> None:
        self._now = self._now + delta
