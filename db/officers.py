"""Officers of the roster: look-ups, Telegram links and the supervision tree."""

from __future__ import annotations

from datetime import datetime

from db.engine import Connection, Row
from db.models import Officer, Role

_COLUMNS = (
    "officer_id, name, role, supervisor_id, phone, kecamatan_code, desa_code, active,"
    " telegram_user_id, telegram_chat_id, unreachable_at"
)


def _officer(row: Row) -> Officer:
    return Officer(**dict(row))


async def get_officer(conn: Connection, officer_id: str) -> Officer | None:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM officers WHERE officer_id = ?", (officer_id,)
    ) as cur:
        row = await cur.fetchone()
    return _officer(row) if row else None


async def get_by_telegram_id(conn: Connection, telegram_user_id: int) -> Officer | None:
    rows = await conn.execute_fetchall(  # every update asks: one call to the database thread
        f"SELECT {_COLUMNS} FROM officers WHERE telegram_user_id = ?", (telegram_user_id,)
    )
    return _officer(next(iter(rows))) if rows else None


async def find_by_phone(conn: Connection, phone: str) -> list[Officer]:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM officers WHERE phone = ? AND active = 1", (phone,)
    ) as cur:
        return [_officer(row) async for row in cur]


async def link_telegram(
    conn: Connection, officer_id: str, telegram_user_id: int, chat_id: int, now: datetime
) -> None:
    await conn.execute(
        "UPDATE officers SET telegram_user_id = ?, telegram_chat_id = ?, linked_at = ?,"
        " updated_at = ? WHERE officer_id = ?",
        (telegram_user_id, chat_id, now.isoformat(), now.isoformat(), officer_id),
    )


async def unlink_telegram(
    conn: Connection, officer_id: str, now: datetime
) -> Officer | None:
    """Remove the officer's Telegram link (a lost phone, a replaced officer): from its next
    update on, the account is not recognised. The officer as it was before (with the account
    it was linked to), or None when there is no such officer."""
    before = await get_officer(conn, officer_id)
    if before is not None:
        await conn.execute(
            "UPDATE officers SET telegram_user_id = NULL, telegram_chat_id = NULL,"
            " linked_at = NULL, unreachable_at = NULL, updated_at = ? WHERE officer_id = ?",
            (now.isoformat(), officer_id),
        )
    return before


async def list_officers(
    conn: Connection, *, role: Role | None = None, active_only: bool = True
) -> list[Officer]:
    sql = f"SELECT {_COLUMNS} FROM officers WHERE 1 = 1"
    params: list[object] = []
    if role is not None:
        sql += " AND role = ?"
        params.append(role.value)
    if active_only:
        sql += " AND active = 1"
    sql += " ORDER BY officer_id"
    async with conn.execute(sql, params) as cur:
        return [_officer(row) async for row in cur]


async def subordinates(
    conn: Connection, officer_id: str, *, active_only: bool = True
) -> list[Officer]:
    """Everyone below `officer_id` in the supervision tree (not the officer itself)."""
    sql = f"""
        WITH RECURSIVE tree(officer_id) AS (
            SELECT officer_id FROM officers WHERE supervisor_id = ?
            UNION
            SELECT o.officer_id FROM officers o JOIN tree t ON o.supervisor_id = t.officer_id
        )
        SELECT {_COLUMNS} FROM officers WHERE officer_id IN (SELECT officer_id FROM tree)
        {"AND active = 1" if active_only else ""}
        ORDER BY officer_id
    """
    async with conn.execute(sql, (officer_id,)) as cur:
        return [_officer(row) async for row in cur]
