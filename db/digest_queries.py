"""What the digests of one evening read: set-based queries over the totals, not every report.

The totals (migration 0010: `officer_days`, `officer_totals`, `area_days`, `area_totals`,
`kecamatan_days`) are kept by triggers in the transaction of every report save, so an evening
reads a few rows per officer and per work area, whatever the length of the period: the roster,
the active work areas with their households so far and on the few recent days that a pace
needs, each officer's own reports on the day and the days before it (who reported, the runs of
the quality flags), the last day each PPL reported, the days off (izin), the reports waiting for
a review, the households per kecamatan and day (the charts) and the open field problems.

Reports dated after the day (a digest of a past day) are taken back out of the totals: they
are read by date, and there are none on the evening itself. The bulk rows are plain tuples,
not models: a national evening reads hundreds of thousands of them.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from db.engine import Connection
from db.models import Officer, Role
from db.problems import ProblemModel, open_problems
from db.reports import REVIEWABLE
from db.wilayah import area_names

_BATCH = 20_000


class Member(NamedTuple):
    """An active officer of the roster (a tuple: a national evening reads every one of them);
    `officer()` makes the model of a digest's recipient."""

    officer_id: str
    name: str
    role: Role
    supervisor_id: str | None
    phone: str | None
    kecamatan_code: str | None
    desa_code: str | None
    telegram_user_id: int | None
    telegram_chat_id: int | None
    unreachable_at: str | None
    timezone: str | None
    """The officer's IANA zone (None: the deployment's TIMEZONE)."""

    def officer(self) -> Officer:
        return Officer.model_construct(active=True, **self._asdict())


class AreaRow(NamedTuple):
    """An active work area and the households reported on it up to the day."""

    sls_code: str
    desa_code: str
    officer_id: str
    target: int
    done: int
    recent: tuple[int, ...]
    """Households on each of the `recent` days asked for, in their order."""
    last_positive: date | None
    """The last day up to the day that added households (None: none)."""


class OwnDay(NamedTuple):
    """An officer's own reports on one day, every SLS summed."""

    reports: int
    late_reports: int
    households: int


@dataclass(frozen=True, slots=True)
class OwnReports:
    """An officer's own reports up to the day."""

    done: int
    """Households of every report up to the day."""
    late_before: int
    """Catch-up reports for the days before the day."""
    days: dict[date, OwnDay]
    """The day and the days before it that were asked for (`run_days`), when reported."""


class ReportRow(NamedTuple):
    """One current report of an officer whose quality flags need the whole history."""

    report_date: date
    values_json: str
    progress: int
    late: bool

    @property
    def values(self) -> dict[str, int]:
        return json.loads(self.values_json)


class AwaitingReview(NamedTuple):
    """A report of the day that its PML has yet to approve or return."""

    id: int
    sls_code: str
    sls_name: str
    """The active work area's name, else the SLS code."""
    progress: int
    revision: int
    values_json: str
    note: str | None

    @property
    def values(self) -> dict[str, int]:
        return json.loads(self.values_json)


@dataclass(frozen=True)
class FlagLimits:
    """The thresholds of the quality flags (bot.rules.quality), so that only the officers who
    may be flagged for a spike, a repeated run or a run of zeros have their history read."""

    spike_factor: float
    min_history_days: int
    run_length: int


@dataclass(frozen=True)
class Shard:
    """A group of kecamatan whose officers' digests are built together: every officer of a
    kecamatan of the group (by their own `kecamatan_code`), with their work areas, reports,
    days off and reviews. A group is closed under supervision: a PML or KOSEKA is in the group
    of everyone they supervise. `rest` is the group of what has no kecamatan (admins, work
    areas of officers off the roster)."""

    kecamatan: tuple[str, ...]
    officers: int
    """Active officers in the group."""
    rest: bool = False
    zones: frozenset[str | None] = frozenset()
    """The time zones of its active officers (None: the deployment's)."""


