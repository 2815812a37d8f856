"""Everything the digests of one evening need, read with a handful of set-based queries.

The digests of a whole regency are built from one `Snapshot`: the roster, the work areas,
every current report up to the day, the days off (izin), the open field problems and the
wilayah names. Nothing is read per officer, so one evening costs the same few queries for
300 or 10,000 officers. The bulk rows (areas, reports) are plain tuples, not models: an
evening reads hundreds of thousands of them.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from db.engine import Connection, dialect
from db.models import Officer, Role
from db.problems import ProblemModel, open_problems
from db.reports import REVIEWABLE

_REPORT_BATCH = 20_000
_OFFICER_COLUMNS = (
    "officer_id, name, role, supervisor_id, phone, kecamatan_code, desa_code, active,"
    " telegram_user_id, telegram_chat_id, unreachable_at"
)


class SnapshotReport(NamedTuple):
    """The current version of one report; `values` is decoded on each access."""

    officer_id: str
    report_date: date
    sls_code: str
    values_json: str
    progress: int
    late: bool

    @property
    def values(self) -> dict[str, int]:
        return json.loads(self.values_json)


class SnapshotArea(NamedTuple):
    """An active work area (a tuple: an evening reads every one of them)."""

    sls_code: str
    sls_name: str
    desa_code: str
    officer_id: str
    target_households: int


class AwaitingReview(NamedTuple):
    """A report of the day that its PML has yet to approve or return."""

    id: int
    sls_code: str
    progress: int
    revision: int
    values_json: str
    note: str | None

    @property
    def values(self) -> dict[str, int]:
        return json.loads(self.values_json)


@dataclass
class Snapshot:
    """The state of the fieldwork at the end of `day` (reports dated after it are left out)."""

    day: date
    officers: dict[str, Officer]
    """Active officers by id."""
    children: dict[str, list[str]]
    """Active officers by supervisor id, each list in officer-id order."""
    areas: dict[str, SnapshotArea]
    """Active areas by SLS code."""
    areas_by_officer: dict[str, list[SnapshotArea]]
    target_by_officer: dict[str, int]
    target_by_desa: dict[str, int]
    desa_kecamatan: dict[str, str]
    """Every desa of the wilayah list -> its kecamatan code."""
    kecamatan_names: dict[str, str]
    desa_names: dict[str, str]
    reports: list[SnapshotReport]
    """Current versions, in no particular order (sorting them costs more than reading them)."""
    reports_by_officer: dict[str, list[SnapshotReport]]
    awaiting_review: dict[str, list[AwaitingReview]]
    """Reports of `day` waiting for a review, per officer, in SLS-code order."""
    izin: dict[str, set[date]]
    """Declared days off per officer, up to `day`."""
    admins: list[Officer]
    """Linked active ADMIN officers, then the unlinked ADMIN_TELEGRAM_IDS as synthetic admins."""
    problems: list[ProblemModel]
    """Field problems not resolved yet, oldest first."""
    _subtrees: dict[str, list[str]] = field(default_factory=dict, repr=False)

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

    def kecamatan_of(self, officer: Officer) -> str | None:
        """The officer's kecamatan, else the kecamatan of their first work area."""
        if officer.kecamatan_code:
            return officer.kecamatan_code
        for area in self.areas_by_officer.get(officer.officer_id, ()):
            found = self.desa_kecamatan.get(area.desa_code)
            if found:
                return found
        return None


async def load_snapshot(
    conn: Connection, day: date, *, admin_telegram_ids: Sequence[int] = ()
) -> Snapshot:
    with gc_paused():
        return await _load(conn, day, admin_telegram_ids)


async def _load(
    conn: Connection, day: date, admin_telegram_ids: Sequence[int]
) -> Snapshot:
    officers = await _officers(conn)
    children: dict[str, list[str]] = {}
    for officer in officers.values():  # officer-id order: the query sorts
        if officer.supervisor_id is not None:
            children.setdefault(officer.supervisor_id, []).append(officer.officer_id)

    areas: dict[str, SnapshotArea] = {}
    areas_by_officer: dict[str, list[SnapshotArea]] = {}
    target_by_officer: dict[str, int] = {}
    target_by_desa: dict[str, int] = {}
    async with conn.execute(
        "SELECT sls_code, sls_name, desa_code, officer_id, target_households FROM areas"
        " WHERE active = 1 ORDER BY officer_id, sls_code"
    ) as cur:
        cur.row_factory = None
        for row in await cur.fetchall():
            area = SnapshotArea._make(row)
            sls, _, desa, officer_id, target = row
            areas[sls] = area
            areas_by_officer.setdefault(officer_id, []).append(area)
            target_by_officer[officer_id] = target_by_officer.get(officer_id, 0) + target
            target_by_desa[desa] = target_by_desa.get(desa, 0) + target

    kecamatan_names: dict[str, str] = {}
    async with conn.execute("SELECT code, name FROM wilayah_kecamatan") as cur:
        for code, name in await cur.fetchall():
            kecamatan_names[code] = name
    desa_names: dict[str, str] = {}
    desa_kecamatan: dict[str, str] = {}
    async with conn.execute("SELECT code, kecamatan_code, name FROM wilayah_desa") as cur:
        for code, kecamatan, name in await cur.fetchall():
            desa_names[code] = name
            desa_kecamatan[code] = kecamatan

    reports, reports_by_officer = await _reports(conn, day)

    izin: dict[str, set[date]] = {}
    dates: dict[str, date] = {}
    async with conn.execute(
        "SELECT officer_id, day FROM days_off WHERE day <= ?", (day.isoformat(),)
    ) as cur:
        for officer_id, text in await cur.fetchall():
            izin.setdefault(officer_id, set()).add(_date(dates, text))

    return Snapshot(
        day=day,
        officers=officers,
        children=children,
        areas=areas,
        areas_by_officer=areas_by_officer,
        target_by_officer=target_by_officer,
        target_by_desa=target_by_desa,
        desa_kecamatan=desa_kecamatan,
        kecamatan_names=kecamatan_names,
        desa_names=desa_names,
        reports=reports,
        reports_by_officer=reports_by_officer,
        awaiting_review=await _awaiting_review(conn, day),
        izin=izin,
        admins=await _admins(conn, officers, admin_telegram_ids),
        problems=await open_problems(conn, None),
    )


