"""Working days, the ideal line and the pace forecast, against hand-computed numbers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.rules.calendar import is_working_day, previous_working_days, working_days
from bot.rules.pace import MIN_PACE_DAYS, forecast, ideal_done, ideal_line

START, END = date(2022, 10, 15), date(2022, 11, 14)  # 31 days
SUNDAYS = {date(2022, 10, 16), date(2022, 10, 23), date(2022, 10, 30), date(2022, 11, 6),
           date(2022, 11, 13)}  # 26 working days left


def okt(day: int) -> date:
    return date(2022, 10, day)


def nov(day: int) -> date:
    return date(2022, 11, day)


# --- calendar -------------------------------------------------------------------------------


def test_working_days_inclusive_minus_days_off() -> None:
    assert len(working_days(START, END, ())) == 31
    assert len(working_days(START, END, SUNDAYS)) == 26
    assert working_days(okt(15), okt(18), {okt(16)}) == [okt(15), okt(17), okt(18)]
    assert working_days(okt(18), okt(17), ()) == []


def test_is_working_day() -> None:
    assert is_working_day(okt(15), START, END, SUNDAYS)
    assert is_working_day(END, START, END, SUNDAYS)
    assert not is_working_day(okt(16), START, END, SUNDAYS)
    assert not is_working_day(okt(14), START, END, SUNDAYS)
    assert not is_working_day(nov(15), START, END, SUNDAYS)


def test_previous_working_days() -> None:
    assert previous_working_days(okt(18), 3, START, ()) == [okt(16), okt(17), okt(18)]
    assert previous_working_days(okt(18), 3, START, SUNDAYS) == [okt(15), okt(17), okt(18)]
    assert previous_working_days(okt(16), 3, START, SUNDAYS) == [okt(15)]  # day off, start
    assert previous_working_days(okt(14), 3, START, ()) == []


# --- ideal line -----------------------------------------------------------------------------


def test_ideal_done() -> None:
    assert ideal_done(100, okt(14), START, END, ()) == 0
    assert ideal_done(100, okt(15), START, END, ()) == pytest.approx(100 / 31)
    assert ideal_done(100, okt(17), START, END, ()) == pytest.approx(300 / 31)
    assert ideal_done(100, END, START, END, ()) == 100
    assert ideal_done(100, nov(20), START, END, ()) == 100


def test_ideal_done_is_flat_on_days_off() -> None:
    assert ideal_done(260, okt(15), START, END, SUNDAYS) == pytest.approx(10)
    assert ideal_done(260, okt(16), START, END, SUNDAYS) == pytest.approx(10)
    assert ideal_done(260, okt(17), START, END, SUNDAYS) == pytest.approx(20)


EVERY_DAY = {START + timedelta(days=k) for k in range(31)}


@pytest.mark.parametrize("days_off", [(), SUNDAYS, {START}, EVERY_DAY])
def test_ideal_line_is_ideal_done_of_every_day(days_off) -> None:
    line = ideal_line(397, START, END, days_off, nov(20))
    days = [START + timedelta(days=k) for k in range(37)]
    assert line == [ideal_done(397, day, START, END, days_off) for day in days]  # exactly
    assert ideal_line(397, START, END, days_off, okt(14)) == []


# --- forecast -------------------------------------------------------------------------------


def test_on_track() -> None:
    result = forecast({okt(15): 10, okt(16): 12, okt(17): 14}, 100, okt(17), START, END, ())
    assert (result.done, result.remaining, result.pace) == (36, 64, 12.0)
    assert result.finish_date == okt(23)  # ceil(64 / 12) = 6 working days after 17 Oct
    assert result.needed_per_day == 3  # 64 / 28 = 2.3, 18 Oct – 14 Nov: rounded up
    assert not result.at_risk
    assert not result.finished


def test_slow_officer_is_at_risk() -> None:
    result = forecast({okt(15): 5, okt(16): 5, okt(17): 5}, 300, okt(17), START, END, ())
    assert (result.done, result.remaining, result.pace) == (15, 285, 5.0)
    assert result.finish_date == date(2022, 12, 13)  # 57 days after 17 Oct
    assert result.needed_per_day == 11  # 285 / 28 = 10.2
    assert result.at_risk


def test_zero_pace_has_no_finish_date() -> None:
    result = forecast({okt(15): 10}, 100, okt(20), START, END, ())
    assert result.pace == 0
    assert result.finish_date is None
    assert result.needed_per_day == 4  # 90 / 25 = 3.6, 21 Oct – 14 Nov
    assert result.at_risk


def test_finished_on_the_last_day_that_added_households() -> None:
    daily = {okt(15): 10, okt(16): 12, okt(17): 14, okt(18): 0}
    result = forecast(daily, 30, okt(19), START, END, ())
    assert result.finished
    assert (result.done, result.remaining) == (36, 0)
    assert result.finish_date == okt(17)
    assert result.needed_per_day == 0
    assert not result.at_risk


def test_finished_without_reports_is_today() -> None:
    result = forecast({}, 0, okt(19), START, END, ())
    assert result.finished
    assert result.finish_date == okt(19)


def test_day_off_in_the_window_reaches_back_one_more_day() -> None:
    daily = {okt(15): 9, okt(17): 12, okt(18): 15}
    result = forecast(daily, 100, okt(18), START, END, {okt(16)})
    assert result.pace == 12.0  # 15, 17 and 18 Oct; 16 Oct would have given 9
    assert result.finish_date == okt(24)  # 19..24 Oct
    assert result.needed_per_day == 3  # 64 / 27 = 2.4, 19 Oct – 14 Nov


def test_days_off_after_today_push_the_finish() -> None:
    daily = {okt(15): 10, okt(16): 12, okt(17): 14}
    result = forecast(daily, 100, okt(17), START, END, {okt(19), okt(20)})
    assert result.finish_date == okt(25)  # 18, 21, 22, 23, 24, 25 Oct
    assert result.needed_per_day == 3  # 64 / 26 = 2.5


def test_beyond_the_period_every_calendar_day_counts() -> None:
    daily = {okt(15): 34, nov(8): 2, nov(9): 2, nov(10): 2}
    result = forecast(daily, 100, nov(10), START, END, {nov(13), nov(20)})
    assert (result.done, result.remaining, result.pace) == (40, 60, 2.0)
    # 30 days: 11, 12, 14 Nov in the period, then 27 calendar days from 15 Nov
    assert result.finish_date == date(2022, 12, 11)
    assert result.needed_per_day == 20  # 11, 12, 14 Nov
    assert result.at_risk


def test_days_needed_are_counted_exactly() -> None:
    # pace 13/3: 65 households need exactly 15 days (a float division would give 16)
    daily = {okt(15): 4, okt(16): 4, okt(17): 5}
    result = forecast(daily, 78, okt(17), START, END, ())
    assert result.finish_date == nov(1)


def test_first_day_uses_the_days_there_are() -> None:
    result = forecast({okt(15): 8}, 100, okt(15), START, END, ())
    assert result.pace == 8.0
    assert result.finish_date == okt(27)  # ceil(92 / 8) = 12 days after 15 Oct


def test_reports_after_today_are_ignored() -> None:
    result = forecast({okt(15): 10, okt(18): 50}, 100, okt(17), START, END, ())
    assert result.done == 10
    assert result.pace == pytest.approx(10 / 3)


def test_before_the_period() -> None:
    result = forecast({}, 62, okt(14), START, END, ())
    assert (result.done, result.pace, result.finish_date) == (0, 0, None)
    assert result.needed_per_day == 2  # all 31 days are still ahead


def test_after_the_period_no_day_is_left() -> None:
    result = forecast({okt(15): 50}, 100, nov(15), START, END, ())
    assert result.needed_per_day is None
    assert result.at_risk


def test_households_needed_per_day_are_whole_and_rounded_up() -> None:
    daily = {okt(15): 10, okt(16): 12, okt(17): 14}
    assert forecast(daily, 36 + 56, okt(17), START, END, ()).needed_per_day == 2  # 56 / 28
    assert forecast(daily, 36 + 57, okt(17), START, END, ()).needed_per_day == 3  # 2.04
    assert forecast({}, 45_767, okt(17), START, END, SUNDAYS).needed_per_day == 1_907  # 1906.96


def test_finishing_on_the_last_day_of_the_period_is_not_at_risk() -> None:
    daily = {okt(15): 10, okt(16): 10, okt(17): 10}  # 10 a day; 28 days left after the 17th
    on_time = forecast(daily, 30 + 28 * 10, okt(17), START, END, ())
    assert on_time.finish_date == END
    assert not on_time.at_risk
    one_more = forecast(daily, 30 + 28 * 10 + 1, okt(17), START, END, ())
    assert one_more.finish_date == END + timedelta(days=1)
    assert one_more.at_risk


def test_over_target_never_has_negative_remaining() -> None:
    result = forecast({okt(15): 120}, 100, okt(15), START, END, ())
    assert result.remaining == 0
    assert result.finished


def test_a_slow_pace_is_said_only_from_five_working_days() -> None:
    assert MIN_PACE_DAYS == 5
    daily = {okt(15): 5, okt(16): 5, okt(17): 5, okt(18): 5, okt(19): 5}
    fourth = forecast(daily, 300, okt(18), START, END, ())
    fifth = forecast(daily, 300, okt(19), START, END, ())
    assert (fourth.worked_days, fifth.worked_days) == (4, 5)
    assert fourth.at_risk and not fourth.slow
    assert fifth.at_risk and fifth.slow
    # Days off are not working days: with 16 Okt off, the 19th is the fourth.
    assert not forecast(daily, 300, okt(19), START, END, [okt(16)]).slow
    # Never slow when on track.
    assert not forecast(daily, 100, okt(19), START, END, ()).slow


def test_pace_share_orders_worst_first() -> None:
    stalled = forecast({okt(15): 10}, 100, okt(20), START, END, ())
    slow = forecast({okt(18): 3, okt(19): 3, okt(20): 3}, 300, okt(20), START, END, ())
    fast = forecast({okt(18): 30, okt(19): 30, okt(20): 30}, 300, okt(20), START, END, ())
    done = forecast({okt(15): 100}, 100, okt(20), START, END, ())
    assert stalled.pace_share == 0.0
    assert slow.pace_share == pytest.approx(3 / 12)  # 291 over 25 days: 12 a day
    assert sorted([done, fast, stalled, slow], key=lambda fc: fc.pace_share) == [
        stalled, slow, fast, done]
    assert done.pace_share == float("inf")