@dataclass(frozen=True)
class Common:
    """What every group's digests share: read once per evening."""

    kecamatan_names: dict[str, str]
    desa_names: dict[str, str]
    desa_kecamatan: dict[str, str]
    kecamatan_targets: dict[str, int]
    """The target of every kecamatan ("-": of work areas in no known desa): its active work
    areas' targets."""
    kecamatan_daily: dict[str, dict[date, int]]
    admins: list[Officer]
    problems: list[ProblemModel]
    area_names: dict[str, str] = field(default_factory=dict)
    """Every province's and kabupaten's name (`db.wilayah.area_names`)."""


@dataclass
class DigestData:
    """The state of the fieldwork at the end of `day`, as the digests need it: of every
    officer, or of one group of kecamatan (`shard`)."""

    day: date
    officers: dict[str, Member]
    """Active officers by id, in officer-id order."""
    children: dict[str, list[str]]
    """Active officers by supervisor id, each list in officer-id order."""
    areas: dict[str, AreaRow]
    """Active work areas by SLS code."""
    areas_by_officer: dict[str, list[AreaRow]]
    """In SLS-code order."""
    desa_kecamatan: dict[str, str]
    kecamatan_names: dict[str, str]
    desa_names: dict[str, str]
    own: dict[str, OwnReports]
    """Officers with reports up to the day."""
    last_reported: dict[str, date]
    """Per PPL: the last day up to `run_end`, not a day off, with a report of their own."""
    izin: dict[str, set[date]]
    """Declared days off per officer: the day, and the last one up to `run_end` that is not
    a day off of the period."""
    history: dict[str, list[ReportRow]]
    """Every report up to the day of the officers who may have a spike, repeated or zeros
    flag; nobody else's."""
    awaiting_review: dict[str, list[AwaitingReview]]
    """Reports of `day` waiting for a review, per officer, in SLS-code order."""
    kecamatan_daily: dict[str, dict[date, int]]
    """Households per kecamatan of the SLS and day, up to the day."""
    admins: list[Officer]
    """Linked active ADMIN officers, then the unlinked ADMIN_TELEGRAM_IDS as synthetic admins."""
    problems: list[ProblemModel]
    """Field problems not resolved yet, oldest first (everyone's, whatever the shard)."""
    kecamatan_targets: dict[str, int] = field(default_factory=dict)
    """See `Common.kecamatan_targets` (every kecamatan's, whatever the shard)."""
    shard: Shard | None = None
    """The group of kecamatan read; None: everything."""
    area_names: dict[str, str] = field(default_factory=dict)
    """See `Common.area_names`."""
    _subtrees: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def of_common(cls, day: date, common: Common) -> DigestData:
        """What every shard shares, and no officer: what the admin digest needs besides the
        merged figures of every shard."""
        return cls(day=day, officers={}, children={}, areas={}, areas_by_officer={},
                   desa_kecamatan=common.desa_kecamatan,
                   kecamatan_names=common.kecamatan_names, desa_names=common.desa_names,
                   own={}, last_reported={}, izin={}, history={}, awaiting_review={},
                   kecamatan_daily=common.kecamatan_daily, admins=common.admins,
                   problems=common.problems, kecamatan_targets=common.kecamatan_targets,
                   area_names=common.area_names)

    def subtree(self, officer_id: str) -> list[str]:
        """Every active officer below `officer_id` (breadth first), not the officer itself."""
        cached = self._subtrees.get(officer_id)
        if cached is None:
            cached = list(self._walk(officer_id))
            self._subtrees[officer_id] = cached
        return cached

    def _walk(self, officer_id: str) -> Iterator[str]:
        seen = {officer_id}
        queue = [officer_id]
        while queue:
            current = queue.pop(0)
            for child in self.children.get(current, ()):
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
                    yield child

    def kecamatan_of(self, officer: Member | Officer) -> str | None:
        """The officer's kecamatan, else the kecamatan of their first work area."""
        if officer.kecamatan_code:
            return officer.kecamatan_code
        for area in self.areas_by_officer.get(officer.officer_id, ()):
            found = self.desa_kecamatan.get(area.desa_code)
            if found:
                return found
        return None


