"""The clocks: a rehearsal clock runs at the real pace from a chosen moment; real moments
(Telegram's message dates, the JobQueue's times) are mapped onto it and back."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bot.clock import ManualClock, RehearsalClock, SystemClock, from_real, real_time_of_day, to_real
from tests.support import WIB, at

REAL = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # 16:00 WIB, the moment the rehearsal starts


def test_a_rehearsal_clock_runs_at_the_real_pace_from_its_start() -> None:
    ticks = iter([100.0, 100.0, 161.5])
    clock = RehearsalClock(at(17, 15), monotonic=lambda: next(ticks), wall=lambda: REAL)
    assert clock.offset() == at(17, 15) - REAL
    assert clock.now() == at(17, 15)
    assert clock.now() == at(17, 15) + timedelta(seconds=61.5)


def test_real_moments_on_a_rehearsal_clock_and_back() -> None:
    clock = RehearsalClock(at(17, 15), monotonic=lambda: 0.0, wall=lambda: REAL)
    sent = REAL + timedelta(minutes=5)  # a message date, in UTC as Telegram gives it
    assert from_real(clock, sent) == at(17, 15, 5)
    assert from_real(clock, sent).tzinfo == WIB
    assert to_real(clock, at(17, 15, 5)) == sent


def test_a_daily_time_on_a_rehearsal_clock_is_another_real_time_of_day() -> None:
    start = at(17, 15) + timedelta(seconds=0.4)
    clock = RehearsalClock(start, monotonic=lambda: 0.0, wall=lambda: REAL)
    # 16:00 on the clock is 59 min 59.6 s after its start, 16:59:59.6 WIB in reality; the
    # JobQueue counts whole seconds, so 17:00:00: never before 16:00 on the clock.
    assert real_time_of_day(clock, time(16, 0), WIB) == time(17, 0, tzinfo=WIB)
    assert real_time_of_day(clock, time(20, 30), WIB) == time(21, 30, tzinfo=WIB)


def test_the_system_and_a_manual_clock_have_no_offset() -> None:
    for clock in (SystemClock(WIB), ManualClock(at(17))):
        assert clock.offset() == timedelta(0)
        assert real_time_of_day(clock, time(16, 0), WIB) == time(16, 0, tzinfo=WIB)
        assert from_real(clock, REAL) == REAL.astimezone(WIB)
