"""What the benchmark scripts share: the machine line and the table printer."""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Collection, Sequence
from pathlib import Path


def machine() -> str:
    """CPU count and model, Python, system and load: the context every figure needs."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}, load average {load}")


def print_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], left: Collection[int],
    title: str | None = None,
) -> None:
    """Aligned columns: those in `left` flush left, the others (numbers) flush right."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    if title:
        print(f"\n== {title} ==")
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) if i in left else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(r, widths, strict=True))).rstrip())
