"""The clock is injected everywhere: nothing deep in the logic reads the wall clock."""

from __future__ import annotations

import time
from collections.abc import Callable
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


class RehearsalClock:
    """Wall-clock time shifted to start at a chosen moment, then running at the real pace.

    For rehearsals before (or after) the real fieldwork, when officers practise on the
    calendar of the period, and for tests of the real bot process.
    """

    def __init__(self, start: datetime, monotonic: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError("RehearsalClock needs an aware datetime")
        self.tz = start.tzinfo  # type: ignore[assignment]
        self._start = start
        self._monotonic = monotonic
        self._t0 = monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._monotonic() - self._t0)

    def today(self) -> date:
        return self.now().date()


def clock_for(tz: ZoneInfo, rehearsal_start: datetime | None) -> Clock:
    """The clock of a running bot: the wall clock, or a rehearsal clock when one is set."""
    if rehearsal_start is None:
        return SystemClock(tz)
    return RehearsalClock(rehearsal_start.astimezone(tz) if rehearsal_start.tzinfo
                          else rehearsal_start.replace(tzinfo=tz))


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
