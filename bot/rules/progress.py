"""Progress rules: households done against target, grouped the way each role looks at it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from pydantic import BaseModel


class Counted(Protocol):
    """Households done against a target: of a work area, of a kecamatan."""

    @property
    def done(self) -> int: ...

    @property
    def target(self) -> int: ...


Row = TypeVar("Row", bound=Counted)


class ProgressLine(BaseModel):
    key: str
    label: str
    done: int
    target: int

    @property
    def ratio(self) -> float | None:
        return self.done / self.target if self.target > 0 else None


def group_progress(
    rows: Iterable[Row],
    key: Callable[[Row], str | None],
    label: Callable[[str], str],
) -> list[ProgressLine]:
    """Sum done/target per group, ordered by label."""
    sums: dict[str, list[int]] = {}
    for row in rows:
        group = key(row) or "-"
        acc = sums.setdefault(group, [0, 0])
        acc[0] += row.done
        acc[1] += row.target
    lines = [ProgressLine(key=k, label=label(k), done=d, target=t) for k, (d, t) in sums.items()]
    return sorted(lines, key=lambda line: (line.label, line.key))


def total_progress(rows: Iterable[Counted]) -> ProgressLine:
    done = target = 0
    for row in rows:
        done += row.done
        target += row.target
    return ProgressLine(key="total", label="Total", done=done, target=target)