async def digest_shards(conn: Connection, max_officers: int) -> list[Shard | None]:
    """The groups of kecamatan whose digests are built one after another, each of at most
    about `max_officers` active officers (a kecamatan is never split, nor a team); `[None]`
    (everything at once) when all the active officers fit in one. The group of what has no
    kecamatan comes last."""
    rows = await _rows(
        conn,
        "SELECT o.kecamatan_code, p.kecamatan_code, g.kecamatan_code, o.timezone, COUNT(*)"
        " FROM officers o LEFT JOIN officers p ON p.officer_id = o.supervisor_id"
        " LEFT JOIN officers g ON g.officer_id = p.supervisor_id WHERE o.active = 1"
        " GROUP BY o.kecamatan_code, p.kecamatan_code, g.kecamatan_code, o.timezone",
        (),
    )
    if sum(row[4] for row in rows) <= max_officers:
        return [None]
    joined: dict[str, str] = {}  # kecamatan -> another of its group (union-find)

    def root(code: str) -> str:
        joined.setdefault(code, code)
        while joined[code] != code:
            joined[code] = joined[joined[code]]
            code = joined[code]
        return code

    per_kecamatan: dict[str, int] = {}
    zones: dict[str | None, set[str | None]] = {}
    rest = 0
    for own, supervisor, top, zone, count in rows:
        zones.setdefault(own, set()).add(zone)
        if own is None:
            rest += count
            continue
        per_kecamatan[own] = per_kecamatan.get(own, 0) + count
        for other in (supervisor, top):  # whoever supervises them is built with them
            if other is not None:
                joined[root(other)] = root(own)
    groups: dict[str, list[str]] = {}
    for code in sorted(per_kecamatan):
        groups.setdefault(root(code), []).append(code)
    shards: list[Shard | None] = []
    codes: list[str] = []
    count = 0

    def shard(codes: list[str], count: int) -> Shard:
        return Shard(tuple(codes), count,
                     zones=frozenset(z for code in codes for z in zones[code]))

    for group in sorted(groups.values()):
        size = sum(per_kecamatan[code] for code in group)
        if codes and count + size > max_officers:
            shards.append(shard(codes, count))
            codes, count = [], 0
        codes += group
        count += size
    if codes:
        shards.append(shard(codes, count))
    shards.append(Shard((), rest, rest=True, zones=frozenset(zones.get(None, ()))))
    return shards


def _in_shard(shard: Shard | None, column: str) -> tuple[str, list[object]]:
    """' AND <column> IN (the officers of the shard)' and its parameters; nothing for None.
    `column` is qualified by its table or alias (the subquery reads a table of officers)."""
    if shard is None:
        return "", []
    if shard.rest:  # NOT EXISTS, not NOT IN: PostgreSQL runs the latter row by row
        return (" AND NOT EXISTS (SELECT 1 FROM officers shard WHERE"
                f" shard.officer_id = {column} AND shard.kecamatan_code IS NOT NULL)"), []
    marks = ",".join("?" * len(shard.kecamatan))
    return (f" AND {column} IN (SELECT officer_id FROM officers"
            f" WHERE kecamatan_code IN ({marks}))"), list(shard.kecamatan)


async def load_common(
    conn: Connection, day: date, *, admin_telegram_ids: Sequence[int] = ()
) -> Common:
    """What every shard's digests of `day` share (see `Common`)."""
    with gc_paused():
        desa_names: dict[str, str] = {}
        desa_kecamatan: dict[str, str] = {}
        for code, kecamatan, name in await _rows(
            conn, "SELECT code, kecamatan_code, name FROM wilayah_desa", ()
        ):
            desa_names[code] = name
            desa_kecamatan[code] = kecamatan
        return Common(
            kecamatan_names={code: name for code, name in await _rows(
                conn, "SELECT code, name FROM wilayah_kecamatan", ())},
            desa_names=desa_names,
            desa_kecamatan=desa_kecamatan,
            kecamatan_targets={code: total for code, total in await _rows(
                conn,
                "SELECT COALESCE(d.kecamatan_code, '-'), SUM(a.target_households) FROM areas a"
                " LEFT JOIN wilayah_desa d ON d.code = a.desa_code WHERE a.active = 1"
                " GROUP BY COALESCE(d.kecamatan_code, '-')",
                (),
            )},
            kecamatan_daily=await _kecamatan_daily(conn, day.isoformat(), {}),
            admins=await _admins(conn, admin_telegram_ids),
            problems=await open_problems(conn, None),
            area_names=area_names(),
        )


