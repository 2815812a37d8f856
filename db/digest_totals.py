"""The totals of the reports that the digests read (migration 0010), rebuilt from the reports.

The triggers of `reports` keep `officer_days`, `officer_totals`, `area_days`, `area_totals`
and `kecamatan_days` up to date with every save. `rebuild_totals` computes them all again from
the reports, in one transaction of the caller's: after a bulk load that went around the
triggers (the benchmark's generator), or to check that the triggers kept them right: the
rows of `read_totals` are the same before and after a rebuild.
"""

from __future__ import annotations

from db.engine import Connection

TOTAL_TABLES = ("officer_days", "officer_totals", "area_days", "area_totals", "kecamatan_days")

REBUILD_TOTALS = """
DELETE FROM officer_days;
DELETE FROM officer_totals;
DELETE FROM area_days;
DELETE FROM area_totals;
DELETE FROM kecamatan_days;

INSERT INTO officer_days (officer_id, day, reports, late_reports, households)
SELECT officer_id, report_date, COUNT(*), SUM(late), SUM(progress_value)
FROM reports GROUP BY officer_id, report_date;

INSERT INTO officer_totals (officer_id, reports, late_reports, households)
SELECT officer_id, COUNT(*), SUM(late), SUM(progress_value) FROM reports GROUP BY officer_id;

INSERT INTO area_days (sls_code, day, reports, households)
SELECT sls_code, report_date, COUNT(*), SUM(progress_value)
FROM reports GROUP BY sls_code, report_date;

INSERT INTO area_totals (sls_code, reports, households, last_positive)
SELECT sls_code, SUM(reports), SUM(households), MAX(CASE WHEN households > 0 THEN day END)
FROM area_days GROUP BY sls_code;

INSERT INTO kecamatan_days (kecamatan_code, day, reports, households)
SELECT COALESCE(w.kecamatan_code, '-'), r.report_date, COUNT(*), SUM(r.progress_value)
FROM reports r
JOIN areas a ON a.sls_code = r.sls_code
LEFT JOIN wilayah_desa w ON w.code = a.desa_code
GROUP BY COALESCE(w.kecamatan_code, '-'), r.report_date;
"""
"""The statements of a rebuild, `;`-separated (the caller runs them in one transaction)."""

_ORDER = {
    "officer_days": "officer_id, day",
    "officer_totals": "officer_id",
    "area_days": "sls_code, day",
    "area_totals": "sls_code",
    "kecamatan_days": "kecamatan_code, day",
}


async def rebuild_totals(conn: Connection) -> None:
    """Compute every total again from the reports (inside the caller's transaction)."""
    for statement in REBUILD_TOTALS.split(";"):
        if statement.strip():
            await conn.execute(statement)


async def read_totals(conn: Connection) -> dict[str, list[tuple]]:
    """Every row of every total table, in key order (to compare two states)."""
    found: dict[str, list[tuple]] = {}
    for table in TOTAL_TABLES:
        async with conn.execute(f"SELECT * FROM {table} ORDER BY {_ORDER[table]}") as cur:
            found[table] = [tuple(row) for row in await cur.fetchall()]
    return found
