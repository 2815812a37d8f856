"""Which Telegram updates were already handled (keyed on update_id)."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

KEEP = timedelta(days=3)


async def first_time(conn: aiosqlite.Connection, update_id: int, now: datetime) -> bool:
    """Record the update; False when it was recorded before (a repeated delivery)."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
        (update_id, now.isoformat()),
    )
    return cur.rowcount == 1


async def forget_old(conn: aiosqlite.Connection, now: datetime) -> None:
    await conn.execute(
        "DELETE FROM processed_updates WHERE processed_at < ?", ((now - KEEP).isoformat(),)
    )