async def load_digest_data(
    conn: Connection,
    day: date,
    *,
    recent: Sequence[date],
    run_days: Sequence[date],
    run_end: date,
    period_start: date,
    days_off: Collection[date],
    limits: FlagLimits,
    admin_telegram_ids: Sequence[int] = (),
    shard: Shard | None = None,
    common: Common | None = None,
) -> DigestData:
    """Read the state at the end of `day`: of every officer, or of the officers of `shard`
    (with `common`, read once for every shard; read here when None).

    `recent`: the days whose households each work area needs (the pace window and the day);
    `run_days`: the day and the days before it that the quality runs look at (repeated numbers,
    zeros); `run_end`, `period_start` and `days_off` bound the last reported day and izin that
    count for a missing run.
    """
    if common is None:
        common = await load_common(conn, day, admin_telegram_ids=admin_telegram_ids)
    with gc_paused():
        text = day.isoformat()
        dates: dict[str, date] = {}
        # One string object per distinct officer id, SLS code and desa code: the driver makes
        # a new one for every row, and they come back in several queries.
        shared: dict[str, str] = {}
        officers = await _officers(conn, shared, shard)
        children: dict[str, list[str]] = {}
        for officer in officers.values():  # officer-id order: the query sorts
            if officer.supervisor_id is not None:
                children.setdefault(officer.supervisor_id, []).append(officer.officer_id)
        areas, by_officer = await _areas(conn, text, recent, dates, shared, shard)
        own = await _own(conn, text, run_days, dates, shard)
        return DigestData(
            day=day,
            officers=officers,
            children=children,
            areas=areas,
            areas_by_officer=by_officer,
            desa_kecamatan=common.desa_kecamatan,
            kecamatan_names=common.kecamatan_names,
            desa_names=common.desa_names,
            own=own,
            last_reported=await _last_reported(conn, run_end, period_start, days_off, dates,
                                               shard),
            izin=await _izin(conn, text, run_end, days_off, dates, shard),
            history=await _history(conn, text, own, run_days, limits, dates, shard),
            awaiting_review=await _awaiting_review(conn, text, shared, shard),
            kecamatan_daily=common.kecamatan_daily,
            admins=common.admins,
            problems=common.problems,
            kecamatan_targets=common.kecamatan_targets,
            shard=shard,
            area_names=common.area_names,
        )


async def _rows(conn: Connection, sql: str, params: Sequence[object]) -> list[tuple]:
    async with conn.execute(sql, params) as cur:
        cur.row_factory = None  # plain tuples: much cheaper than Row for many rows
        return list(await cur.fetchall())


async def _batches(
    conn: Connection, sql: str, params: Sequence[object]
) -> AsyncIterator[tuple]:
    """Every row, fetched in batches so that the raw rows of a big result are never all held."""
    async with conn.execute(sql, params) as cur:
        cur.row_factory = None
        while rows := await cur.fetchmany(_BATCH):
            for row in rows:
                yield row


async def _officers(
    conn: Connection, shared: dict[str, str], shard: Shard | None
) -> dict[str, Member]:
    officers: dict[str, Member] = {}
    share = shared.setdefault
    roles = {role.value: role for role in Role}
    columns = ", ".join(Member._fields)
    mine, params = _in_shard(shard, "officers.officer_id")
    async for row in _batches(
        conn, f"SELECT {columns} FROM officers WHERE active = 1{mine} ORDER BY officer_id",
        params,
    ):
        officer_id, name, role, supervisor, *rest = row
        officer_id = share(officer_id, officer_id)
        officers[officer_id] = Member(officer_id, name, roles[role],
                                      supervisor and share(supervisor, supervisor), *rest)
    return officers


