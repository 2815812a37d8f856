"""One long-lived connection per process: WAL, foreign keys, explicit transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from db.migrations import apply_migrations

BUSY_TIMEOUT_MS = 10_000


async def connect(path: Path | str) -> aiosqlite.Connection:
    """Open a connection in autocommit mode; writes go through `Database.transaction()`."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    conn.row_factory = aiosqlite.Row
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class Database:
    """The process's connection plus a lock so that transactions never interleave."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._open_lock = asyncio.Lock()
        self._tx_lock = asyncio.Lock()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    async def open(self) -> aiosqlite.Connection:
        """Open and migrate once; later calls return the same connection."""
        async with self._open_lock:
            if self._conn is None:
                conn = await connect(self.path)
                try:
                    await apply_migrations(conn)
                except BaseException:
                    await conn.close()
                    raise
                self._conn = conn
        return self._conn

    async def close(self) -> None:
        async with self._open_lock:
            if self._conn is not None:
                await self._conn.close()
                self._conn = None

    async def write_fetchall(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
        """One statement with RETURNING as its own transaction (one call); the rows."""
        async with self.statement() as conn:
            return list(await conn.execute_fetchall(sql, params))

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection for writes that are each one statement, so each its own transaction
        (autocommit): no transaction of another task is open meanwhile to take them in."""
        async with self._tx_lock:
            yield self.conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """`BEGIN IMMEDIATE` ... `COMMIT`, rolled back on any error."""
        conn = self.conn
        async with self._tx_lock:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            else:
                await conn.execute("COMMIT")
