"""Benchmark of the evening digests: every digest of one evening on 10,000 officers x 31 days.

    .venv/bin/python bench/digest.py                      # generate, then measure
    .venv/bin/python bench/digest.py --officers 2000      # another size (same role ratio)
    .venv/bin/python bench/digest.py --officers 400000 --no-render   # national: no drawing
    .venv/bin/python bench/digest.py --database-url postgresql://...   # on PostgreSQL (empty)
    .venv/bin/python bench/digest.py --generate-only DB   # write the database to DB and stop
    .venv/bin/python bench/digest.py --measure DB         # measure a database written before
    .venv/bin/python bench/digest.py --profile            # cProfile hotspots of the build
    .venv/bin/python bench/digest.py --profile render     # ... of drawing the first charts

Run from the repository root. The database is synthetic but shaped like the real operation,
on the real wilayah list (`db/data/wilayah_indonesia.csv.gz`): the kecamatan and desa of
Kabupaten Kepulauan Meranti up to 20,000 officers, of the whole country (three time zones,
each officer in their kecamatan's) from there (`--area`). Officers in
the census ratio (76.5% PPL, 20.3% PML, 3% KOSEKA, 5 admins), every KOSEKA, PML and PPL in
one kecamatan, each PPL with 1-3 SLS and their targets, everyone linked to a Telegram chat
(a few have blocked the bot), and 31 days of reports: each PPL reports most days (sometimes
on two SLS, moving to the next one), some days only by a catch-up report the day after
(late), some not at all, a few days off (izin), and a few open field problems. Generation is
seeded (`--seed`) and not part of any measured figure; its time is printed separately. The
schema comes from the project's migrations (`Database.open()`), the wilayah list from
`ensure_default_wilayah`; the rows are then written with plain sqlite3 `executemany`, the
reports from a generator (never all held at once), each in the order of the reports' unique
key. The indexes and triggers of `reports` and `report_revisions` are dropped for the load and
made again after it (an index built once from all rows, the digest totals of migration 0010
computed once by `db.digest_totals.REBUILD_TOTALS`): row by row they would cost most of the
generation of a national operation.

Measured on the evening of the last day (the 31st), with the production settings (period of
the 31 days, no days off, `Texts("id")`, the default form):

* read: the set-based queries of `db.digest_queries` over the totals, and the Python rows,
  shard by shard as the job reads them (`digest_shards`: groups of kecamatan of at most
  `bot.present.digests.SHARD_OFFICERS` officers; one shard up to that size), each shard
  dropped before the next is read.
* text: `bot.present.digests.iter_digests(..., roles=(PML, KOSEKA, ADMIN), with_charts=False)`,
  each batch (a shard's digests) counted, then dropped, as the job sends it, then drops it;
  the next shard is read while one is built.
* build: the same with `with_charts=True`: the texts plus a small description of every chart
  (`bot.present.charts.CumulativeChart` / `ProgressBars`), what the scheduled job builds
  (`send_digests` builds one role per slot; here all three roles at once).
  Target at national size (`--officers 400000`): under 10 s and under 500 MB.
* render: every chart of that build drawn to PNG by `bot.present.charts.render`, one after another,
  as the job does when it delivers each digest: in the same process, in a worker thread
  (`asyncio.to_thread`), off the event loop. The build before it is not timed. No target:
  the job draws each chart while the digest's texts go out, about a second per message
  and chat, so drawing is not on the build's critical path. `--no-render` leaves it out
  (at 400,000 officers, 12,000 KOSEKA charts would take a quarter of an hour).

Generation and each phase run in fresh child processes (`--generate-only`, `--worker`), so
that a phase's peak RSS (`resource.getrusage(RUSAGE_SELF).ru_maxrss`) is the digest build's,
not the generator's (on Linux a child's ru_maxrss starts from its parent's RSS: the parent
stays small). The RSS of the child before the phase (interpreter, imports, open database) is
shown too. Times are `time.perf_counter()` around the awaited calls; CPU s is
`time.process_time()` (every thread, the aiosqlite thread and `asyncio.to_thread` included).
Figures are printed, never asserted: the exit status is 0 unless a measurement crashed.

`--profile` runs `cProfile` in a child on the CPU part of the build (`load_data` and
`digests_from_data`, called in the main thread because the profiler does not follow
`asyncio.to_thread`) and prints the top functions by own time and by cumulative time;
`--profile text` leaves the charts out, `--profile render` profiles drawing the first
`RENDER_PROFILE_CHARTS` charts of the build instead (in the main thread too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from zoneinfo import ZoneInfo

try:
    import bot  # noqa: F401  (installed in the venv in editable mode)
except ImportError:  # a checkout without the install: use the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import machine, print_table  # bench/common.py, beside this script

from bot.demo.roster import spread
from bot.settings import Settings
from db import wilayah
from db.connection import Database
from db.digest_totals import REBUILD_TOTALS
from db.engine import masked
from db.models import Desa

DEFAULT_OFFICERS = 10_000
DEFAULT_DAYS = 31
PERIOD_START = date(2022, 10, 15)
ADMINS = 5
SHARE_KOSEKA = 0.03
SHARE_PML = 0.203
TARGET_SECONDS = 10.0
TARGET_RSS_MB = 500.0
FIRST_TELEGRAM_ID = 1_000_000
WIB = ZoneInfo("Asia/Jakarta")
PHASES = ("read", "text", "build", "render")
RENDER_PROFILE_CHARTS = 20
CHILD_TIMEOUT = 1800
AREAS = {"meranti": "14.10.", "national": ""}
"""Where the officers work: the desa whose code starts so (Kabupaten Kepulauan Meranti, or
the whole country in its three time zones)."""
OFFICERS_PER_KECAMATAN = 50
"""At least this many officers per kecamatan (the national operation had about 64)."""
NATIONAL_FROM = 20_000
"""Officers from which the default area is the whole country: more than a regency has."""
_URL_VARIABLE = "DATABASE_URL"

Target = Path | str
"""A SQLite file, or the URL of a PostgreSQL database."""

_FIRST = ["Ahmad", "Siti", "Budi", "Nur", "Rahmat", "Dewi", "Agus", "Fitri", "Hendra", "Aisyah",
          "Iwan", "Lestari", "Joko", "Maya", "Rizki", "Ani", "Yusuf", "Wati", "Fajar", "Putri",
          "Syahrul", "Nurul", "Zainal", "Rina", "Arif", "Melati", "Hasan", "Indah", "Teguh",
          "Sari", "Muhammad", "Dian", "Eko", "Ratna", "Irfan", "Yuni"]
_LAST = ["Saputra", "Hidayat", "Lubis", "Siregar", "Nasution", "Pratama", "Wulandari",
         "Harahap", "Ramadhan", "Kurniawan", "Syahputra", "Rahayu", "Azhari", "Marpaung",
         "Sembiring", "Hasibuan", "Fadillah", "Permata", "Gunawan", "Anggraini", "Susanti",
         "Firmansyah", "Handayani", "Setiawan"]
_DAY_OFF_REASONS = ("sakit", "cuti", "pelatihan", "lainnya")
_PROBLEMS = (
    ("not_home", "Responden tidak di rumah, kembali besok sore"),
    ("refusal", "Kepala keluarga menolak diwawancarai"),
    ("access", "Jalan ke dusun terputus air pasang"),
    ("no_kk", "Keluarga belum punya Kartu Keluarga"),
    ("equipment", "Tablet tidak bisa dinyalakan"),
    ("sls_changed", "Batas RT berubah sejak pemetaan"),
)


# --------------------------------------------------------------------------- synthetic data


@dataclass
class Generated:
    officers: Counter[str] = field(default_factory=Counter)
    areas: int = 0
    reports: int = 0
    late: int = 0
    izin: int = 0
    problems: int = 0
    seconds: float = 0.0
    size_mb: float = 0.0




def role_counts(total: int, kecamatan: int) -> dict[str, int]:
    admins = ADMINS if total >= 200 else 1
    koseka = max(kecamatan, round(total * SHARE_KOSEKA))
    pml = max(koseka, round(total * SHARE_PML))
    ppl = total - admins - koseka - pml
    if ppl < pml:
        raise ValueError(f"{total} officers are too few for {kecamatan} kecamatan")
    return {"ADMIN": admins, "KOSEKA": koseka, "PML": pml, "PPL": ppl}


def _stamp(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, day_time(hour, minute), WIB).isoformat()


@dataclass
class Rows:
    """The rows of the synthetic operation, per table; the reports (by far the most) are a
    generator, consumed by the insert, that fills `revisions`, `days_off` and `ppl_areas` as
    it goes; the problems are drawn once it is done."""

    officers: list[tuple]
    areas: list[tuple]
    reports: Iterator[tuple]
    revisions: list[tuple]
    days_off: list[tuple]
    ppl_areas: list[tuple[str, int, list[tuple[str, int]]]]
    """Per PPL: (officer id, Telegram id, [(SLS code, target)])."""


def build_rows(desa: list[Desa], zones: dict[str, str], total: int, days: int, seed: int,
               stats: Generated) -> tuple[Rows, random.Random]:
    """Every row of the synthetic operation (the wilayah tables are already filled); each
    officer lives in the zone of their kecamatan (`zones`), as `roster import` sets it."""
    rng = random.Random(seed)
    by_kec: dict[str, list[Desa]] = {}
    for d in desa:
        by_kec.setdefault(d.kecamatan_code, []).append(d)
    kecamatan = sorted(by_kec)
    if len(kecamatan) > total // OFFICERS_PER_KECAMATAN:  # too few officers for all of them:
        step = len(kecamatan) / max(1, total // OFFICERS_PER_KECAMATAN)  # some, spread out
        kecamatan = [kecamatan[int(k * step)] for k in range(int(len(kecamatan) / step))]
    counts = role_counts(total, len(kecamatan))
    weights = [len(by_kec[k]) for k in kecamatan]
    per_kec = {role: spread(counts[role], weights) for role in ("KOSEKA", "PML", "PPL")}
    created = _stamp(PERIOD_START - timedelta(days=3), 9)
    last_day = PERIOD_START + timedelta(days=days - 1)
    serial = Counter[str]()
    next_tg = iter(range(FIRST_TELEGRAM_ID, FIRST_TELEGRAM_ID + 10 * total))
    officers: list[tuple] = []

    def officer(role: str, prefix: str, supervisor: str | None, kec: str | None,
                desa_code: str | None) -> str:
        serial[prefix] += 1
        officer_id = f"{prefix}{serial[prefix]:06d}"
        tg = next(next_tg)
        blocked = role == "PPL" and rng.random() < 0.005
        officers.append((
            officer_id, f"{rng.choice(_FIRST)} {rng.choice(_LAST)}", role, supervisor,
            f"0812{tg:08d}", kec, desa_code, tg, tg, created, created, created,
            _stamp(last_day - timedelta(days=rng.randint(1, 9)), 20) if blocked else None,
            zones.get(kec or "", WIB.key),
        ))
        stats.officers[role] += 1
        return officer_id

    for _ in range(counts["ADMIN"]):
        officer("ADMIN", "ADM", None, None, None)
    areas: list[tuple] = []
    ppl_areas: list[tuple[str, int, list[tuple[str, int]]]] = []
    for k_index, kec in enumerate(kecamatan):
        kosekas = [officer("KOSEKA", "KSK", None, kec, None)
                   for _ in range(per_kec["KOSEKA"][k_index])]
        pmls = [officer("PML", "PML", kosekas[p % len(kosekas)], kec, None)
                for p in range(per_kec["PML"][k_index])]
        villages = by_kec[kec]
        for p in range(per_kec["PPL"][k_index]):
            village = villages[p % len(villages)]
            officer_id = officer("PPL", "PPL", pmls[p % len(pmls)], kec, village.code)
            mine = []
            for _ in range(rng.choices((1, 2, 3), (30, 45, 25))[0]):
                serial[village.code] += 1
                number = serial[village.code]
                sls = f"{village.code.replace('.', '')}{number:05d}"
                target = rng.randint(55, 120)
                areas.append((sls, f"RT {number:03d} {village.name}", village.code, officer_id,
                               target))
                mine.append((sls, target))
            ppl_areas.append((officer_id, officers[-1][7], mine))
    stats.areas = len(areas)
    rows = Rows(officers, areas, iter(()), [], [], ppl_areas)
    rows.reports = _reports(rows, days, rng, stats)
    return rows, rng


def _reports(rows: Rows, days: int, rng: random.Random, stats: Generated) -> Iterator[tuple]:
    """Each PPL's reports of the period, officer by officer (so in the order of the reports'
    unique key), with every version written to `rows.revisions` as the trigger would."""
    period = [PERIOD_START + timedelta(days=offset) for offset in range(days)]
    texts = [d.isoformat() for d in period]
    # The stamps of a day: reported that evening (16:00-21:59) or the next morning (late).
    evening = [[_stamp(d, h, m) for h in range(16, 22) for m in range(60)] for d in period]
    morning = [[_stamp(d + timedelta(days=1), 8, m) for m in range(60)] for d in period]
    values_text: dict[tuple[int, int, int], str] = {}
    report_id = 0
    # Plain `random()` draws: randint and choices cost a few times more per call, and a
    # national operation draws tens of millions of them.
    random_, gauss = rng.random, rng.gauss
    revisions, days_off = rows.revisions, rows.days_off
    for officer_id, tg, mine in rows.ppl_areas:
        total_target = sum(t for _, t in mine)
        pace = total_target / rng.uniform(24, 36)
        left = [t for _, t in mine]
        current = 0
        last_area = len(mine) - 1
        for offset in range(days):
            roll = random_()
            if roll < 0.015:
                day = period[offset]
                days_off.append((officer_id, texts[offset],
                                 _DAY_OFF_REASONS[int(random_() * len(_DAY_OFF_REASONS))],
                                 None, _stamp(day, 7)))
                continue
            late = 0
            if roll < 0.075:  # no report on the day
                if offset == days - 1 or random_() < 0.5:
                    continue
                late = 1  # a catch-up report the next morning
            if left[current] > 0 or current < last_area:
                households = min(60, max(0, round(gauss(pace, pace * 0.4))))
            else:
                households = int(random_() * 4)  # done: a few households found late
            parts: list[tuple[int, int]] = []  # (area index, households)
            while True:
                take = households if current == last_area else min(households, left[current])
                parts.append((current, take))
                left[current] = max(0, left[current] - take)
                households -= take
                if households <= 0 or current == last_area:
                    break
                current += 1
            if left[current] == 0 and current < last_area:
                current += 1
            stamp = (morning[offset][int(random_() * 60)] if late
                     else evening[offset][int(random_() * 360)])
            age = days - 1 - offset
            if len(parts) > 1:
                parts.sort(key=lambda part: mine[part[0]][0])
            for index, count in parts:
                families = count + (random_() < 0.15)
                persons = min(600, 3 * families + int(random_() * (2 * families + 1)))
                key = (count, families, persons)
                values = values_text.get(key)
                if values is None:
                    values = values_text[key] = json.dumps(
                        {"households": count, "families": families, "persons": persons},
                        sort_keys=True)
                draw = random_()
                if age == 0:
                    status = "submitted"
                elif age <= 2:
                    status = "submitted" if draw < 0.6 else "approved"
                else:
                    status = ("approved" if draw < 0.88 else "submitted" if draw < 0.96 else
                              "returned" if draw < 0.97 else "corrected")
                revision = 2 if status == "corrected" else 1
                report_id += 1
                for r in range(1, revision + 1):  # every version, the current one included
                    revisions.append((report_id, r, values, count, None, late, stamp, tg, None))
                stats.reports += 1
                stats.late += late
                yield (report_id, officer_id, texts[offset], mine[index][0], values, count,
                       None, status, late, revision, stamp, stamp, tg)
    stats.izin = len(rows.days_off)


def _problems(rows: Rows, days: int, rng: random.Random,
              stats: Generated) -> tuple[list[tuple], list[tuple]]:
    last_day = PERIOD_START + timedelta(days=days - 1)
    problems: list[tuple] = []
    events: list[tuple] = []
    area_desa = {a[0]: a[2] for a in rows.areas}
    for officer_id, _tg, mine in rows.ppl_areas:
        roll = rng.random()
        if roll >= 0.045:
            continue
        status = ("open" if roll < 0.01 else "in_progress" if roll < 0.013 else
                  "escalated" if roll < 0.015 else "resolved")
        category, text = rng.choice(_PROBLEMS)
        day = last_day - timedelta(days=rng.randint(0, 12))
        stamp = _stamp(day, rng.randint(9, 17))
        sls = mine[0][0]
        problem_id = len(problems) + 1
        problems.append((
            problem_id, officer_id, category, sls, area_desa[sls], text, None, None, None,
            int(rng.random() < 0.2), rng.randint(1, 8) if category == "not_home" else None,
            status, stamp, stamp, stamp if status == "resolved" else None, None,
        ))
        events.append((problem_id, "open", officer_id, None, stamp))
        if status != "open":
            events.append((problem_id, status, None, None, stamp))
    stats.problems = sum(1 for p in problems if p[11] != "resolved")
    return problems, events


_INSERTS = {
    "officers": "INSERT INTO officers (officer_id, name, role, supervisor_id, phone,"
                " kecamatan_code, desa_code, telegram_user_id, telegram_chat_id, linked_at,"
                " created_at, updated_at, unreachable_at, timezone)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    "areas": "INSERT INTO areas (sls_code, sls_name, desa_code, officer_id, target_households)"
             " VALUES (?,?,?,?,?)",
    "reports": "INSERT INTO reports (id, officer_id, report_date, sls_code, values_json,"
               " progress_value, note, status, late, revision, created_at, updated_at,"
               " telegram_user_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
    "report_revisions": "INSERT INTO report_revisions (report_id, revision, values_json,"
                        " progress_value, note, late, created_at, telegram_user_id,"
                        " submission_token) VALUES (?,?,?,?,?,?,?,?,?)",
    "days_off": "INSERT INTO days_off (officer_id, day, reason, note, created_at)"
                " VALUES (?,?,?,?,?)",
    "problems": "INSERT INTO problems (id, officer_id, category, sls_code, desa_code,"
                " description, photo_file_id, latitude, longitude, urgent, revisit_households,"
                " status, created_at, updated_at, resolved_at, submission_token)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    "problem_events": "INSERT INTO problem_events (problem_id, status, actor_id, note,"
                      " created_at) VALUES (?,?,?,?,?)",
}
_BULK_TABLES = ("reports", "report_revisions")
"""Loaded without their indexes and triggers, which are made again afterwards: an index built
once from sorted rows, and the digest totals computed once (`db.digest_totals`), cost a small
part of keeping them row by row for millions of rows."""


async def _schema(target: Target, area: str) -> tuple[list[Desa], dict[str, str]]:
    """Migrations and the shipped wilayah list, through the project's own code; the desa of
    the `area` (`AREAS`) and every kecamatan's time zone."""
    db = Database(target)
    await db.open()
    try:
        await wilayah.ensure_default_wilayah(db)
        prefix = AREAS[area]
        zones = {k.code: k.timezone or WIB.key for k in await wilayah.list_kecamatan(db.conn)}
        return [d for d in await wilayah.list_desa(db.conn) if d.code.startswith(prefix)], zones
    finally:
        await db.close()


