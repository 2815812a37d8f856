"""Who reported on a day, who is missing, and when a missing officer is escalated."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from enum import StrEnum

from bot.rules.calendar import ONE_DAY

ESCALATION_THRESHOLD = 2


class DayStatus(StrEnum):
    REPORTED = "reported"
    LATE = "late"  # reported only by a catch-up report
    IZIN = "izin"  # a day off was declared
    MISSING = "missing"
    OFF = "off"  # not a working day


def day_status(
    day: date, reported_days: Mapping[date, bool], izin_days: Collection[date], working: bool
) -> DayStatus:
    """The status of one officer on `day`.

    `reported_days` maps a day to whether its report was late only (a day with both a late
    and an on-time report maps to False). A report wins over everything, even on a day off.
    """
    if day in reported_days:
        return DayStatus.LATE if reported_days[day] else DayStatus.REPORTED
    if not working:
        return DayStatus.OFF
    if day in izin_days:
        return DayStatus.IZIN
    return DayStatus.MISSING


def consecutive_missing(
    reported_days: Mapping[date, bool],
    izin_days: Collection[date],
    today: date,
    period_start: date,
    days_off: Collection[date],
) -> int:
    """Working days in a row, ending today, without a report (late reports count) or izin.

    Days off are skipped: they neither count nor break the run, whatever happened on them.
    """
    run = 0
    day = today
    while day >= period_start:
        if day not in days_off:
            if day in reported_days or day in izin_days:
                break
            run += 1
        day -= ONE_DAY
    return run


def escalation(missing_run: int, threshold: int = ESCALATION_THRESHOLD) -> set[str]:
    """Who is told about a missing officer: the PML from `threshold` days, then the KOSEKA too."""
    if missing_run >= threshold + 1:
        return {"PML", "KOSEKA"}
    if missing_run >= threshold:
        return {"PML"}
    return set()
