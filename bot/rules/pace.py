"""Progress against the ideal line, and when an officer will finish at the current pace."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from bot.rules.calendar import ONE_DAY, previous_working_days, working_days

PACE_WINDOW = 3
MIN_PACE_DAYS = 5
"""Working days of the period, up to the day, before a pace is called slow: before them a
forecast says little and "laju lambat" would not be true."""


def ideal_done(
    target: int, day: date, period_start: date, period_end: date, days_off: Collection[date]
) -> float:
    """Where a steady worker would be at the end of `day`: the target spread over working days."""
    if day < period_start:
        return 0.0
    total = len(working_days(period_start, period_end, days_off))
    if day >= period_end or total == 0:
        return float(target)
    return target * len(working_days(period_start, day, days_off)) / total


def ideal_line(
    target: int, period_start: date, period_end: date, days_off: Collection[date], last: date
) -> list[float]:
    """`ideal_done` of every day from `period_start` to `last`, counting the working days once."""
    total = len(working_days(period_start, period_end, days_off))
    line: list[float] = []
    worked = 0  # working days from period_start to the day
    day = period_start
    while day <= last:
        worked += day not in days_off
        line.append(float(target) if day >= period_end or total == 0
                    else target * worked / total)
        day += ONE_DAY
    return line


@dataclass(frozen=True, slots=True)
class Forecast:
    """Households done so far and the outlook at the recent pace (one per PPL each evening)."""

    done: int
    target: int
    remaining: int
    """Never negative; `done` may exceed `target`."""
    pace: float
    """Households per working day over the last few working days (missing days count as 0)."""
    finish_date: date | None
    """None when nothing is left to do but the pace is 0."""
    needed_per_day: int | None
    """What each working day left after today must bring, in whole households (rounded up:
    a day's share is done, not almost); None when no working day is left."""
    at_risk: bool
    """The recent pace does not finish by the end of the period."""
    finished: bool
    worked_days: int = 0
    """Working days of the period from its start up to the day."""

    @property
    def slow(self) -> bool:
        """At risk, with at least `MIN_PACE_DAYS` working days behind: a slow pace ("laju
        lambat") that a digest may say."""
        return self.at_risk and self.worked_days >= MIN_PACE_DAYS

    @property
    def pace_share(self) -> float:
        """The recent pace as a share of the pace still needed: below 1 is too slow. Worst
        first is ascending order; a finished outlook is `inf`, and nothing left to do with
        no working day left (or no pace at all) is 0."""
        if self.finished or self.remaining == 0:
            return float("inf")
        if not self.needed_per_day:
            return 0.0
        return self.pace / self.needed_per_day


@dataclass(frozen=True, slots=True)
class PaceCalendar:
    """What every forecast of one day shares: the pace window and the working days counted."""

    today: date
    period_start: date
    period_end: date
    days_off: frozenset[date]
    recent: tuple[date, ...]
    """The working days of the pace window, oldest first."""
    days_left: int
    """Working days of the period after today."""
    worked: int
    """Working days of the period from its start up to today."""

    @classmethod
    def of(
        cls,
        today: date,
        period_start: date,
        period_end: date,
        days_off: Collection[date],
        window: int = PACE_WINDOW,
    ) -> PaceCalendar:
        return cls(
            today=today, period_start=period_start, period_end=period_end,
            days_off=frozenset(days_off),
            recent=tuple(previous_working_days(today, window, period_start, days_off)),
            days_left=len(working_days(max(today + ONE_DAY, period_start), period_end,
                                       days_off)),
            worked=len(working_days(period_start, min(today, period_end), days_off)),
        )


def forecast(
    daily: Mapping[date, int],
    target: int,
    today: date,
    period_start: date,
    period_end: date,
    days_off: Collection[date],
    window: int = PACE_WINDOW,
) -> Forecast:
    """The outlook of one officer (or any group) from households reported per day.

    Days after `today` in `daily` are ignored. When finished, `finish_date` is the last day
    up to today that added households (today if there is none). Otherwise it is the working
    day on which the remaining households are done at the pace; days off are skipped, and
    beyond `period_end` every calendar day counts.
    """
    calendar = PaceCalendar.of(today, period_start, period_end, days_off, window)
    return forecast_totals(
        done=sum(count for day, count in daily.items() if day <= today),
        target=target,
        recent_total=sum(daily.get(day, 0) for day in calendar.recent),
        last_positive=max((d for d, c in daily.items() if d <= today and c > 0), default=None),
        calendar=calendar,
    )


def forecast_totals(
    *, done: int, target: int, recent_total: int, last_positive: date | None,
    calendar: PaceCalendar,
) -> Forecast:
    """`forecast` from totals: the households up to today, those of the pace window's days and
    the last day up to today that added some (None: none)."""
    remaining = max(target - done, 0)
    recent = calendar.recent
    pace = recent_total / len(recent) if recent else 0.0

    finish_date: date | None
    if remaining == 0:
        finish_date = last_positive or calendar.today
    elif recent_total <= 0:
        finish_date = None
    else:
        days_needed = -(-remaining * len(recent) // recent_total)  # ceil(remaining / pace)
        finish_date = _working_day_after(calendar.today, days_needed, calendar.period_end,
                                         calendar.days_off)

    days_left = calendar.days_left
    return Forecast(
        done=done,
        target=target,
        remaining=remaining,
        pace=pace,
        finish_date=finish_date,
        needed_per_day=-(-remaining // days_left) if days_left else None,  # ceil
        at_risk=remaining > 0 and (finish_date is None or finish_date > calendar.period_end),
        finished=remaining == 0,
        worked_days=calendar.worked,
    )


def _working_day_after(
    day: date, count: int, period_end: date, days_off: Collection[date]
) -> date:
    """The `count`-th working day after `day`; after `period_end` no day is off."""
    if not any(day < off <= period_end for off in days_off):
        return day + count * ONE_DAY  # no day off ahead: every day counts
    while count > 0:
        day += ONE_DAY
        if day > period_end or day not in days_off:
            count -= 1
    return day