def _columns(table: str) -> list[str]:
    """The columns of the table's INSERT statement above."""
    return [c.strip() for c in _INSERTS[table].split("(", 1)[1].split(")", 1)[0].split(",")]


async def _generate_postgres(url: str, total: int, days: int, seed: int,
                             area: str) -> Generated:
    """The same rows into an empty PostgreSQL database: COPY (asyncpg) in one transaction,
    with the indexes and triggers of the bulk tables dropped and made again, as for SQLite."""
    import asyncpg

    desa, zones = await _schema(url, area)
    stats = Generated()
    rows, rng = build_rows(desa, zones, total, days, seed, stats)
    conn = await asyncpg.connect(url)
    try:
        if await conn.fetchval("SELECT COUNT(*) FROM reports"):
            raise ValueError("the database holds reports already: give an empty one")
        async with conn.transaction():
            indexes = await conn.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY($1::text[])"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint)", _BULK_TABLES)
            triggers = await conn.fetch(
                "SELECT tgname, tgrelid::regclass::text AS tablename, pg_get_triggerdef(oid)"
                " AS definition FROM pg_trigger WHERE NOT tgisinternal"
                " AND tgrelid::regclass::text = ANY($1::text[])", _BULK_TABLES)
            for trigger in triggers:
                await conn.execute(f"DROP TRIGGER {trigger['tgname']} ON {trigger['tablename']}")
            for index in indexes:
                await conn.execute(f"DROP INDEX {index['indexname']}")
            for table, records in (("officers", rows.officers), ("areas", rows.areas),
                                   ("reports", rows.reports),
                                   ("report_revisions", rows.revisions),
                                   ("days_off", rows.days_off)):
                await conn.copy_records_to_table(table, records=records,
                                                 columns=_columns(table))
            problems, events = _problems(rows, days, rng, stats)
            await conn.copy_records_to_table("problems", records=problems,
                                             columns=_columns("problems"))
            await conn.copy_records_to_table("problem_events", records=events,
                                             columns=_columns("problem_events"))
            del rows, problems, events
            for index in indexes:
                await conn.execute(index["indexdef"])
            for trigger in triggers:
                await conn.execute(trigger["definition"])
            for statement in REBUILD_TOTALS.split(";"):
                if statement.strip():
                    await conn.execute(statement)
            # The ids were given: the sequences go on after them.
            for table in ("reports", "problems"):
                await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                                   f" (SELECT COALESCE(MAX(id), 1) FROM {table}))")
        await conn.execute("ANALYZE")
        stats.size_mb = await conn.fetchval("SELECT pg_database_size(current_database())") / 2**20
    finally:
        await conn.close()
    return stats


