"""Daily reports: the current version per officer, day and SLS, with every revision kept."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import EllipsisType

from pydantic import BaseModel

from db.engine import Connection, Row
from db.models import Report

_COLUMNS = (
    "id, officer_id, report_date, sls_code, values_json, progress_value, note, status, late,"
    " revision, created_at, updated_at"
)


def _report(row: Row | dict) -> Report:
    data = dict(row)
    data["values"] = json.loads(data.pop("values_json"))
    return Report(**data)


class SavedReport(BaseModel):
    report: Report
    replaced: bool


async def get_report(
    conn: Connection, officer_id: str, report_date: date, sls_code: str
) -> Report | None:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM reports WHERE officer_id = ? AND report_date = ? AND sls_code = ?",
        (officer_id, report_date.isoformat(), sls_code),
    )
    return _report(next(iter(rows))) if rows else None


# A new report, unless this submission was saved before.
_NEW = """
    INSERT INTO reports (officer_id, report_date, sls_code, values_json, progress_value, note,
                         late, revision, created_at, updated_at, telegram_user_id,
                         submission_token)
    SELECT :officer_id, :report_date, :sls_code, :values_json, CAST(:progress_value AS BIGINT),
           :note, CAST(:late AS BIGINT), 1, :now, :now, CAST(:telegram_user_id AS BIGINT), :token
    WHERE NOT EXISTS (SELECT 1 FROM report_revisions WHERE submission_token = :token)
"""
# The next version of a stored report, as a returned report becomes `corrected`.
_NEXT = """
    values_json = :values_json, progress_value = :progress_value, note = :note, late = :late,
    revision = reports.revision + 1,
    status = CASE reports.status WHEN 'returned' THEN 'corrected' ELSE 'submitted' END,
    updated_at = :now, telegram_user_id = :telegram_user_id, submission_token = :token
"""
_KEY = "officer_id = :officer_id AND report_date = :report_date AND sls_code = :sls_code"
_SAVE = {
    # The officer saw no report: a new one, or nothing if one was saved meanwhile.
    "new": f"{_NEW} ON CONFLICT (officer_id, report_date, sls_code) DO NOTHING",
    # The officer saw revision :replaces: its next version, or nothing if it changed since.
    "next": f"UPDATE reports SET {_NEXT} WHERE {_KEY} AND revision = :replaces"
            " AND NOT EXISTS (SELECT 1 FROM report_revisions WHERE submission_token = :token)",
    # No check: a new report or the next version of the stored one.
    "any": f"{_NEW} ON CONFLICT (officer_id, report_date, sls_code) DO UPDATE SET {_NEXT}",
}


async def save_report(
    conn: Connection,
    *,
    officer_id: str,
    report_date: date,
    sls_code: str,
    values: dict[str, int],
    progress_value: int,
    note: str | None,
    late: bool,
    now: datetime,
    telegram_user_id: int | None = None,
    submission_token: str | None = None,
    replaces: int | None | EllipsisType = ...,
) -> SavedReport | None:
    """Insert the report or replace its current version; every version goes to the revisions.

    One statement, so its own transaction when run outside one: run it under
    `Database.statement()` (or inside `Database.transaction()`).

    `replaces` is the revision the officer saw and agreed to replace (None: they saw none);
    when the stored report is no longer that one, nothing is saved and None is returned.
    None too when `submission_token` was saved before (`submission_saved` tells which).
    A replaced report that had been returned by the supervisor becomes `corrected`.
    """
    kind = "any" if replaces is ... else "new" if replaces is None else "next"
    rows = await conn.execute_fetchall(f"{_SAVE[kind]} RETURNING {_COLUMNS}", {
        "officer_id": officer_id, "report_date": report_date.isoformat(), "sls_code": sls_code,
        "values_json": json.dumps(values, sort_keys=True), "progress_value": progress_value,
        "note": note, "late": int(late), "now": now.isoformat(),
        "telegram_user_id": telegram_user_id, "token": submission_token, "replaces": replaces,
    })
    if not rows:
        return None
    report = _report(next(iter(rows)))
    return SavedReport(report=report, replaced=report.revision > 1)


async def list_reports(
    conn: Connection,
    *,
    officer_ids: list[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[Report]:
    where, params = ReportFilter(date_from, date_to, officer_ids).where()
    sql = (f"SELECT {_COLUMNS} FROM reports r WHERE 1 = 1{where}"
           " ORDER BY report_date, officer_id, sls_code")
    async with conn.execute(sql, params) as cur:
        return [_report(row) async for row in cur]


async def daily_totals(
    conn: Connection, officer_id: str, *, before: date | None = None
) -> list[int]:
    """The officer's progress value per reported day (all SLS summed), oldest first."""
    sql = "SELECT SUM(progress_value) FROM reports WHERE officer_id = ?"
    params: list[object] = [officer_id]
    if before is not None:
        sql += " AND report_date < ?"
        params.append(before.isoformat())
    sql += " GROUP BY report_date ORDER BY report_date"
    return [row[0] for row in await conn.execute_fetchall(sql, params)]


async def submission_saved(conn: Connection, token: str) -> bool:
    rows = await conn.execute_fetchall(
        "SELECT 1 FROM report_revisions WHERE submission_token = ?", (token,)
    )
    return bool(rows)


