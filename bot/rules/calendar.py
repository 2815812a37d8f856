"""Working days of the fieldwork period: every calendar day except the declared days off."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


def working_days(start: date, end: date, days_off: Collection[date]) -> list[date]:
    """The days from `start` to `end` inclusive, minus the days off (empty if end < start)."""
    days: list[date] = []
    day = start
    while day <= end:
        if day not in days_off:
            days.append(day)
        day += ONE_DAY
    return days


def is_working_day(
    day: date, period_start: date, period_end: date, days_off: Collection[date]
) -> bool:
    """Inside the period and not a day off."""
    return period_start <= day <= period_end and day not in days_off


def previous_working_days(
    day: date, n: int, period_start: date, days_off: Collection[date]
) -> list[date]:
    """The last `n` working days up to and including `day`, oldest first.

    Fewer are returned when the period starts later; `day` itself is left out when it is off.
    """
    found: list[date] = []
    while len(found) < n and day >= period_start:
        if day not in days_off:
            found.append(day)
        day -= ONE_DAY
    found.reverse()
    return found