def generate(target: Target, total: int, days: int, seed: int, area: str) -> Generated:
    started = time.perf_counter()
    if isinstance(target, str):
        stats = asyncio.run(_generate_postgres(target, total, days, seed, area))
        stats.seconds = time.perf_counter() - started
        return stats
    path = target
    if path.exists():
        raise FileExistsError(f"{path} exists: choose a new file")
    desa, zones = asyncio.run(_schema(path, area))
    stats = Generated()
    rows, rng = build_rows(desa, zones, total, days, seed, stats)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        # No journal for the load (a failed generation leaves a file to delete anyway): in
        # WAL mode every page would be written twice, to the WAL and again at the checkpoint.
        conn.execute("PRAGMA journal_mode = OFF")
        # Foreign keys are checked once at the end (`foreign_key_check`), not row by row.
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("PRAGMA cache_size = -262144")  # 256 MB: the index builds sort in memory
        marks = ",".join("?" * len(_BULK_TABLES))
        kept = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')"
            f" AND tbl_name IN ({marks}) AND sql IS NOT NULL", _BULK_TABLES).fetchall()
        conn.execute("BEGIN")
        for kind, name, _sql in kept:
            conn.execute(f"DROP {kind.upper()} {name}")
        conn.executemany(_INSERTS["officers"], rows.officers)
        conn.executemany(_INSERTS["areas"], rows.areas)
        conn.executemany(_INSERTS["reports"], rows.reports)
        conn.executemany(_INSERTS["report_revisions"], rows.revisions)
        conn.executemany(_INSERTS["days_off"], rows.days_off)
        problems, events = _problems(rows, days, rng, stats)
        conn.executemany(_INSERTS["problems"], problems)
        conn.executemany(_INSERTS["problem_events"], events)
        del rows, problems, events
        for _kind, _name, sql in kept:
            conn.execute(sql)
        for statement in REBUILD_TOTALS.split(";"):  # in the same transaction
            if statement.strip():
                conn.execute(statement)
        conn.execute("COMMIT")
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"generated rows break foreign keys: {broken[:5]}")
        conn.execute("PRAGMA journal_mode = WAL")  # as the bot keeps it
    finally:
        conn.close()
    stats.seconds = time.perf_counter() - started
    stats.size_mb = path.stat().st_size / 2**20
    return stats