async def _officers(conn: Connection) -> dict[str, Officer]:
    names = [name.strip() for name in _OFFICER_COLUMNS.split(",")]
    async with conn.execute(
        f"SELECT {_OFFICER_COLUMNS} FROM officers WHERE active = 1 ORDER BY officer_id"
    ) as cur:
        cur.row_factory = None
        rows = await cur.fetchall()
    return {row[0]: Officer(**dict(zip(names, row, strict=True))) for row in rows}


async def _reports(
    conn: Connection, day: date
) -> tuple[list[SnapshotReport], dict[str, list[SnapshotReport]]]:
    # `+report_date` (Dialect.unindexed) keeps SQLite off the date index: on an evening nearly
    # every report matches, and a plain scan is then about twice as fast as a walk through the
    # index.
    reports: list[SnapshotReport] = []
    by_officer: dict[str, list[SnapshotReport]] = {}
    dates: dict[str, date] = {}
    # One string object per distinct officer id, SLS code and values text: sqlite3
    # makes a new one for every row, and they repeat across the hundreds of thousands of rows.
    shared: dict[str, str] = {}
    share = shared.setdefault
    make = SnapshotReport._make  # tuple.__new__: no Python-level constructor per row
    async with conn.execute(
        "SELECT officer_id, report_date, sls_code, values_json, progress_value, late"
        f" FROM reports WHERE {dialect(conn).unindexed.format('report_date')} <= ?",
        (day.isoformat(),),
    ) as cur:
        cur.row_factory = None  # plain tuples: much cheaper than Row for many rows
        # In batches, so that the raw rows of the whole table are never held at once.
        while rows := await cur.fetchmany(_REPORT_BATCH):
            for officer_id, text, sls, values, progress, late in rows:
                officer_id = share(officer_id, officer_id)
                report = make((
                    officer_id, dates.get(text) or _date(dates, text), share(sls, sls),
                    share(values, values), progress, late == 1,
                ))
                reports.append(report)
                mine = by_officer.get(officer_id)
                if mine is None:
                    by_officer[officer_id] = [report]
                else:
                    mine.append(report)
    return reports, by_officer


async def _awaiting_review(
    conn: Connection, day: date
) -> dict[str, list[AwaitingReview]]:
    waiting: dict[str, list[AwaitingReview]] = {}
    async with conn.execute(
        "SELECT officer_id, id, sls_code, progress_value, revision, values_json, note FROM reports"
        " WHERE report_date = ?"
        f" AND status IN ({','.join('?' * len(REVIEWABLE))}) ORDER BY officer_id, sls_code",
        (day.isoformat(), *REVIEWABLE),
    ) as cur:
        cur.row_factory = None
        for officer_id, *report in await cur.fetchall():
            waiting.setdefault(officer_id, []).append(AwaitingReview._make(report))
    return waiting


async def _admins(
    conn: Connection, officers: dict[str, Officer], admin_telegram_ids: Sequence[int]
) -> list[Officer]:
    admins = [
        o for o in officers.values() if o.role == Role.ADMIN and o.telegram_user_id is not None
    ]
    wanted = list(dict.fromkeys(admin_telegram_ids))
    if not wanted:
        return admins
    async with conn.execute(
        "SELECT telegram_user_id FROM officers WHERE telegram_user_id IN"
        f" ({','.join('?' * len(wanted))})",
        wanted,
    ) as cur:
        linked = {row[0] for row in await cur.fetchall()}
    admins.extend(Officer.settings_admin(tg_id, "Admin") for tg_id in wanted if tg_id not in linked)
    return admins


class _GcPause:
    """No cyclic garbage collection while hundreds of thousands of objects are made.

    They hold no cycles, yet every few hundred allocations start a collection, and the
    older generations (the snapshot itself, once loaded) get walked again and again; pausing
    saves about a third of an evening's build. The collector is process-wide, so pauses may
    nest and overlap across threads: it is re-enabled when the last one ends, and only if it
    was enabled when the first one began.
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