async def _areas(
    conn: Connection, day: str, recent: Sequence[date], dates: dict[str, date],
    shared: dict[str, str], shard: Shard | None,
) -> tuple[dict[str, AreaRow], dict[str, list[AreaRow]]]:
    joins = "".join(
        f" LEFT JOIN area_days d{k} ON d{k}.sls_code = a.sls_code AND d{k}.day = ?"
        for k in range(len(recent))
    )
    columns = "".join(f", COALESCE(d{k}.households, 0)" for k in range(len(recent)))
    mine, params = _in_shard(shard, "a.officer_id")
    sql = (
        "SELECT a.sls_code, a.desa_code, a.officer_id, a.target_households,"
        f" COALESCE(t.households, 0), t.last_positive{columns}"
        " FROM areas a LEFT JOIN area_totals t ON t.sls_code = a.sls_code"
        f"{joins} WHERE a.active = 1{mine} ORDER BY a.officer_id, a.sls_code"
    )
    later = await _area_days_after(conn, day, shard)
    areas: dict[str, AreaRow] = {}
    by_officer: dict[str, list[AreaRow]] = {}
    share = shared.setdefault
    async for row in _batches(conn, sql, [*(d.isoformat() for d in recent), *params]):
        sls, desa, owner, target, done, last, *sums = row
        sls, owner = share(sls, sls), share(owner, owner)
        last_day = _date(dates, last) if last else None
        if sls in later:
            done, last_day = _before(later[sls], done, last_day, day, dates)
        area = AreaRow(sls, share(desa, desa), owner, target, done, tuple(sums), last_day)
        areas[sls] = area
        mine = by_officer.get(owner)
        if mine is None:
            by_officer[owner] = [area]
        else:
            mine.append(area)
    return areas, by_officer


async def _area_days_after(
    conn: Connection, day: str, shard: Shard | None
) -> dict[str, list[tuple[str, int]]]:
    """Per SLS (of the shard's work areas) with households dated after the day: every
    (day, households) of it."""
    mine, params = _in_shard(shard, "a.officer_id")
    later: dict[str, list[tuple[str, int]]] = {}
    for sls, text, households in await _rows(
        conn,
        "SELECT sls_code, day, households FROM area_days WHERE sls_code IN"
        " (SELECT d.sls_code FROM area_days d JOIN areas a ON a.sls_code = d.sls_code"
        f" WHERE d.day > ?{mine}) ORDER BY sls_code, day",
        (day, *params),
    ):
        later.setdefault(sls, []).append((text, households))
    return later


def _before(
    days: list[tuple[str, int]], done: int, last: date | None, day: str, dates: dict[str, date]
) -> tuple[int, date | None]:
    """The households up to the day and the last day that added some, from an SLS's days."""
    done -= sum(households for text, households in days if text > day)
    positive = [text for text, households in days if text <= day and households > 0]
    return done, _date(dates, max(positive)) if positive else None


