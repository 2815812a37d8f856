"""Which Telegram updates were already handled (keyed on update_id)."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

from db.connection import Database

KEEP = timedelta(days=3)


RECORD = "INSERT OR IGNORE INTO processed_updates (update_id, processed_at) VALUES (?, ?)"


async def first_time(db: Database, update_id: int, now: datetime) -> bool:
    """Record the update (committed at once); False when it was recorded before."""
    return await db.write(RECORD, (update_id, now.isoformat())) == 1


async def forget_old(conn: aiosqlite.Connection, now: datetime) -> None:
    await conn.execute(
        "DELETE FROM processed_updates WHERE processed_at < ?", ((now - KEEP).isoformat(),)
    )
