"""Work areas (SLS) assigned to field officers, with their household targets."""

from __future__ import annotations

import aiosqlite

from db.models import Area

_COLUMNS = "sls_code, sls_name, desa_code, officer_id, target_households, active"


async def areas_of(conn: aiosqlite.Connection, officer_id: str) -> list[Area]:
    """The officer's active areas, in code order."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM areas WHERE officer_id = ? AND active = 1 ORDER BY sls_code",
        (officer_id,),
    ) as cur:
        return [Area(**dict(row)) async for row in cur]
