"""Data-quality flags: each one found, and its near miss left alone."""

from __future__ import annotations

from datetime import date

from bot.rules.quality import DayReport, Flag, quality_flags

TODAY = date(2022, 10, 20)


def okt(day: int) -> date:
    return date(2022, 10, day)


def report(
    day: int, households: int, *, late: bool = False, persons: int | None = None
) -> DayReport:
    values = {"households": households, "persons": 4 * households if persons is None else persons}
    return DayReport(day=okt(day), values=values, progress=households, late=late)


def codes(flags: list[Flag]) -> list[str]:
    return [flag.code for flag in flags]


def flag(flags: list[Flag], code: str) -> Flag:
    return next(f for f in flags if f.code == code)


def test_no_flags_for_an_ordinary_week() -> None:
    days = [report(d, h) for d, h in [(15, 10), (16, 12), (17, 8), (18, 11), (19, 9), (20, 13)]]
    assert quality_flags(days, 300, TODAY) == []


def test_over_target() -> None:
    flags = quality_flags([report(19, 60), report(20, 51)], 100, TODAY)
    assert flag(flags, "over_target").detail == {"done": 111, "target": 100}


def test_at_the_margin_is_not_over_target() -> None:
    assert "over_target" not in codes(quality_flags([report(19, 60), report(20, 50)], 100, TODAY))


def test_spike() -> None:
    days = [report(16, 10), report(17, 12), report(18, 8), report(20, 31)]
    assert flag(quality_flags(days, 300, TODAY), "spike").detail == {"today": 31, "usual": 10}


def test_three_times_the_median_is_no_spike() -> None:
    days = [report(16, 10), report(17, 12), report(18, 8), report(20, 30)]
    assert "spike" not in codes(quality_flags(days, 300, TODAY))


def test_spike_needs_three_other_days() -> None:
    days = [report(17, 5), report(18, 5), report(20, 40)]
    assert "spike" not in codes(quality_flags(days, 300, TODAY))


def test_spike_looks_at_today_only() -> None:
    days = [report(15, 10), report(16, 10), report(17, 10), report(19, 50), report(20, 10)]
    assert "spike" not in codes(quality_flags(days, 300, TODAY))


def test_repeated_values() -> None:
    days = [report(17, 7), report(18, 10), report(19, 10), report(20, 10)]
    detail = flag(quality_flags(days, 300, TODAY), "repeated").detail
    assert detail == {"values": {"households": 10, "persons": 40}, "days": 3}


def test_repeated_run_is_measured_in_full() -> None:
    days = [report(d, 10) for d in range(15, 21)]
    assert flag(quality_flags(days, 300, TODAY), "repeated").detail["days"] == 6


def test_repeated_near_misses() -> None:
    two_days = [report(19, 10), report(20, 10)]
    with_gap = [report(17, 10), report(18, 10), report(20, 10)]
    one_value_differs = [report(18, 10), report(19, 10, persons=41), report(20, 10)]
    not_today = [report(17, 10), report(18, 10), report(19, 10)]
    for days in (two_days, with_gap, one_value_differs, not_today):
        assert "repeated" not in codes(quality_flags(days, 300, TODAY))


def test_zeros() -> None:
    days = [report(17, 5), report(18, 0), report(19, 0), report(20, 0)]
    flags = quality_flags(days, 300, TODAY)
    assert flag(flags, "zeros").detail == {"days": 3}
    assert "repeated" not in codes(flags)  # all-zero values are not "repeated"


def test_zeros_near_misses() -> None:
    two_days = [report(18, 5), report(19, 0), report(20, 0)]
    with_gap = [report(17, 0), report(18, 0), report(20, 0)]  # 19 Oct not reported
    for days in (two_days, with_gap):
        assert "zeros" not in codes(quality_flags(days, 300, TODAY))


def test_late_reports_for_earlier_days() -> None:
    days = [
        report(17, 8, late=True),
        report(18, 9, late=True),
        report(19, 10),
        report(20, 7, late=True),  # for today: not counted
    ]
    assert flag(quality_flags(days, 300, TODAY), "late").detail == {"count": 2}


def test_a_late_report_for_today_is_not_counted() -> None:
    assert quality_flags([report(20, 7, late=True)], 300, TODAY) == []


def test_reports_after_today_are_ignored() -> None:
    days = [report(19, 50), report(20, 50), report(21, 50, late=True)]
    assert quality_flags(days, 100, TODAY) == []


def test_several_reports_of_a_day_are_summed() -> None:
    days = [report(16, 5), report(16, 5), report(17, 10), report(18, 10), report(20, 31)]
    assert flag(quality_flags(days, 300, TODAY), "spike").detail == {"today": 31, "usual": 10}


def test_flags_come_in_a_fixed_order() -> None:
    days = [report(15, 30, late=True), report(16, 30), report(17, 30), report(18, 30),
            report(19, 0), report(20, 0)]
    flags = quality_flags(days, 100, TODAY, run_length=2)
    assert codes(flags) == ["over_target", "zeros", "late"]


def test_thresholds_are_parameters() -> None:
    days = [report(16, 10), report(17, 10), report(18, 10), report(19, 10), report(20, 25)]
    flags = quality_flags(days, 60, TODAY, over_target_margin=0.0, spike_factor=2.0)
    assert codes(flags) == ["over_target", "spike"]