# --------------------------------------------------------------------------- one measurement


@dataclass
class Measurement:
    phase: str
    seconds: float = 0.0
    cpu: float = 0.0
    rss_before_kb: int = 0
    peak_rss_kb: int = 0
    digests: dict[str, int] = field(default_factory=dict)
    messages: int = 0
    charts: int = 0
    png_bytes: int = 0
    text_chars: int = 0
    review_items: int = 0
    read: dict[str, int] = field(default_factory=dict)


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux


async def db_period(target: Target) -> tuple[date, date]:
    """First and last report date of a generated database: the period and the evening."""
    first, last = (await _facts(target))[2:]
    if first is None:
        raise ValueError("the database has no reports: generate it with --generate-only")
    return date.fromisoformat(first), date.fromisoformat(last)


async def _facts(target: Target) -> tuple[int, int, str | None, str | None]:
    """Active officers, days of reports, the first and the last report date."""
    db = Database(target)
    conn = await db.open()
    try:
        [(officers,)] = await conn.execute_fetchall(
            "SELECT COUNT(*) FROM officers WHERE active = 1")
        [(days, first, last)] = await conn.execute_fetchall(
            "SELECT COUNT(DISTINCT report_date), MIN(report_date), MAX(report_date)"
            " FROM reports")
    finally:
        await db.close()
    return officers, days, first, last


