"""Cumulative progress per work area (SLS), the raw material of /progres and the digests."""

from __future__ import annotations

from datetime import date

from db.engine import Connection
from db.models import AreaProgress, KecamatanProgress


async def area_progress(
    conn: Connection,
    *,
    officer_ids: list[str] | None = None,
    until: date | None = None,
) -> list[AreaProgress]:
    """Active areas with the households reported so far (current report versions only),
    up to `until` when given: from the totals the digests read too (`area_totals`, less the
    days after `until` in `area_days`), not from every report."""
    params: list[object] = [until.isoformat() if until else "9999-12-31"]
    where = "a.active = 1"
    if officer_ids is not None:
        where += f" AND a.officer_id IN ({','.join('?' * len(officer_ids))})"
        params.extend(officer_ids)
    sql = f"""
        SELECT a.sls_code, a.sls_name, a.desa_code, a.officer_id, o.name AS officer_name,
               o.supervisor_id, o.kecamatan_code, a.target_households AS target,
               COALESCE(t.households, 0) - COALESCE((
                   SELECT SUM(d.households) FROM area_days d
                   WHERE d.sls_code = a.sls_code AND d.day > ?), 0) AS done
        FROM areas a
        JOIN officers o ON o.officer_id = a.officer_id
        LEFT JOIN area_totals t ON t.sls_code = a.sls_code
        WHERE {where}
        ORDER BY a.officer_id, a.sls_code
    """
    return [AreaProgress(**dict(row)) for row in await conn.execute_fetchall(sql, params)]


async def kecamatan_progress(conn: Connection) -> list[KecamatanProgress]:
    """`area_progress` of everyone, summed per kecamatan of the officers in the database: a
    line per kecamatan, not per work area (a national roster has about 900,000)."""
    sql = """
        SELECT o.kecamatan_code, SUM(a.target_households) AS target,
               SUM(COALESCE(t.households, 0)) AS done
        FROM areas a
        JOIN officers o ON o.officer_id = a.officer_id
        LEFT JOIN area_totals t ON t.sls_code = a.sls_code
        WHERE a.active = 1
        GROUP BY o.kecamatan_code
        ORDER BY o.kecamatan_code
    """
    return [KecamatanProgress(**dict(row)) for row in await conn.execute_fetchall(sql, ())]
