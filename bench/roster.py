"""Benchmark of `roster import` at national size: 465,000 officers and about 900,000 SLS.

    .venv/bin/python bench/roster.py                       # generate, then measure
    .venv/bin/python bench/roster.py --officers 50000      # another size (same role ratio)
    .venv/bin/python bench/roster.py --generate-only DIR   # write officers.csv, areas.csv to DIR

Run from the repository root. The roster is synthetic but shaped like the real operation, on
the real kecamatan/desa codes of all of Indonesia (`db/data/wilayah_indonesia.csv.gz`, three
time zones): officers in the census ratio (253 PPL : 67 PML : 10 KOSEKA, 5 admins), KOSEKA
spread evenly over the kecamatan of the whole country, each PML under a KOSEKA of their
kecamatan, about 3.8 PPL per PML, each PPL in a desa of that kecamatan with 1-4 SLS (about
1.95 on average), a phone number each, and every 50th officer with a `timezone` column
that names their zone (an override as a roster may write it). Generation is seeded
(`--seed`) and not part of any measured figure.

Measured, each in a fresh child process (its peak RSS, `ru_maxrss`, is the import's: the
parent stays small) on a fresh database (the schema and the wilayah list, loaded before the
clock starts):

* first: `db.roster.import_roster` of both files into the empty roster (every row new).
* again: the same files once more (every row compared, none changed).

Target for each: within 2 minutes and 1 GB (issue 13). Times are `time.perf_counter()`
around the awaited call; CPU s is `time.process_time()` (the aiosqlite thread included).
Figures are printed, never asserted: the exit status is 0 unless a measurement crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gzip
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import machine, print_table  # bench/common.py, beside this script  # noqa: E402

NATIONAL = ROOT / "db" / "data" / "wilayah_indonesia.csv.gz"
OFFICERS = 465_000
TARGET_SECONDS = 120.0
TARGET_RSS_MB = 1024.0
ADMINS = 5
# The census ratio of Kepulauan Meranti (and of Lampung): 253 PPL, 67 PML, 10 KOSEKA.
PPL_SHARE, PML_SHARE = 253 / 330, 67 / 330
OVERRIDE_EVERY = 50  # officers with an explicit `timezone` column


@dataclass
class Generated:
    officers: int = 0
    areas: int = 0
    kecamatan: int = 0
    zones: int = 0
    seconds: float = 0.0


@dataclass
class Measured:
    phase: str = ""
    seconds: float = 0.0
    cpu: float = 0.0
    peak_rss_kb: int = 0
    rss_before_kb: int = 0
    added: int = 0
    updated: int = 0
    areas_added: int = 0


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux


def _mb(kb: int) -> float:
    return kb / 1024


def _wilayah() -> dict[str, tuple[str, list[str]]]:
    """kecamatan code -> (its zone, its desa codes)."""
    found: dict[str, tuple[str, list[str]]] = {}
    with gzip.open(NATIONAL, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            zone, desa = found.setdefault(row["kecamatan_code"], (row["timezone"], []))
            desa.append(row["desa_code"])
    return found


def generate(folder: Path, officers: int, seed: int) -> Generated:
    start = time.perf_counter()
    rng = random.Random(seed)
    wilayah = _wilayah()
    kecamatan = sorted(wilayah)
    field = officers - ADMINS
    ppl = round(field * PPL_SHARE)
    pml = round(field * PML_SHARE)
    koseka = field - ppl - pml
    stats = Generated(officers=officers, kecamatan=len(kecamatan))
    zones: set[str] = set()
    number = 0

    def phone() -> str:
        return f"08{rng.randrange(10**9, 10**10)}"

    def zone_cell(zone: str) -> str:
        nonlocal number
        number += 1
        return zone if number % OVERRIDE_EVERY == 0 else ""

    header = ["officer_id", "name", "role", "supervisor_id", "phone", "kecamatan_code",
              "desa_code", "timezone"]
    with (folder / "officers.csv").open("w", newline="", encoding="utf-8") as of, \
            (folder / "areas.csv").open("w", newline="", encoding="utf-8") as af:
        officers_out, areas_out = csv.writer(of), csv.writer(af)
        officers_out.writerow(header)
        areas_out.writerow(["officer_id", "sls_code", "sls_name", "desa_code",
                            "target_households"])
        for i in range(ADMINS):
            officers_out.writerow([f"ADM{i:02d}", f"Admin {i}", "ADMIN", "", phone(), "", "", ""])
        pml_of: dict[str, list[str]] = defaultdict(list)  # kecamatan -> its PML
        for i in range(koseka):
            code = kecamatan[i * len(kecamatan) // koseka]  # spread over the whole country
            zone = wilayah[code][0]
            zones.add(zone)
            officers_out.writerow([f"K{i:06d}", f"Koseka {i}", "KOSEKA", "", phone(), code, "",
                                   zone_cell(zone)])
        for i in range(pml):
            k = i % koseka
            code = kecamatan[k * len(kecamatan) // koseka]
            pml_of[code].append(f"M{i:06d}")
            officers_out.writerow([f"M{i:06d}", f"Pengawas {i}", "PML", f"K{k:06d}", phone(),
                                   code, "", zone_cell(wilayah[code][0])])
        pml_ids = [(code, m) for code in kecamatan for m in pml_of.get(code, [])]
        for i in range(ppl):
            code, supervisor = pml_ids[i % len(pml_ids)]
            zone, desa_codes = wilayah[code]
            desa = rng.choice(desa_codes)
            officer_id = f"P{i:07d}"
            officers_out.writerow([officer_id, f"Pencacah {i}", "PPL", supervisor, phone(), code,
                                   desa, zone_cell(zone)])
            for s in range(rng.choice((1, 2, 2, 3, 3, 3, 4)) if i else 1):
                stats.areas += 1
                areas_out.writerow([officer_id, f"{desa.replace('.', '')}{i:07d}{s}",
                                    f"RT {s + 1:03d} {i}", desa, rng.randrange(40, 160)])
    stats.zones = len(zones)
    stats.seconds = time.perf_counter() - start
    return stats


async def _measure(folder: Path, db_path: Path, phase: str) -> Measured:
    from db.connection import Database
    from db.roster import import_roster
    from db.wilayah import ensure_default_wilayah

    db = Database(db_path)
    await db.open()
    await ensure_default_wilayah(db)
    result = Measured(phase=phase, rss_before_kb=_rss_kb())
    cpu, start = time.process_time(), time.perf_counter()
    imported = await import_roster(db, folder / "officers.csv", folder / "areas.csv",
                                   now=datetime(2022, 10, 10, 2, 0, tzinfo=UTC))
    result.seconds = time.perf_counter() - start
    result.cpu = time.process_time() - cpu
    result.peak_rss_kb = _rss_kb()
    result.added, result.updated = imported.officers_added, imported.officers_updated
    result.areas_added = imported.areas_added
    await db.close()
    return result


def _child(*args: str) -> Measured:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True,
                         text=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return Measured(**json.loads(line.removeprefix("RESULT ")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--officers", type=int, default=OFFICERS)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--generate-only", type=Path, metavar="DIR")
    parser.add_argument("--worker", nargs=3, metavar=("DIR", "DB", "PHASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        folder, db_path, phase = args.worker
        result = asyncio.run(_measure(Path(folder), Path(db_path), phase))
        print("RESULT " + json.dumps(asdict(result)), flush=True)
        return 0
    if args.generate_only:
        args.generate_only.mkdir(parents=True, exist_ok=True)
        print(generate(args.generate_only, args.officers, args.seed))
        return 0

    print(f"roster benchmark on {machine()}")
    with tempfile.TemporaryDirectory(prefix="roster-bench-") as tmp:
        folder = Path(tmp)
        stats = generate(folder, args.officers, args.seed)
        size = sum((folder / name).stat().st_size for name in ("officers.csv", "areas.csv"))
        print(f"generated in {stats.seconds:.1f} s (not measured): {stats.officers:,} officers, "
              f"{stats.areas:,} SLS over {stats.kecamatan:,} kecamatan in {stats.zones} time "
              f"zones; {size / 2**20:.0f} MB of CSV")
        db_path = folder / "roster.db"
        runs = [_child("--worker", tmp, str(db_path), phase) for phase in ("first", "again")]
    rows = []
    for m in runs:
        ok = m.seconds < TARGET_SECONDS and _mb(m.peak_rss_kb) < TARGET_RSS_MB
        rows.append([m.phase, f"{m.seconds:.1f}", f"{m.cpu:.1f}", f"{_mb(m.peak_rss_kb):.0f}",
                     f"{_mb(m.rss_before_kb):.0f}", f"{m.added:,}", f"{m.updated:,}",
                     f"{m.areas_added:,}", "yes" if ok else "NO"])
    print_table(("import", "seconds", "CPU s", "peak RSS MB", "RSS before MB", "officers new",
                 "updated", "SLS new", "< 120 s, < 1024 MB?"), rows, left={0})
    first = runs[0]
    print(f"\nroster: {stats.officers:,} officers, {stats.areas:,} SLS: imported in "
          f"{first.seconds:.1f} s, peak RSS {_mb(first.peak_rss_kb):.0f} MB; again (nothing "
          f"changed) in {runs[1].seconds:.1f} s, peak RSS {_mb(runs[1].peak_rss_kb):.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
