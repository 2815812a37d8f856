"""Rules of the daily report, as plain functions: parsing, limits, dates, plausibility."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.rules.forms import FormDefinition, FormField

NOTE_MAX_CHARS = 500
MIN_HISTORY_DAYS = 3


@dataclass(frozen=True)
class Problem:
    """A refusal: the text key and its arguments."""

    key: str
    args: dict[str, object] = field(default_factory=dict)


def parse_count(text: str, spec: FormField) -> int | Problem:
    """A whole number within the field's limits, or the problem with it."""
    cleaned = text.strip().replace(".", "")
    if not re.fullmatch(r"[-+−]?[0-9]{1,9}", cleaned):
        return Problem("not_a_number")
    value = int(cleaned.replace("−", "-"))
    if value < 0:
        return Problem("negative")
    if value < spec.min:
        return Problem("below_min", {"min": spec.min})
    if value > spec.max:
        return Problem("over_max", {"max": spec.max})
    return value


def check_rules(form: FormDefinition, values: dict[str, int], language: str) -> Problem | None:
    """The first cross-field rule the values break: both fields by their unit, both numbers
    (either one may be the wrong one)."""
    rule = form.broken_rule(values)
    if rule is None:
        return None
    big, small = rule.greater_or_equal
    return Problem(
        "rule_broken",
        {
            "big": form.field(big).unit(language),
            "big_value": values[big],
            "small": form.field(small).unit(language),
            "small_value": values[small],
        },
    )


_DATE_FORMATS = (
    re.compile(r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})(?:[/.-](?P<y>\d{2}|\d{4}))?$", re.ASCII),
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$", re.ASCII),
)


def parse_date(text: str, today: date) -> date | None:
    """'17/10', '17-10-2022', '17.10.22' or '2022-10-17'; the year defaults to today's."""
    for pattern in _DATE_FORMATS:
        match = pattern.match(text.strip())
        if match:
            year = match["y"] or str(today.year)
            if len(year) == 2:
                year = f"20{year}"
            try:
                return date(int(year), int(match["m"]), int(match["d"]))
            except ValueError:
                return None
    return None


def check_report_date(
    value: date, today: date, period_start: date, period_end: date
) -> Problem | None:
    """A report date must lie in the fieldwork period and not in the future."""
    if value > today:
        return Problem("date_in_future", {"day": value})
    if not period_start <= value <= period_end:
        return Problem("date_outside_period", {"start": period_start, "end": period_end})
    return None


def offered_dates(today: date, period_start: date, period_end: date) -> list[date]:
    """The one-tap dates: today and yesterday, where they lie in the period."""
    return [
        d for d in (today, today - timedelta(days=1)) if period_start <= d <= min(today, period_end)
    ]


def usual_day(history: list[int]) -> float | None:
    """The officer's usual day (median of reported days), once there are enough of them."""
    if len(history) < MIN_HISTORY_DAYS:
        return None
    return statistics.median(history)


def is_implausible(value: int, history: list[int], factor: float) -> float | None:
    """The usual day when `value` exceeds `factor` times it, else None."""
    usual = usual_day(history)
    if usual is None or value == 0:
        return None
    return usual if value > factor * max(usual, 1) else None