def _settings(target: Target, start: date, end: date) -> Settings:
    where: dict[str, object] = (
        {"database_url": target} if isinstance(target, str) else {"database_path": target})
    return Settings(_env_file=None, telegram_bot_token="1:x", period_start=start,
                    period_end=end, **where)


async def measure(phase: str, path: Target) -> Measurement:
    from bot.present.charts import render
    from bot.present.digests import (
        DIGEST_ROLES,
        SHARD_OFFICERS,
        build_digests,
        iter_digests,
        load_data,
    )
    from bot.present.texts import Texts
    from bot.rules.forms import load_form
    from db.digest_queries import digest_shards, load_common

    start, day = await db_period(path)
    settings = _settings(path, start, day)
    form, texts = load_form(settings.form_file), Texts(settings.language)
    result = Measurement(phase=phase)
    db = Database(path)
    conn = await db.open()
    try:
        if phase == "render":  # the build first, not timed: what is measured is the drawing
            digests = await build_digests(conn, day=day, settings=settings, form=form,
                                          texts=texts, roles=DIGEST_ROLES)
        result.rss_before_kb = _rss_kb()
        cpu_started = time.process_time()
        started = time.perf_counter()
        if phase == "read":  # every shard read, one after another, as the job does
            read: Counter[str] = Counter()
            common = await load_common(conn, day,
                                       admin_telegram_ids=settings.admin_telegram_ids)
            for shard in await digest_shards(conn, SHARD_OFFICERS):
                data = await load_data(conn, day, settings, shard=shard, common=common)
                read.update({
                    "shards": 1, "officers": len(data.officers), "areas": len(data.areas),
                    "own": len(data.own), "history": len(data.history),
                    "history_reports": sum(len(v) for v in data.history.values()),
                    "review": sum(len(v) for v in data.awaiting_review.values())})
                del data
        elif phase == "render":
            pngs = [await render(chart.spec) for d in digests for chart in d.charts]
        else:  # batch by batch, each dropped once counted: the job sends it, then drops it
            async for batch in iter_digests(conn, day=day, settings=settings, form=form,
                                            texts=texts, roles=DIGEST_ROLES,
                                            with_charts=phase == "build"):
                _tally(result, batch)
                del batch
        result.seconds = time.perf_counter() - started
        result.cpu = time.process_time() - cpu_started
        result.peak_rss_kb = _rss_kb()
    finally:
        await db.close()
    if phase == "read":
        result.read = dict(read)
    elif phase == "render":
        _tally(result, digests)
        result.png_bytes = sum(len(png) for png in pngs)
    return result


