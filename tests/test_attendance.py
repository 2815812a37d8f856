"""Attendance: the status of a day, runs of missing days and who hears about them."""

from __future__ import annotations

from datetime import date

import pytest

from bot.rules.attendance import DayStatus, consecutive_missing, day_status, escalation

START = date(2022, 10, 15)


def okt(day: int) -> date:
    return date(2022, 10, day)


@pytest.mark.parametrize(
    ("reported", "izin", "working", "expected"),
    [
        ({okt(17): False}, set(), True, DayStatus.REPORTED),
        ({okt(17): True}, set(), True, DayStatus.LATE),
        ({}, {okt(17)}, True, DayStatus.IZIN),
        ({}, set(), True, DayStatus.MISSING),
        ({}, set(), False, DayStatus.OFF),
        ({}, {okt(17)}, False, DayStatus.OFF),
        ({okt(17): False}, set(), False, DayStatus.REPORTED),  # worked on a day off
        ({okt(17): True}, {okt(17)}, True, DayStatus.LATE),  # a report wins over izin
        ({okt(16): False}, set(), True, DayStatus.MISSING),  # another day's report
    ],
)
def test_day_status(
    reported: dict[date, bool], izin: set[date], working: bool, expected: DayStatus
) -> None:
    assert day_status(okt(17), reported, izin, working) is expected


def test_status_values_are_plain_strings() -> None:
    assert DayStatus.LATE == "late"
    assert [s.value for s in DayStatus] == ["reported", "late", "izin", "missing", "off"]


REPORTED = {okt(15): False, okt(16): False}


def test_missing_run_ends_today() -> None:
    assert consecutive_missing(REPORTED, set(), okt(19), START, set()) == 3  # 17, 18, 19


def test_days_off_are_skipped_without_breaking_the_run() -> None:
    assert consecutive_missing(REPORTED, set(), okt(19), START, {okt(18)}) == 2  # 17, 19
    assert consecutive_missing(REPORTED, {okt(18)}, okt(19), START, {okt(18)}) == 2


def test_izin_breaks_the_run() -> None:
    assert consecutive_missing(REPORTED, {okt(18)}, okt(19), START, set()) == 1


def test_a_late_report_breaks_the_run() -> None:
    reported = {**REPORTED, okt(17): True}
    assert consecutive_missing(reported, set(), okt(19), START, set()) == 2  # 18, 19


def test_no_run_when_today_is_reported() -> None:
    assert consecutive_missing({**REPORTED, okt(19): False}, set(), okt(19), START, set()) == 0


def test_run_starts_with_the_period() -> None:
    assert consecutive_missing({}, set(), okt(16), START, set()) == 2
    assert consecutive_missing({}, set(), okt(14), START, set()) == 0


def test_today_off_continues_the_run_before_it() -> None:
    assert consecutive_missing(REPORTED, set(), okt(18), START, {okt(18)}) == 1  # 17 Oct


@pytest.mark.parametrize(
    ("run", "threshold", "expected"),
    [
        (0, 2, set()),
        (1, 2, set()),
        (2, 2, {"PML"}),
        (3, 2, {"PML", "KOSEKA"}),
        (7, 2, {"PML", "KOSEKA"}),
        (2, 3, set()),
        (3, 3, {"PML"}),
        (4, 3, {"PML", "KOSEKA"}),
    ],
)
def test_escalation(run: int, threshold: int, expected: set[str]) -> None:
    assert escalation(run, threshold) == expected


def test_escalation_default_threshold() -> None:
    assert escalation(2) == {"PML"}