async def revision_count(conn: Connection, report_id: int) -> int:
    async with conn.execute(
        "SELECT COUNT(*) FROM report_revisions WHERE report_id = ?", (report_id,)
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


class ExportRow(BaseModel):
    report: Report
    officer_name: str
    pml_id: str | None
    koseka_id: str | None
    kecamatan_code: str | None
    desa_code: str


@dataclass(frozen=True)
class ReportFilter:
    """Which reports a listing or an export takes; None: no bound. A kecamatan is that of the
    report's officer (exports only: they join the officer as `o`)."""

    date_from: date | None = None
    date_to: date | None = None
    officer_ids: Sequence[str] | None = None
    kecamatan_code: str | None = None

    def where(self) -> tuple[str, list[object]]:
        """' AND ...' conditions on the reports `r`, and their parameters."""
        sql = ""
        params: list[object] = []
        if self.date_from is not None:
            sql += " AND r.report_date >= ?"
            params.append(self.date_from.isoformat())
        if self.date_to is not None:
            sql += " AND r.report_date <= ?"
            params.append(self.date_to.isoformat())
        if self.kecamatan_code is not None:
            sql += " AND o.kecamatan_code = ?"
            params.append(self.kecamatan_code)
        if self.officer_ids is not None:
            sql += f" AND r.officer_id IN ({','.join('?' * len(self.officer_ids))})"
            params.extend(self.officer_ids)
        return sql, params


_EXPORT_FROM = """
    FROM reports r
    JOIN officers o ON o.officer_id = r.officer_id
    LEFT JOIN officers pml ON pml.officer_id = o.supervisor_id
    JOIN areas a ON a.sls_code = r.sls_code
"""


async def count_export_rows(conn: Connection, wanted: ReportFilter) -> int:
    """How many rows `export_rows` would give (before reading them)."""
    where, params = wanted.where()
    async with conn.execute(f"SELECT COUNT(*) {_EXPORT_FROM} WHERE 1 = 1{where}", params) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def export_rows(conn: Connection, wanted: ReportFilter) -> AsyncIterator[ExportRow]:
    """The current version of every wanted report with who made it and where, by date,
    officer and SLS; read one report date at a time: a national export (millions of
    reports) is never held at once, on either engine."""
    cols = ", ".join(f"r.{c.strip()}" for c in _COLUMNS.split(","))
    where, params = wanted.where()
    async with conn.execute(
        f"SELECT DISTINCT r.report_date {_EXPORT_FROM} WHERE 1 = 1{where} ORDER BY 1", params,
    ) as cur:
        days = [row[0] for row in await cur.fetchall()]
    sql = f"""
        SELECT {cols}, o.name AS officer_name, o.supervisor_id AS pml_id,
               pml.supervisor_id AS koseka_id, o.kecamatan_code, a.desa_code AS area_desa
        {_EXPORT_FROM}
        WHERE r.report_date = ?{where}
        ORDER BY r.officer_id, r.sls_code
    """
    for day in days:
        async with conn.execute(sql, [day, *params]) as cur:
            found = await cur.fetchall()
        for row in found:
            data = dict(row)
            yield ExportRow(
                officer_name=data.pop("officer_name"), pml_id=data.pop("pml_id"),
                koseka_id=data.pop("koseka_id"), kecamatan_code=data.pop("kecamatan_code"),
                desa_code=data.pop("area_desa"), report=_report(data),
            )


async def get_report_by_id(conn: Connection, report_id: int) -> Report | None:
    async with conn.execute(f"SELECT {_COLUMNS} FROM reports WHERE id = ?", (report_id,)) as cur:
        row = await cur.fetchone()
    return _report(row) if row else None


REVIEWABLE = ("submitted", "corrected")


async def review_report(
    conn: Connection, report: Report, *, reviewer_id: str, action: str,
    reason: str | None, now: datetime,
) -> bool:
    """Approve or return the version of a report the reviewer saw (`report.revision`); the
    review itself is kept.

    The status is checked by the UPDATE itself, so inside the caller's transaction: when the
    report was reviewed (approved or returned) or corrected since it was read, nothing is
    written and False is returned.
    """
    status = {"approved": "approved", "returned": "returned"}[action]
    return await _review(conn, report.id, report.revision, reviewer_id=reviewer_id,
                         status=status, reason=reason, now=now)


async def _review(
    conn: Connection, report_id: int, revision: int, *, reviewer_id: str,
    status: str, reason: str | None, now: datetime,
) -> bool:
    cur = await conn.execute(
        "UPDATE reports SET status = ?, updated_at = ? WHERE id = ? AND revision = ?"
        f" AND status IN ({','.join('?' * len(REVIEWABLE))})",
        (status, now.isoformat(), report_id, revision, *REVIEWABLE),
    )
    if cur.rowcount != 1:
        return False
    await conn.execute(
        "INSERT INTO report_reviews (report_id, revision, reviewer_id, action, reason, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (report_id, revision, reviewer_id, status, reason, now.isoformat()),
    )
    return True


async def approve_reports(
    conn: Connection, seen: Sequence[tuple[int, int]], *, reviewer_id: str,
    now: datetime,
) -> list[int]:
    """Approve every report of `seen` (report id, the revision the reviewer saw) that still
    waits for review in that revision; the ids approved, in the order given.

    Run it inside `Database.transaction()`: all of them are approved or, when any write fails,
    none. A report replaced by a newer revision, or reviewed by someone else, since the
    reviewer saw it is left as it is (its id is not in the answer).
    """
    approved = []
    for report_id, revision in seen:
        if await _review(conn, report_id, revision, reviewer_id=reviewer_id, status="approved",
                         reason=None, now=now):
            approved.append(report_id)
    return approved
