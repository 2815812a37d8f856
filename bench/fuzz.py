"""Explore the property tests: random examples instead of the suite's fixed few.

`make test` runs `tests/test_properties.py` with a handful of derandomised examples per step,
so CI stays stable and quick. This script runs the same properties with fresh random examples
(`EXPLORE_EXAMPLES`, default 10,000 per step) against the real bot and the local Bot API, and
prints how many examples each property ran, how long it took and whether it held. A failure
prints Hypothesis's shrunk example: add it to the test with `@example(...)`.

An example costs about 0.1 s (a round trip through the bot), so 10,000 per step is about 17
minutes a step and several hours for all of them: run it overnight, or narrow it with -k.

    .venv/bin/python bench/fuzz.py                    # 10,000 examples per step (long)
    .venv/bin/python bench/fuzz.py --examples 500     # a quicker look
    .venv/bin/python bench/fuzz.py -k lapor           # only the steps of /lapor
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, print_table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TEST_LINE = re.compile(r"^(tests/test_properties\.py::\S+):$")
PASSING = re.compile(r"(\d+) passing(?: examples?)?, (\d+) failing")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="examples per step")
    parser.add_argument("-k", dest="keyword", help="only the properties matching this")
    args = parser.parse_args()
    print(machine())
    command = [sys.executable, "-m", "pytest", "tests/test_properties.py", "-q",
               "-p", "no:cacheprovider", "--hypothesis-show-statistics"]
    if args.keyword:
        command += ["-k", args.keyword]
    env = {**os.environ, "EXPLORE_EXAMPLES": str(args.examples)}
    started = time.monotonic()
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started

    counts: dict[str, list[int]] = {}
    current = None
    for line in run.stdout.splitlines():
        if match := TEST_LINE.match(line.strip()):
            current = match.group(1).split("::", 1)[1]
            counts.setdefault(current, [0, 0])
        elif current and (match := PASSING.search(line)):
            counts[current][0] += int(match.group(1))
            counts[current][1] += int(match.group(2))
    rows = [[name, f"{passed:,}", f"{failed:,}"] for name, (passed, failed) in counts.items()]
    print_table(["property", "passing examples", "failing"], rows, left={0},
                title=f"{args.examples:,} examples per step")
    total = sum(passed + failed for passed, failed in counts.values())
    verdict = "held" if run.returncode == 0 else "FAILED (see below)"
    print(f"\n{len(counts)} properties, {total:,} examples in {elapsed:.0f} s: {verdict}")
    if run.returncode != 0:
        print(run.stdout[-6000:])
        print(run.stderr[-2000:], file=sys.stderr)
    return 0 if run.returncode in (0, 1) else run.returncode


if __name__ == "__main__":
    raise SystemExit(main())