async def _own(
    conn: Connection, day: str, run_days: Sequence[date], dates: dict[str, date],
    shard: Shard | None,
) -> dict[str, OwnReports]:
    """Each officer's own totals up to the day, and their reports on the `run_days`."""
    mine, params = _in_shard(shard, "officer_days.officer_id")
    later: dict[str, tuple[int, int]] = {}  # households and late reports dated after the day
    late_on_day: dict[str, int] = {}
    for officer_id, text, late, households in await _rows(
        conn,
        f"SELECT officer_id, day, late_reports, households FROM officer_days WHERE day >= ?{mine}",
        (day, *params),
    ):
        if text == day:
            late_on_day[officer_id] = late
        else:
            h, n = later.get(officer_id, (0, 0))
            later[officer_id] = (h + households, n + late)
    days: dict[str, dict[date, OwnDay]] = {}
    wanted = [d.isoformat() for d in run_days]
    for officer_id, text, *counts in await _rows(
        conn,
        "SELECT officer_id, day, reports, late_reports, households FROM officer_days"
        f" WHERE day IN ({','.join('?' * len(wanted))}){mine}",
        [*wanted, *params],
    ):
        days.setdefault(officer_id, {})[_date(dates, text)] = OwnDay._make(counts)
    own: dict[str, OwnReports] = {}
    none: dict[date, OwnDay] = {}
    async for officer_id, households, late in _batches(
        conn,
        "SELECT officer_id, households, late_reports FROM officer_totals WHERE 1 = 1"
        + _in_shard(shard, "officer_totals.officer_id")[0],
        params,
    ):
        after_households, after_late = later.get(officer_id, (0, 0))
        own[officer_id] = OwnReports(
            done=households - after_households,
            late_before=late - after_late - late_on_day.get(officer_id, 0),
            days=days.get(officer_id, none),
        )
    return own


async def _last_reported(
    conn: Connection, run_end: date, start: date, days_off: Collection[date],
    dates: dict[str, date], shard: Shard | None,
) -> dict[str, date]:
    off = sorted(d.isoformat() for d in days_off)
    mine, params = _in_shard(shard, "o.officer_id")
    skip = f" AND d.day NOT IN ({','.join('?' * len(off))})" if off else ""
    found: dict[str, date] = {}
    for officer_id, text in await _rows(
        conn,
        "SELECT o.officer_id, (SELECT MAX(d.day) FROM officer_days d"
        f" WHERE d.officer_id = o.officer_id AND d.day <= ? AND d.day >= ?{skip})"
        f" FROM officers o WHERE o.active = 1 AND o.role = 'PPL'{mine}",
        (run_end.isoformat(), start.isoformat(), *off, *params),
    ):
        if text is not None:
            found[officer_id] = _date(dates, text)
    return found


async def _izin(
    conn: Connection, day: str, run_end: date, days_off: Collection[date],
    dates: dict[str, date], shard: Shard | None,
) -> dict[str, set[date]]:
    off = {d.isoformat() for d in days_off}
    mine, params = _in_shard(shard, "days_off.officer_id")
    end = run_end.isoformat()
    last: dict[str, str] = {}
    izin: dict[str, set[date]] = {}
    for officer_id, text in await _rows(
        conn, f"SELECT officer_id, day FROM days_off WHERE day <= ?{mine}",
        (max(day, end), *params),
    ):
        if text == day:
            izin.setdefault(officer_id, set()).add(_date(dates, text))
        if text <= end and text not in off and text > last.get(officer_id, ""):
            last[officer_id] = text
    for officer_id, text in last.items():
        izin.setdefault(officer_id, set()).add(_date(dates, text))
    return izin


async def _history(
    conn: Connection, day: str, own: dict[str, OwnReports], run_days: Sequence[date],
    limits: FlagLimits, dates: dict[str, date], shard: Shard | None,
) -> dict[str, list[ReportRow]]:
    """The reports of the officers who may be flagged for a spike, a repeated run or zeros."""
    wanted: set[str] = set()
    in_shard, params = _in_shard(shard, "t.officer_id")
    run = run_days[: limits.run_length]
    for officer_id, mine in own.items():  # the same households on each day of the run
        sums = {mine.days[d].households for d in run if d in mine.days}
        if len(sums) == 1 and all(d in mine.days for d in run):
            wanted.add(officer_id)
    # A spike: today's households above `spike_factor` times the median of the other days,
    # so at least half of the other days lower than a `spike_factor`-th of today.
    for officer_id, others, low in await _rows(
        conn,
        "SELECT t.officer_id,"
        " (SELECT COUNT(*) FROM officer_days d WHERE d.officer_id = t.officer_id AND d.day < ?),"
        " (SELECT COUNT(*) FROM officer_days d WHERE d.officer_id = t.officer_id AND d.day < ?"
        "  AND d.households * CAST(? AS REAL) < t.households)"
        f" FROM officer_days t WHERE t.day = ? AND t.households > CAST(? AS REAL){in_shard}",
        (day, day, limits.spike_factor, day, limits.spike_factor, *params),
    ):
        if others >= limits.min_history_days and low >= others // 2:
            wanted.add(officer_id)
    history: dict[str, list[ReportRow]] = {}
    ids = sorted(wanted)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for officer_id, text, values, progress, late in await _rows(
            conn,
            "SELECT officer_id, report_date, values_json, progress_value, late FROM reports"
            f" WHERE officer_id IN ({','.join('?' * len(chunk))}) AND report_date <= ?",
            (*chunk, day),
        ):
            history.setdefault(officer_id, []).append(
                ReportRow(_date(dates, text), values, progress, late == 1))
    return history


