"""What an operator's health check reads from the database: the schema version and the
announcement messages still waiting. Reads only; nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass

from db.engine import Connection


@dataclass(frozen=True)
class DatabaseStatus:
    schema_version: int
    outbox_backlog: int  # announcement messages pending or being sent


async def read_status(conn: Connection) -> DatabaseStatus:
    async with conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") as cur:
        row = await cur.fetchone()
    version = int(row[0]) if row else 0
    async with conn.execute(
        "SELECT COUNT(*) FROM broadcast_recipients WHERE status IN ('pending', 'sending')"
    ) as cur:
        row = await cur.fetchone()
    return DatabaseStatus(schema_version=version, outbox_backlog=int(row[0]) if row else 0)
