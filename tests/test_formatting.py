"""Times in texts carry their zone: WIB, WITA or WIT from the deployment's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.present import formatting as fmt

MOMENT = datetime(2022, 10, 17, 10, 5, tzinfo=UTC)  # 17.05 WIB


@pytest.mark.parametrize(("zone", "shown"), [
    ("Asia/Jakarta", "17.05 WIB"),
    ("Asia/Makassar", "18.05 WITA"),
    ("Asia/Jayapura", "19.05 WIT"),
])
def test_time_of_day_carries_the_zone(zone: str, shown: str) -> None:
    assert fmt.time_of_day(MOMENT, ZoneInfo(zone), "id") == shown


def test_time_of_day_in_english_and_in_the_moments_own_zone() -> None:
    assert fmt.time_of_day(MOMENT, ZoneInfo("Asia/Jakarta"), "en") == "17:05 WIB"
    local = MOMENT.astimezone(ZoneInfo("Asia/Makassar"))
    assert fmt.time_of_day(local) == "18.05 WITA"
