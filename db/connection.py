"""One long-lived connection per process, SQLite or PostgreSQL (db/engine.py), with explicit
transactions. SQLite: WAL, full syncs, foreign keys. PostgreSQL: `DATABASE_URL`.

A write either commits or leaves nothing behind: a failed `COMMIT` (disk full, I/O error,
database busy) is rolled back, `BEGIN`, `COMMIT` and `ROLLBACK` run to their end even when the
task is cancelled meanwhile, and a write that finds a transaction already open refuses to
join it. The connection is never left inside a transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import aiosqlite
import asyncpg

from db.engine import (
    POSTGRES,
    Connection,
    connect_postgres,
    dialect,
    engine_of,
    masked,
)
from db.migrations import apply_migrations
from db.runs import PgRunMark, RunMark

BUSY_TIMEOUT_MS = 10_000
# SQLite's answers to a write begun while this connection still reads (a cursor of another
# task not yet closed) and another process writes or wrote meanwhile: SQLITE_BUSY while the
# other holds the write lock, SQLITE_BUSY_SNAPSHOT after it committed. Neither waits for
# anybody (busy_timeout is not used: waiting in place could not end the read), so the write
# is tried again once that read is over (several processes on one file).
SQLITE_BUSY = 5
SQLITE_BUSY_SNAPSHOT = 517

T = TypeVar("T")
# Opens the SQLite connection for a path, in autocommit mode (isolation_level=None).
Opener = Callable[[str], Awaitable[aiosqlite.Connection]]


class StorageError(Exception):
    """The database cannot be used as the bot needs it; the message is one line for the
    operator (the command line prints it without a traceback)."""


class TransactionOpen(RuntimeError):
    """A write found a transaction already open on the connection: it refuses to become part
    of a transaction that someone else commits or rolls back."""


# What a write that stored nothing raises: the engine's errors (SQLite: disk full, I/O error,
# busy, a failed COMMIT; PostgreSQL: a conflict, a lost connection; each rolled back) and the
# refusal to join an open transaction.
WRITE_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError, TransactionOpen,
)


async def open_sqlite(path: str) -> aiosqlite.Connection:
    """The default opener: a plain aiosqlite connection in autocommit mode."""
    return await aiosqlite.connect(path, isolation_level=None)


async def _pragma(conn: aiosqlite.Connection, pragma: str) -> object:
    async with conn.execute(f"PRAGMA {pragma}") as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def connect(path: Path | str, *, opener: Opener | None = None) -> Connection:
    """Open a connection in autocommit mode; writes go through `Database.transaction()` or
    `Database.statement()`. `path`: a SQLite file, or a PostgreSQL URL (`postgresql://...`).

    WAL journal, checked: SQLite answers the mode it actually set, and a file system where it
    cannot keep a WAL (no shared memory: some network and shared folders) is refused with a
    StorageError. `synchronous=FULL`: a commit is on disk before it returns, so a report
    confirmed to an officer survives a power cut. `opener` (default `open_sqlite`) opens the
    SQLite connection itself; tests give their own.
    """
    if engine_of(path) == POSTGRES:
        return await _connect_postgres(str(path))
    in_memory = str(path) == ":memory:"
    if not in_memory:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = await (opener or open_sqlite)(str(path))
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open the database {path}: {exc}") from exc
    try:
        if conn.isolation_level is not None:
            raise ValueError("the opener must return a connection in autocommit mode")
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = await _pragma(conn, "journal_mode = WAL")
        if mode != "wal" and not in_memory:
            raise StorageError(
                f"the database {path} cannot use SQLite's WAL journal there (journal_mode stays"
                f" {mode}): put DATABASE_PATH on a local disk, not a network or shared folder"
            )
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.Error as exc:
        await conn.close()
        raise StorageError(f"cannot use the database {path}: {exc}") from exc
    except BaseException:
        await conn.close()
        raise
    return conn


async def _connect_postgres(url: str) -> Connection:
    """The PostgreSQL connection; errors name the database with its password masked."""
    try:
        return await connect_postgres(url)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = str(exc).replace(url, masked(url))
        raise StorageError(f"cannot open the database {masked(url)}: {reason}") from exc


async def _execute(conn: Connection, sql: str) -> None:
    await conn.execute(sql)


async def again_when_busy(attempt: Callable[[], Awaitable[T]]) -> T:
    """`attempt()`, tried again (for up to BUSY_TIMEOUT_MS) while SQLite answers
    SQLITE_BUSY_SNAPSHOT, or SQLITE_BUSY: a read of another task on this connection holds an
    old snapshot, or holds one while another process writes (a busy wait in place would not
    end it: SQLite does not make one)."""
    deadline = asyncio.get_running_loop().time() + BUSY_TIMEOUT_MS / 1000
    pause = 0.001
    while True:
        try:
            return await attempt()
        except sqlite3.OperationalError as exc:
            if (getattr(exc, "sqlite_errorcode", None) not in (SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT)
                    or asyncio.get_running_loop().time() > deadline):
                raise
        await asyncio.sleep(pause)
        pause = min(2 * pause, 0.05)


async def _uninterrupted(aw: Awaitable[T]) -> T:
    """Await `aw` to its end even when the calling task is cancelled meanwhile, then raise the
    cancellation. For BEGIN, COMMIT and ROLLBACK: aiosqlite runs them in its thread whatever
    happens to the task, and a caller that left early would go on (and release the lock)
    while the connection is still inside, or entering, a transaction."""
    task = asyncio.ensure_future(aw)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as exc:
            cancelled = exc  # the caller's: the shielded task itself is never cancelled
        except BaseException:
            pass  # the task's own error: `task.result()` raises it below
    if cancelled is not None:
        if not task.cancelled():
            task.exception()  # retrieved: the caller gets the cancellation
        raise cancelled
    return task.result()


class Database:
    """The process's connection plus a lock so that transactions never interleave.

    `path`: a SQLite file, or a PostgreSQL URL (`postgresql://user:password@host/db`).

    While open, it holds the mark of its run (db/runs.py): `run_id` names this run in the
    claims it makes, and `await at_work()` tells whether the run of another claim is still
    at work or was ended (by a crash) before it finished.

    `opener`: how the SQLite connection is opened (see `connect`); tests pass one that opens
    it their way, the product never does. `on_error` is told of each write that failed with
    one of `WRITE_ERRORS` (the bot counts them).
    """

    def __init__(self, path: Path | str, *, opener: Opener | None = None) -> None:
        self.path = path
        self.engine = engine_of(path)
        self.opener = opener
        self.on_error: Callable[[BaseException], None] | None = None
        self._conn: Connection | None = None
        self._open_lock = asyncio.Lock()
        self._tx_lock = asyncio.Lock()
        self._run: RunMark | PgRunMark = (
            PgRunMark() if self.engine == POSTGRES else RunMark(path)
        )

    def __repr__(self) -> str:
        return f"Database({masked(self.path)!r})"

    @property
    def name(self) -> str:
        """The database as it may be shown: a URL with its password masked."""
        return masked(self.path)

    @property
    def run_id(self) -> str:
        return self._run.run_id

    async def at_work(self) -> Callable[[str | None], bool]:
        """Whether the run that made a claim still runs (this one always does), as a predicate
        on run ids: the runs at work now."""
        return await self._run.at_work(self.conn)

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    async def open(self) -> Connection:
        """Open and migrate once; later calls return the same connection."""
        async with self._open_lock:
            if self._conn is None:
                conn = await connect(self.path, opener=self.opener)
                try:
                    await apply_migrations(conn)
                    await self._run.acquire(conn)
                except BaseException:
                    await conn.close()
                    raise
                self._conn = conn
        return self._conn

    async def close(self) -> None:
        async with self._open_lock:
            if self._conn is not None:
                try:
                    await self._conn.close()
                finally:
                    self._conn = None
                    self._run.release()

    async def write_fetchall(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
        """One statement with RETURNING as its own transaction (one call); the rows."""
        async with self.statement() as conn:
            return list(await again_when_busy(lambda: conn.execute_fetchall(sql, params)))

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[Connection]:
        """The connection for writes that are each one statement, so each its own transaction
        (autocommit): no transaction of another task is open meanwhile to take them in.

        A statement whose commit fails is rolled back by SQLite itself. One that would run
        inside an open transaction is refused (TransactionOpen), and a block that leaves one
        open has it rolled back and is refused too."""
        async with self._tx_lock:
            conn = self.conn
            _refuse_open(conn)
            try:
                yield conn
            except BaseException as exc:
                self._failed(exc)
                await _roll_back(conn)
                raise
            if conn.in_transaction:
                await _roll_back(conn)
                raise TransactionOpen("a statement() block left a transaction open: rolled back")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """`BEGIN IMMEDIATE` ... `COMMIT`, rolled back on any error, a failed COMMIT included.

        One writing transaction at a time, on either engine: SQLite's write lock, PostgreSQL's
        transaction-level advisory lock (db/engine.py `Dialect.begin`), taken at the start, so
        that what a transaction read is still so when it writes, whatever other processes do.

        BEGIN, COMMIT and ROLLBACK are not interrupted by a cancellation of the task: they run
        to their end, then the cancellation is raised (after the rollback, when it came before
        the commit). A transaction already open on the connection is refused (TransactionOpen).
        """
        async with self._tx_lock:
            conn = self.conn
            _refuse_open(conn)
            try:
                for begin in dialect(conn).begin:
                    await again_when_busy(
                        lambda begin=begin: _uninterrupted(_execute(conn, begin)))
                yield conn
                await _uninterrupted(_execute(conn, "COMMIT"))
            except BaseException as exc:
                self._failed(exc)
                await _roll_back(conn)
                raise

    def _failed(self, exc: BaseException) -> None:
        if self.on_error is not None and isinstance(exc, WRITE_ERRORS):
            self.on_error(exc)


def _refuse_open(conn: Connection) -> None:
    if conn.in_transaction:
        raise TransactionOpen(
            "a transaction is already open on the database connection (begun outside"
            " Database.transaction(), or left open): this write refuses to join it"
        )


async def _roll_back(conn: Connection) -> None:
    """Roll back whatever is open: after a failed COMMIT SQLite may or may not have."""
    if conn.in_transaction:
        await _uninterrupted(_execute(conn, "ROLLBACK"))
