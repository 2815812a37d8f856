"""Working days of the fieldwork period: every calendar day except the declared days off."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

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


class Coverage(StrEnum):
    """How much of a digest's day an officer of one time zone has had by the digest's time."""

    WHOLE = "whole"  # the day is over there
    SO_FAR = "so_far"  # the day is under way there: up to the local time
    NOT_YET = "not_yet"  # the day has not begun there


def coverage(day: date, local_now: datetime) -> Coverage:
    """The part of `day` that has passed where the clock shows `local_now` (a digest built
    at one moment covers the day up to a different hour in each time zone)."""
    today = local_now.date()
    if today > day:
        return Coverage.WHOLE
    return Coverage.SO_FAR if today == day else Coverage.NOT_YET


def zone_days(day: date, as_of: datetime, zones: Collection[tzinfo]) -> list[
    tuple[datetime, Coverage]
]:
    """For each zone (ordered from west to east), the digest's moment there and how much of
    `day` it covers."""
    local = sorted((as_of.astimezone(zone) for zone in zones),
                   key=lambda moment: moment.utcoffset() or timedelta(0))
    return [(moment, coverage(day, moment)) for moment in local]
