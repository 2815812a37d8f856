"""PNG charts for the digests, drawn without pyplot (no global figure state), one at a time.

Building a digest only describes its charts (`CumulativeChart`, `ProgressBars`: small frozen
values); the PNG is drawn when the chart is sent, with `render()`, off the event loop. A chart
costs 60-80 ms of CPU: for 10,000 officers the 610 charts of an evening take about 40 s, the
texts of all the digests about a second.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from bot.present.formatting import number
from bot.rules.calendar import ONE_DAY

DPI = 100
MONTHS_ID = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
REALISED_COLOR = "#1f6fb2"
IDEAL_COLOR = "#9a9a9a"
DEADLINE_COLOR = "#c0392b"
DONE_COLOR = "#2e8b57"


def short_date(day: date) -> str:
    """'17 Okt'."""
    return f"{day.day} {MONTHS_ID[day.month - 1]}"


@dataclass(frozen=True, slots=True)
class CumulativeChart:
    """What `cumulative_chart` draws; `render()` draws it."""

    title: str
    days: tuple[date, ...]
    cumulative: tuple[int, ...]
    ideal: tuple[float, ...]
    deadline: date

    def render(self) -> bytes:
        return cumulative_chart(self.title, self.days, self.cumulative, self.ideal, self.deadline)


@dataclass(frozen=True, slots=True)
class ProgressBars:
    """What `progress_bars` draws; `render()` draws it."""

    title: str
    labels: tuple[str, ...]
    percents: tuple[float, ...]

    def render(self) -> bytes:
        return progress_bars(self.title, self.labels, self.percents)


ChartSpec = CumulativeChart | ProgressBars


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart to send as a photo: its caption (HTML) and what to draw."""

    caption: str
    spec: ChartSpec


# matplotlib is not thread-safe: one chart is drawn at a time, whichever thread draws it.
_DRAWING = threading.Lock()


def _draw(spec: ChartSpec) -> bytes:
    with _DRAWING:
        return spec.render()


async def render(spec: ChartSpec) -> bytes:
    """The chart's PNG, drawn in a worker thread so that the event loop keeps answering.

    A thread, not a process pool: a chart is 60-80 ms of mostly Python work, so the loop
    still gets the interpreter every few milliseconds while one is drawn, and the charts of
    a digest go out one message a second per chat anyway. A pool of processes would add a
    start-up (matplotlib imported again in each), a shutdown to own, pickling and care with
    forking beside the database thread, for a second core that delivery does not need.
    """
    return await asyncio.to_thread(_draw, spec)


def cumulative_chart(
    title: str,
    days: Sequence[date],
    cumulative: Sequence[int],
    ideal: Sequence[float],
    deadline: date,
) -> bytes:
    """Households done so far against the ideal straight line, with the deadline marked.

    `cumulative` and `ideal` follow `days` and may be shorter than it (e.g. the realisation
    up to today, the ideal up to the deadline).
    """
    if len(cumulative) > len(days) or len(ideal) > len(days):
        raise ValueError("more values than days")
    # Fixed margins: a layout engine would cost half the drawing time of every chart.
    figure = Figure(figsize=(8, 4.5), dpi=DPI)
    figure.subplots_adjust(left=0.1, right=0.98, top=0.92, bottom=0.08)
    axes = _axes(figure, title)
    axes.plot(
        days[: len(cumulative)],
        cumulative,
        color=REALISED_COLOR,
        marker="o",
        markersize=3,
        linewidth=2,
        label="Realisasi",
        zorder=3,
    )
    axes.plot(days[: len(ideal)], ideal, color=IDEAL_COLOR, linestyle="--", label="Garis ideal")
    axes.axvline(deadline, color=DEADLINE_COLOR, linewidth=1)
    axes.annotate(
        f"Batas {short_date(deadline)}",
        (deadline, 1),
        xycoords=("data", "axes fraction"),
        xytext=(-4, -4),
        textcoords="offset points",
        ha="right",
        va="top",
        color=DEADLINE_COLOR,
        fontsize=8,
    )
    first = min(days, default=deadline)
    last = max(max(days, default=deadline), deadline)
    ticks = _date_ticks(first, last)
    axes.set_xticks(ticks, [short_date(day) for day in ticks])
    axes.set_xlim(first - ONE_DAY, last + ONE_DAY)
    axes.set_ylim(0, max([1, *cumulative, *ideal]) * 1.05)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda y, _: number(round(y))))
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    return _png(figure)


def progress_bars(title: str, labels: Sequence[str], percents: Sequence[float]) -> bytes:
    """Horizontal progress bars (percent of target), first label on top, 100% marked.

    The figure grows with the number of bars so that 70 labels stay readable.
    """
    if len(labels) != len(percents):
        raise ValueError("labels and percents differ in length")
    height = 1.2 + 0.25 * max(len(labels), 4)
    figure = Figure(figsize=(8, height), dpi=DPI)
    # Fixed margins sized from the longest label (about 0.075 inch a character at 9 pt).
    label_inches = 0.2 + 0.075 * max((len(label) for label in labels), default=0)
    figure.subplots_adjust(left=min(0.45, label_inches / 8), right=0.97,
                           top=1 - 0.45 / height, bottom=0.4 / height)
    axes = _axes(figure, title)
    positions = range(len(labels))
    colors = [DONE_COLOR if p >= 100 else REALISED_COLOR for p in percents]
    axes.barh(positions, percents, color=colors, height=0.7)
    for position, percent in zip(positions, percents, strict=True):
        text = f"{percent:.1f}%".replace(".", ",")
        axes.text(percent + 1, position, text, va="center", fontsize=8)
    axes.axvline(100, color=DEADLINE_COLOR, linewidth=1)
    axes.set_yticks(list(positions), list(labels), fontsize=9)
    axes.set_ylim(max(len(labels), 1) - 0.5, -0.5)
    axes.set_xlim(0, max([115.0, *(p * 1.15 for p in percents)]))
    axes.xaxis.set_major_formatter(PercentFormatter())
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)


def _date_ticks(first: date, last: date, most: int = 8) -> list[date]:
    """Evenly spaced whole days from `first`, at most `most` of them."""
    step = max(1, -(-((last - first).days + 1) // most))
    return [first + timedelta(days=k) for k in range(0, (last - first).days + 1, step)]


def _axes(figure: Figure, title: str) -> Axes:
    """The one axes of a chart, titled, with nothing placed by measuring the tick labels.

    matplotlib moves the title above any tick labels on top, and each axis label beside its
    tick labels, by measuring every tick label at each draw: a third of the drawing time.
    There are no tick labels on top and no axis labels (the title names the unit), so the
    title is pinned to the top edge and the labels' places are fixed.
    """
    axes = figure.add_subplot()
    axes.set_title(title, y=1.0)
    axes.xaxis.set_label_coords(0.5, 0.0)
    axes.yaxis.set_label_coords(0.0, 0.5)
    return axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # The fastest zlib level: a third less encoding time for about 10% more bytes, and
    # Telegram recompresses every photo anyway.
    FigureCanvasAgg(figure).print_png(buffer, pil_kwargs={"compress_level": 1})
    figure.clear()  # lets the memory go now rather than at the next garbage collection
    return buffer.getvalue()
