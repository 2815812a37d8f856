"""The clock is injected everywhere: nothing deep in the logic reads the wall clock."""

from __future__ import annotations

import time as monotonic_time
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

NO_OFFSET = timedelta(0)


class Clock(Protocol):
    tz: ZoneInfo

    def now(self) -> datetime: ...

    def today(self) -> date: ...

    def offset(self) -> timedelta:
        """How far this clock is ahead of the real time of the world around the bot: of
        Telegram's message dates and of the JobQueue, which runs on the real clock."""
        ...


def from_real(clock: Clock, moment: datetime) -> datetime:
    """A real moment (a Telegram message date) on `clock`, in its time zone."""
    return (moment + clock.offset()).astimezone(clock.tz)


def to_real(clock: Clock, moment: datetime) -> datetime:
    """The real moment at which `clock` shows `moment` (to schedule a job on the real clock)."""
    return (moment - clock.offset()).astimezone(clock.tz)


def real_time_of_day(clock: Clock, at: time, tz: ZoneInfo) -> time:
    """The real time of day (in `tz`) at which `clock` shows `at` in `tz`: when a daily job
    on the real clock must run. Rounded up to the second (the JobQueue's resolution), so the
    job never runs before `at` on `clock`."""
    if not clock.offset():
        return at.replace(tzinfo=tz)
    moment = to_real(clock, datetime.combine(clock.now().astimezone(tz).date(), at, tz))
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment.astimezone(tz).timetz()


class SystemClock:
    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def today(self) -> date:
        return self.now().date()

    def offset(self) -> timedelta:
        return NO_OFFSET


class RehearsalClock:
    """Wall-clock time shifted to start at a chosen moment, then running at the real pace.

    For rehearsals before (or after) the real fieldwork, when officers practise on the
    calendar of the period, and for tests of the real bot process.
    """

    def __init__(
        self,
        start: datetime,
        monotonic: Callable[[], float] = monotonic_time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("RehearsalClock needs an aware datetime")
        self.tz = start.tzinfo  # type: ignore[assignment]
        self._start = start
        self._monotonic = monotonic
        self._t0 = monotonic()
        self._offset = start - wall()  # both run at the real pace from here on

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._monotonic() - self._t0)

    def today(self) -> date:
        return self.now().date()

    def offset(self) -> timedelta:
        return self._offset


def clock_for(tz: ZoneInfo, rehearsal_start: datetime | None) -> Clock:
    """The clock of a running bot: the wall clock, or a rehearsal clock when one is set."""
    if rehearsal_start is None:
        return SystemClock(tz)
    return RehearsalClock(rehearsal_start.astimezone(tz) if rehearsal_start.tzinfo
                          else rehearsal_start.replace(tzinfo=tz))


class ManualClock:
    """A clock that only moves when told to (tests and the demo).

    Its world is the one it drives: the local Bot API given the same clock dates messages by
    it, so it is the real time there (no offset)."""

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

    def offset(self) -> timedelta:
        return NO_OFFSET