def _tally(result: Measurement, digests: list) -> None:
    """Add what these digests hold to the result's counts."""
    kinds = Counter(result.digests)
    kinds.update(d.kind for d in digests)
    result.digests = dict(kinds)
    result.messages += sum(len(d.chunks) + len(d.charts) + bool(d.review) for d in digests)
    result.charts += sum(len(d.charts) for d in digests)
    result.text_chars += sum(len(c) for d in digests for c in d.chunks)
    result.review_items += sum(len(d.review) for d in digests)


async def profile(phase: str, path: Target, top: int) -> str:
    """cProfile of the CPU part of the build (or of drawing charts), in the main thread."""
    import cProfile
    import io
    import pstats

    from bot.present.digests import DIGEST_ROLES, digests_from_data, load_data
    from bot.present.texts import Texts
    from bot.rules.forms import load_form

    start, day = await db_period(path)
    settings = _settings(path, start, day)
    form, texts = load_form(settings.form_file), Texts(settings.language)
    db = Database(path)
    conn = await db.open()
    try:
        profiler = cProfile.Profile()
        started = time.perf_counter()
        if phase != "render":
            profiler.enable()
        data = await load_data(conn, day, settings)
        digests = digests_from_data(data, settings=settings, form=form, texts=texts,
                                    roles=DIGEST_ROLES, with_charts=phase != "text")
        if phase == "render":
            charts = [chart for d in digests for chart in d.charts][:RENDER_PROFILE_CHARTS]
            started = time.perf_counter()
            profiler.enable()
            for chart in charts:
                chart.spec.render()
        profiler.disable()
        elapsed = time.perf_counter() - started
    finally:
        await db.close()
    out = io.StringIO()
    if phase == "render":
        out.write(f"profile of drawing {len(charts)} charts: {elapsed:.2f} s under the "
                  "profiler\n")
    else:
        out.write(f"profile of load_data + digests_from_data ({phase}): "
                  f"{len(digests)} digests in {elapsed:.2f} s under the profiler\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs()
    for key in ("tottime", "cumulative"):
        out.write(f"\n-- top {top} by {key} --\n")
        stats.sort_stats(key).print_stats(top)
    return out.getvalue()


def run_worker(phase: str, path: Target, top: int) -> int:
    if phase.startswith("profile-"):
        print(asyncio.run(profile(phase.removeprefix("profile-"), path, top)), flush=True)
        return 0
    result = asyncio.run(measure(phase, path))
    print("RESULT " + json.dumps(asdict(result)), flush=True)
    return 0


def spawn(phase: str, path: Target, top: int = 25) -> Measurement | str:
    """One phase in a fresh child process: the Measurement (or the profile text), or why not."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", phase,
               "--measure", _argument(path), "--top", str(top)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"{phase}: killed after {CHILD_TIMEOUT} s"
    if done.returncode == 0 and phase.startswith("profile-"):
        return done.stdout
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return Measurement(**json.loads(line.removeprefix("RESULT ")))
    tail = "\n".join(done.stderr.strip().splitlines()[-15:])
    return f"{phase}: exit {done.returncode}\n{tail}"


# --------------------------------------------------------------------------- report




def _mb(kb: int) -> float:
    return kb / 1024




def report(results: dict[str, Measurement], officers: int, days: int) -> tuple[str, bool]:
    """Print the table and the details; returns the summary line and whether a target missed."""
    labels = {
        "read": "load_data alone (the queries)",
        "text": "build_digests, text only",
        "build": "build_digests: texts + chart specs (the job)",
        "render": "render every chart (worker thread)",
    }
    rows = []
    missed = False
    for phase in PHASES:
        m = results.get(phase)
        if m is None:
            continue
        target, ok = "", ""
        if phase in ("text", "build"):
            passed = m.seconds < TARGET_SECONDS and _mb(m.peak_rss_kb) < TARGET_RSS_MB
            target = f"< {TARGET_SECONDS:.0f} s, < {TARGET_RSS_MB:.0f} MB"
            ok = "yes" if passed else "NO"
            missed |= phase == "build" and not passed
        rows.append([labels[phase], f"{m.seconds:.2f}", f"{m.cpu:.2f}",
                     f"{_mb(m.peak_rss_kb):.0f}", f"{_mb(m.rss_before_kb):.0f}", target, ok])
    print_table(("phase", "seconds", "CPU s", "peak RSS MB", "RSS before MB", "target", "ok?"),
                rows, {0, 5, 6})

    read, build, drawn = results["read"], results["build"], results.get("render")
    kinds = ", ".join(f"{count:,} {kind.removeprefix('digest_').upper()}"
                      for kind, count in sorted(build.digests.items()))
    total = sum(build.digests.values())
    print(f"\nread in {read.read.get('shards', 0):,} shards of kecamatan: "
          f"{read.read.get('officers', 0):,} active officers, "
          f"{read.read.get('areas', 0):,} SLS, own totals of {read.read.get('own', 0):,} "
          f"officers, the whole history of {read.read.get('history', 0):,} only "
          f"({read.read.get('history_reports', 0):,} reports: who may have a spike, repeated "
          f"numbers or zeros), {read.read.get('review', 0):,} reports to review")
    print(f"built: {total:,} digests ({kinds}); {build.messages:,} messages to send, "
          f"{build.charts:,} chart specs, {build.text_chars / 2**20:.1f} M characters of text, "
          f"{build.review_items:,} review buttons")
    drawing = "charts not drawn (--no-render)"
    if drawn is not None:
        per_chart = 1000 * drawn.seconds / drawn.charts if drawn.charts else 0.0
        cpu_per_chart = 1000 * drawn.cpu / drawn.charts if drawn.charts else 0.0
        print(f"rendered: {drawn.charts:,} charts ({drawn.png_bytes / 2**20:.1f} MB of PNG) in "
              f"{drawn.seconds:.2f} s ({drawn.cpu:.2f} CPU s), {per_chart:.0f} ms per chart "
              f"({cpu_per_chart:.0f} CPU ms), one at a time in a worker thread of the same "
              "process; the job draws each one when it sends that digest")
        drawing = (f"charts drawn when sent: {per_chart:.0f} ms each in a worker thread "
                   f"({drawn.seconds:.1f} s for all)")
    summary = (f"digest: {officers} officers x {days} days: all {total} digests built in "
               f"{build.seconds:.2f} s (texts + {build.charts} chart specs; queries "
               f"{read.seconds:.2f} s), peak RSS {_mb(build.peak_rss_kb):.0f} MB; {drawing}")
    return summary, missed


def _officer_count(target: Target) -> tuple[int, int]:
    officers, days, _first, _last = asyncio.run(_facts(target))
    return officers, days


def _target(value: str | None) -> Target | None:
    """A database of the command line: a SQLite file, or `DATABASE_URL` for the PostgreSQL
    database of that environment variable (a URL stays out of the children's command lines,
    where `ps` would show its password)."""
    if value is None:
        return None
    return os.environ[_URL_VARIABLE] if value == _URL_VARIABLE else Path(value)


def _argument(target: Target) -> str:
    return _URL_VARIABLE if isinstance(target, str) else str(target)


def _print_generated(stats: Generated, path: Target) -> None:
    path = masked(path) if isinstance(path, str) else path
    roles = ", ".join(f"{stats.officers[r]:,} {r}" for r in ("PPL", "PML", "KOSEKA", "ADMIN"))
    print(f"generated in {stats.seconds:.1f} s (not measured): {roles}; {stats.areas:,} SLS; "
          f"{stats.reports:,} reports ({stats.late:,} late), {stats.izin:,} days off, "
          f"{stats.problems:,} unresolved problems; {stats.size_mb:.0f} MB at {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=DEFAULT_OFFICERS,
                        help=f"officers to generate (default {DEFAULT_OFFICERS:,})")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS,
                        help=f"days of reports, from {PERIOD_START} (default {DEFAULT_DAYS})")
    parser.add_argument("--seed", type=int, default=2022, help="random seed (default 2022)")
    parser.add_argument("--area", choices=sorted(AREAS),
                        help="where the officers work: Kepulauan Meranti's desa, or all of "
                             f"Indonesia's (default: national from {NATIONAL_FROM:,} officers)")
    parser.add_argument("--generate-only", metavar="DB",
                        help="write the database to DB (a new file) and stop")
    parser.add_argument("--measure", metavar="DB",
                        help="measure DB (written by --generate-only) instead of generating")
    parser.add_argument("--database-url", metavar="URL",
                        help="generate into and measure this PostgreSQL database (empty), "
                             "instead of a SQLite file")
    parser.add_argument("--profile", choices=("charts", "text", "render"), nargs="?",
                        const="charts",
                        help="print cProfile hotspots of the build (default: with the chart "
                             "specs), of the build without charts (text), or of drawing the "
                             f"first {RENDER_PROFILE_CHARTS} charts (render)")
    parser.add_argument("--no-render", action="store_true",
                        help="leave out drawing the charts (their specs are still built)")
    parser.add_argument("--top", type=int, default=25, help="functions per profile list")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.database_url:
        os.environ[_URL_VARIABLE] = args.database_url  # inherited by the children
    measured, generated = _target(args.measure), _target(args.generate_only)
    if args.worker:
        if measured is None:
            parser.error("--worker needs --measure DB")
        return run_worker(args.worker, measured, args.top)
    if args.days < 1 or args.officers < 1:
        parser.error("--days and --officers must be at least 1")
    area = args.area or ("national" if args.officers >= NATIONAL_FROM else "meranti")
    if generated is not None:
        _print_generated(generate(generated, args.officers, args.days, args.seed, area),
                         generated)
        return 0

    began = time.perf_counter()
    print(f"digest benchmark on {machine()}")
    with tempfile.TemporaryDirectory(prefix="regsosek-bench-") as tmp:
        path: Target | None = measured
        if path is None:
            path = args.database_url or Path(tmp) / "regsosek.db"
            # In a child too: a child's ru_maxrss starts from its parent's RSS (Linux carries
            # it over fork and exec), so this process must stay small.
            made = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--generate-only", _argument(path),
                 "--officers", str(args.officers), "--days", str(args.days),
                 "--seed", str(args.seed), "--area", area],
                capture_output=True, text=True, timeout=CHILD_TIMEOUT,
            )
            print(made.stdout.strip())
            if made.returncode != 0:
                print(f"generation failed: exit {made.returncode}\n{made.stderr.strip()}")
                return 1
        elif isinstance(path, Path) and not path.exists():
            parser.error(f"{path} does not exist")
        officers, days = _officer_count(path)
        start, day = asyncio.run(db_period(path))
        print(f"evening of {day} (day {(day - start).days + 1} of the period), "
              f"each phase in a fresh process\n")
        if args.profile:
            outcome = spawn(f"profile-{args.profile}", path, args.top)
            print(outcome)
            return 0
        results: dict[str, Measurement] = {}
        for phase in PHASES:
            if phase == "render" and args.no_render:
                continue
            outcome = spawn(phase, path)
            if isinstance(outcome, str):
                print(f"measurement failed: {outcome}")
                return 1
            results[phase] = outcome
        summary, missed = report(results, officers, days)
        if missed:
            print("target missed: `--profile` shows where the time goes")
        print(f"\nwhole run{'' if measured else ', generation included'}: "
              f"{(time.perf_counter() - began) / 60:.1f} min")
        print("\n" + summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
