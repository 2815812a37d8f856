"""The sent-log of scheduled messages, days off (izin) and reachability of officers."""

from __future__ import annotations

from datetime import date, datetime

import aiosqlite
from pydantic import BaseModel

DAY_OFF_REASONS = ("sakit", "cuti", "pelatihan", "lainnya")


class DayOff(BaseModel):
    officer_id: str
    day: date
    reason: str
    note: str | None = None


async def claim(
    conn: aiosqlite.Connection, kind: str, recipient: str, day: date, slot: str, now: datetime
) -> bool:
    """Claim one scheduled message; False when it was claimed before (sent or being sent)."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO sent_log (kind, recipient, day, slot, claimed_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (kind, recipient, day.isoformat(), slot, now.isoformat()),
    )
    return cur.rowcount == 1


async def finish(
    conn: aiosqlite.Connection, kind: str, recipient: str, day: date, slot: str, status: str,
    now: datetime,
) -> None:
    await conn.execute(
        "UPDATE sent_log SET status = ?, finished_at = ? WHERE kind = ? AND recipient = ?"
        " AND day = ? AND slot = ?",
        (status, now.isoformat(), kind, recipient, day.isoformat(), slot),
    )


async def sent_count(conn: aiosqlite.Connection, kind: str, day: date) -> int:
    async with conn.execute(
        "SELECT COUNT(*) FROM sent_log WHERE kind = ? AND day = ? AND status = 'sent'",
        (kind, day.isoformat()),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def set_day_off(conn: aiosqlite.Connection, item: DayOff, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO days_off (officer_id, day, reason, note, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (officer_id, day) DO UPDATE SET reason = excluded.reason,"
        " note = excluded.note",
        (item.officer_id, item.day.isoformat(), item.reason, item.note, now.isoformat()),
    )


async def days_off(
    conn: aiosqlite.Connection, *, day: date | None = None, until: date | None = None
) -> list[DayOff]:
    sql = "SELECT officer_id, day, reason, note FROM days_off WHERE 1 = 1"
    params: list[object] = []
    if day is not None:
        sql += " AND day = ?"
        params.append(day.isoformat())
    if until is not None:
        sql += " AND day <= ?"
        params.append(until.isoformat())
    async with conn.execute(sql, params) as cur:
        return [DayOff(**dict(row)) async for row in cur]


async def mark_unreachable(conn: aiosqlite.Connection, officer_id: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE officers SET unreachable_at = ? WHERE officer_id = ? AND unreachable_at IS NULL",
        (now.isoformat(), officer_id),
    )


async def mark_reachable(conn: aiosqlite.Connection, telegram_user_id: int) -> None:
    await conn.execute(
        "UPDATE officers SET unreachable_at = NULL WHERE telegram_user_id = ?"
        " AND unreachable_at IS NOT NULL",
        (telegram_user_id,),
    )


async def officers_to_remind(conn: aiosqlite.Connection, day: date) -> list[str]:
    """Active, reachable, registered PPL with no report and no day off on `day`."""
    async with conn.execute(
        "SELECT o.officer_id FROM officers o"
        " WHERE o.role = 'PPL' AND o.active = 1 AND o.telegram_chat_id IS NOT NULL"
        " AND o.unreachable_at IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.officer_id = o.officer_id"
        "                 AND r.report_date = ?)"
        " AND NOT EXISTS (SELECT 1 FROM days_off d WHERE d.officer_id = o.officer_id"
        "                 AND d.day = ?)"
        " ORDER BY o.officer_id",
        (day.isoformat(), day.isoformat()),
    ) as cur:
        return [row[0] async for row in cur]
