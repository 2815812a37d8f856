"""Charts: real PNG images of a sensible size, also for empty data."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from bot.present.charts import (
    CumulativeChart,
    ProgressBars,
    cumulative_chart,
    progress_bars,
    render,
    short_date,
)
from bot.rules.pace import ideal_done

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START, END = date(2022, 10, 15), date(2022, 11, 14)
PERIOD = [START + timedelta(days=k) for k in range(31)]


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which always comes first."""
    assert data.startswith(PNG_SIGNATURE)
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def assert_telegram_photo(width: int, height: int) -> None:
    """Telegram photos: width + height at most 10000, sides at most 20 times apart."""
    assert width + height <= 10_000
    assert max(width, height) <= 20 * min(width, height)


@pytest.mark.parametrize(
    ("day", "label"),
    [(date(2022, 10, 17), "17 Okt"), (date(2022, 11, 1), "1 Nov"), (date(2022, 5, 9), "9 Mei"),
     (date(2022, 8, 17), "17 Agu"), (date(2022, 12, 25), "25 Des")],
)
def test_short_date(day: date, label: str) -> None:
    assert short_date(day) == label


def test_cumulative_chart() -> None:
    cumulative = [12 * (k + 1) for k in range(10)]  # realisation up to 24 Oct
    ideal = [ideal_done(300, day, START, END, ()) for day in PERIOD]
    data = cumulative_chart("Kecamatan Tebingtinggi", PERIOD, cumulative, ideal, END)
    width, height = png_size(data)
    assert (width, height) == (800, 450)
    assert_telegram_photo(width, height)


def test_cumulative_chart_without_data() -> None:
    width, height = png_size(cumulative_chart("Belum ada laporan", [], [], [], END))
    assert (width, height) == (800, 450)


def test_cumulative_chart_refuses_more_values_than_days() -> None:
    with pytest.raises(ValueError):
        cumulative_chart("x", PERIOD[:2], [1, 2, 3], [], END)


def test_progress_bars_grow_with_the_count() -> None:
    small = png_size(progress_bars("Per kecamatan", [f"Kecamatan {i}" for i in range(9)],
                                   [10.0 * i for i in range(9)]))
    labels = [f"Desa {i}" for i in range(70)]
    large = png_size(progress_bars("Per desa", labels, [1.9 * i for i in range(70)]))
    assert small[0] == large[0] == 800
    assert 300 <= small[1] < large[1]
    assert large[1] >= 70 * 20  # at least 20 pixels per bar
    assert_telegram_photo(*small)
    assert_telegram_photo(*large)


def test_progress_bars_without_data() -> None:
    width, height = png_size(progress_bars("Belum ada data", [], []))
    assert width == 800 and height > 0


def test_progress_bars_over_target() -> None:
    assert png_size(progress_bars("Tim", ["PML 1", "PML 2"], [250.0, 0.0]))[0] == 800


def test_progress_bars_refuse_mismatched_lengths() -> None:
    with pytest.raises(ValueError):
        progress_bars("x", ["a", "b"], [1.0])


def test_specs_draw_what_they_describe() -> None:
    ideal = [ideal_done(300, day, START, END, ()) for day in PERIOD]
    spec = CumulativeChart("Tebing Tinggi", tuple(PERIOD), (12, 24, 30), tuple(ideal), END)
    assert spec.render() == cumulative_chart("Tebing Tinggi", PERIOD, [12, 24, 30], ideal, END)
    bars = ProgressBars("Per tim", ("Tim A", "Tim B"), (40.0, 120.0))
    assert bars.render() == progress_bars("Per tim", ["Tim A", "Tim B"], [40.0, 120.0])
    assert png_size(bars.render())[0] == 800


async def test_render_draws_in_a_worker_thread() -> None:
    threads: list[int] = []

    class Spec:
        def render(self) -> bytes:
            threads.append(threading.get_ident())
            return b"png"

    assert await render(Spec()) == b"png"  # type: ignore[arg-type]
    assert len(threads) == 1 and threads[0] != threading.get_ident()