async def _awaiting_review(
    conn: Connection, day: str, shared: dict[str, str], shard: Shard | None
) -> dict[str, list[AwaitingReview]]:
    waiting: dict[str, list[AwaitingReview]] = {}
    mine, params = _in_shard(shard, "r.officer_id")
    share = shared.setdefault
    async for officer_id, *report in _batches(
        conn,
        "SELECT r.officer_id, r.id, r.sls_code, COALESCE(a.sls_name, r.sls_code),"
        " r.progress_value, r.revision, r.values_json, r.note FROM reports r"
        " LEFT JOIN areas a ON a.sls_code = r.sls_code AND a.active = 1"
        f" WHERE r.report_date = ? AND r.status IN ({','.join('?' * len(REVIEWABLE))}){mine}"
        " ORDER BY r.officer_id, r.sls_code",
        (day, *REVIEWABLE, *params),
    ):
        report_id, sls, *rest = report
        waiting.setdefault(share(officer_id, officer_id), []).append(
            AwaitingReview(report_id, share(sls, sls), *rest))
    return waiting


async def _kecamatan_daily(
    conn: Connection, day: str, dates: dict[str, date]
) -> dict[str, dict[date, int]]:
    daily: dict[str, dict[date, int]] = {}
    for kecamatan, text, households in await _rows(
        conn, "SELECT kecamatan_code, day, households FROM kecamatan_days WHERE day <= ?", (day,)
    ):
        daily.setdefault(kecamatan, {})[_date(dates, text)] = households
    return daily


async def _admins(conn: Connection, admin_telegram_ids: Sequence[int]) -> list[Officer]:
    columns = ", ".join(Member._fields)
    admins = [
        Member(*row[:2], Role.ADMIN, *row[3:]).officer() for row in await _rows(
            conn,
            f"SELECT {columns} FROM officers WHERE active = 1 AND role = ?"
            " AND telegram_user_id IS NOT NULL ORDER BY officer_id",
            (Role.ADMIN.value,),
        )
    ]
    wanted = list(dict.fromkeys(admin_telegram_ids))
    if not wanted:
        return admins
    linked = {row[0] for row in await _rows(
        conn,
        f"SELECT telegram_user_id FROM officers WHERE telegram_user_id IN"
        f" ({','.join('?' * len(wanted))})",
        wanted,
    )}
    admins.extend(Officer.settings_admin(tg_id, "Admin") for tg_id in wanted if tg_id not in linked)
    return admins


class _GcPause:
    """No cyclic garbage collection while hundreds of thousands of objects are made.

    They hold no cycles, yet every few hundred allocations start a collection, and the
    older generations (the rows already read) get walked again and again. The collector is
    process-wide, so pauses may nest and overlap across threads: it is re-enabled when the
    last one ends, and only if it was enabled when the first one began.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._was_enabled = True

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._active == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0 and self._was_enabled:
                    gc.enable()


gc_paused = _GcPause()


def _date(cache: dict[str, date], text: str) -> date:
    found = cache.get(text)
    if found is None:
        found = cache[text] = date.fromisoformat(text)
    return found
