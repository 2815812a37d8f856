"""Online backup and health check of the database, safe while the bot is running."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
from pydantic import BaseModel

from db.migrations import applied_versions, available_migrations


class CheckResult(BaseModel):
    integrity: list[str]
    applied: list[int]
    pending: list[int]

    @property
    def ok(self) -> bool:
        return self.integrity == ["ok"] and not self.pending


async def backup(conn: aiosqlite.Connection, target: Path) -> None:
    """A consistent copy through SQLite's online backup API (readers and the writer go on)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise FileExistsError(f"{target} already exists")
    copy = sqlite3.connect(target, check_same_thread=False)
    try:
        await conn.backup(copy, pages=256, sleep=0.01)
    finally:
        copy.close()


async def check(conn: aiosqlite.Connection) -> CheckResult:
    async with conn.execute("PRAGMA integrity_check") as cur:
        integrity = [row[0] async for row in cur]
    applied = await applied_versions(conn)
    pending = [m.version for m in available_migrations() if m.version not in set(applied)]
    return CheckResult(integrity=integrity, applied=applied, pending=pending)
