"""Data-quality flags of one officer, shown next to the counts in the digests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.rules.calendar import ONE_DAY
from bot.rules.report import is_implausible

# The flags' thresholds: households over the target by this share, today's households this many
# times the usual day, and days in a row of the same values (or of zeros).
OVER_TARGET_MARGIN = 0.10
SPIKE_FACTOR = 3.0
RUN_LENGTH = 3


@dataclass(frozen=True)
class DayReport:
    """One officer's report of a day, all SLS summed; `late` marks a catch-up report."""

    day: date
    values: dict[str, int]
    progress: int
    late: bool = False


@dataclass(frozen=True)
class Flag:
    code: str
    detail: dict[str, object] = field(default_factory=dict)


def quality_flags(
    days: Sequence[DayReport],
    target: int,
    today: date,
    *,
    over_target_margin: float = OVER_TARGET_MARGIN,
    spike_factor: float = SPIKE_FACTOR,
    run_length: int = RUN_LENGTH,
) -> list[Flag]:
    """The flags, in the order over_target, spike, repeated, zeros, late.

    - over_target: households up to today exceed the target by more than the margin
      (detail: done, target).
    - spike: today's households exceed `spike_factor` times the median of the other
      reported days, once there are at least 3 of them (detail: today, usual); the median
      is taken as at least 1 household, as in the check at report time.
    - repeated: the same non-zero values on each of the last `run_length` calendar days
      ending today (detail: values, days = the whole run).
    - zeros: 0 households on each of the last `run_length` calendar days ending today
      (detail: days = the whole run).
    - late: catch-up reports for days before today (detail: count).

    Reports after `today` are ignored; several reports of one day are summed.
    """
    progress: dict[date, int] = {}
    values: dict[date, Counter[str]] = {}
    late = 0
    for report in days:
        if report.day > today:
            continue
        progress[report.day] = progress.get(report.day, 0) + report.progress
        values.setdefault(report.day, Counter()).update(report.values)
        late += report.late and report.day < today
    return day_flags(progress, values.get, late, target, today,
                     over_target_margin=over_target_margin, spike_factor=spike_factor,
                     run_length=run_length)


def day_flags(
    progress: Mapping[date, int],
    values_of: Callable[[date], Counter[str] | None],
    late: int,
    target: int,
    today: date,
    *,
    over_target_margin: float = OVER_TARGET_MARGIN,
    spike_factor: float = SPIKE_FACTOR,
    run_length: int = RUN_LENGTH,
) -> list[Flag]:
    """The flags of `quality_flags` from one officer's reports already summed per day.

    `progress` holds the households of each reported day up to today; `values_of(day)` the
    day's values summed (None for a day without a report), asked only for today and the days
    of a run, so the caller may sum them on demand; `late` counts the catch-up reports for
    days before today.
    """
    flags: list[Flag] = []

    done = sum(progress.values())
    if done > target * (1 + over_target_margin):
        flags.append(Flag("over_target", {"done": done, "target": target}))

    today_value = progress.get(today, 0)
    others = [count for day, count in progress.items() if day != today]
    usual = is_implausible(today_value, others, spike_factor)
    if usual is not None:
        flags.append(Flag("spike", {"today": today_value, "usual": usual}))

    today_values = values_of(today)
    if today_values and any(today_values.values()):
        # Today is in the run by definition: only the days before it are summed and compared.
        run = 1 + _run(today - ONE_DAY, lambda day: values_of(day) == today_values)
        if run >= run_length:
            flags.append(Flag("repeated", {"values": dict(today_values), "days": run}))

    run = _run(today, lambda day: progress.get(day) == 0)
    if run >= run_length:
        flags.append(Flag("zeros", {"days": run}))

    if late:
        flags.append(Flag("late", {"count": late}))
    return flags


def _run(today: date, holds: Callable[[date], bool]) -> int:
    """How many calendar days in a row, ending today, satisfy `holds`."""
    run = 0
    day = today
    while holds(day):
        run += 1
        day -= ONE_DAY
    return run
