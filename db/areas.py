"""Work areas (SLS) assigned to field officers, with their household targets."""

from __future__ import annotations

from db.engine import Connection
from db.models import Area

_COLUMNS = "sls_code, sls_name, desa_code, officer_id, target_households, active"


async def areas_of(conn: Connection, officer_id: str) -> list[Area]:
    """The officer's active areas, in code order."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM areas WHERE officer_id = ? AND active = 1 ORDER BY sls_code",
        (officer_id,),
    )
    return [Area(**dict(row)) for row in rows]
