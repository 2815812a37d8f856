"""Online backup and health check of the database, safe while the bot is running, on either
engine; and the copy of a regency's SQLite database into PostgreSQL (`db copy`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

import aiosqlite
from pydantic import BaseModel

from db.connection import Database
from db.engine import POSTGRES, SQLITE, Connection, dialect, masked, without_password
from db.migrations import applied_versions, available_migrations


class CheckResult(BaseModel):
    integrity: list[str]
    applied: list[int]
    pending: list[int]
    # Rows per table (schema_migrations aside).
    counts: dict[str, int] = {}

    @property
    def ok(self) -> bool:
        return self.integrity == ["ok"] and not self.pending


class BackupError(Exception):
    """The copy was not written: the reason is one line for the operator."""


# Called after each step of the copy with (status, pages remaining, pages in all).
Progress = Callable[[int, int, int], object]


async def backup(conn: aiosqlite.Connection, target: Path, *, progress: Progress | None = None,
                 pages: int = 256) -> None:
    """A consistent copy through SQLite's online backup API (readers and the writer go on).

    The copy is written to a temporary file in the target's folder, checked (`PRAGMA
    integrity_check`), synced, then renamed into place: `target` is a whole checked copy or
    does not exist. A failed backup leaves no partial file. `progress` follows the copy, each
    `pages` pages (called in the database's thread); whatever it raises stops the backup."""
    partial = _partial_file(target)
    try:
        copy = sqlite3.connect(partial, check_same_thread=False)
        try:
            await conn.backup(copy, pages=pages, sleep=0.01, progress=progress)
        finally:
            copy.close()
        integrity = await asyncio.to_thread(_integrity, partial)
        if integrity != ["ok"]:
            raise BackupError(f"the copy failed its integrity check ({'; '.join(integrity)}):"
                              f" {target} not written")
        if target.exists():  # written by someone else meanwhile: never overwritten
            raise FileExistsError(f"{target} already exists")
        os.replace(partial, target)
        await asyncio.to_thread(_sync_folder, target.parent)
    except BaseException:
        for leftover in ("", "-journal", "-wal", "-shm"):
            Path(f"{partial}{leftover}").unlink(missing_ok=True)
        raise


def _partial_file(target: Path) -> Path:
    """A new empty temporary file in the target's folder, for a copy renamed into place when
    whole; FileExistsError when the target exists (a backup never overwrites one)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise FileExistsError(f"{target} already exists")
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                    dir=target.parent)
    os.close(handle)
    return Path(name)


def _integrity(path: Path) -> list[str]:
    """`PRAGMA integrity_check` of a closed database file, and the file synced to disk."""
    copy = sqlite3.connect(path)
    try:
        found = [row[0] for row in copy.execute("PRAGMA integrity_check")]
    finally:
        copy.close()
    with open(path, "rb") as file:
        os.fsync(file.fileno())
    return found


def _sync_folder(folder: Path) -> None:
    """The rename itself on disk (where the system allows a folder to be synced)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # a system that cannot open a folder has nothing to sync
        return
    try:
        with contextlib.suppress(OSError):  # a file system that cannot sync a folder
            os.fsync(handle)
    finally:
        os.close(handle)


async def check(conn: Connection) -> CheckResult:
    """SQLite: `PRAGMA integrity_check`; PostgreSQL checks its own pages (its answer to a
    query is the check). Both: the migrations applied and pending, and rows per table."""
    engine = dialect(conn).name
    if engine == SQLITE:
        async with conn.execute("PRAGMA integrity_check") as cur:
            integrity = [row[0] async for row in cur]
    else:
        integrity = ["ok"] if await conn.execute_fetchall("SELECT 1") else ["no answer"]
    applied = await applied_versions(conn)
    pending = [m.version for m in available_migrations(engine) if m.version not in set(applied)]
    return CheckResult(integrity=integrity, applied=applied, pending=pending,
                       counts=await row_counts(conn))


async def tables(conn: Connection) -> list[str]:
    """The tables of the schema, schema_migrations aside."""
    rows = await conn.execute_fetchall(dialect(conn).tables)
    return [row[0] for row in rows if row[0] != "schema_migrations"]


async def row_counts(conn: Connection) -> dict[str, int]:
    counts = {}
    for table in await tables(conn):
        [(count,)] = await conn.execute_fetchall(f'SELECT COUNT(*) FROM "{table}"')
        counts[table] = int(count)
    return counts


# --- PostgreSQL's backup --------------------------------------------------------------------

PG_DUMP_HINT = (
    "install PostgreSQL's client tools of the server's major version (Debian/Ubuntu:"
    " apt-get install postgresql-client), or run pg_dump yourself:"
    " pg_dump --format=custom --file=FILE DATABASE_URL"
)


async def pg_backup(url: str, target: Path, *, pg_dump: str | None = None) -> None:
    """A consistent copy of a PostgreSQL database through `pg_dump` (custom format: restore it
    with `pg_restore`), while the bot runs. As for SQLite, the dump goes to a temporary file
    renamed into place when whole: `target` is a whole dump or does not exist. The password
    reaches pg_dump through its environment, never its command line."""
    pg_dump = pg_dump or shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(f"pg_dump is not on PATH: {PG_DUMP_HINT}")
    partial = _partial_file(target)
    bare, password = without_password(url)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    try:
        process = await asyncio.create_subprocess_exec(
            pg_dump, "--format=custom", "--no-password", f"--file={partial}", bare,
            env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        _, errors = await process.communicate()
        if process.returncode != 0:
            lines = errors.decode(errors="replace").strip().splitlines() or ["no message"]
            reason = lines[-1].replace(url, masked(url))
            if password:
                reason = reason.replace(password, "***")
            raise BackupError(f"pg_dump failed ({reason}): {target} not written")
        await asyncio.to_thread(_sync_file, partial)
        if target.exists():
            raise FileExistsError(f"{target} already exists")
        os.replace(partial, target)
        await asyncio.to_thread(_sync_folder, target.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _sync_file(path: Path) -> None:
    with open(path, "rb") as file:
        os.fsync(file.fileno())


# --- SQLite to PostgreSQL -------------------------------------------------------------------


class CopyError(Exception):
    """The copy was refused; nothing was written. One line for the operator."""


BATCH = 5000  # rows per INSERT batch


async def copy_database(source: Database, target: Database) -> dict[str, int]:
    """Copy every table of an open SQLite database into an open, migrated and empty
    PostgreSQL database, ids kept, in one transaction: all or nothing. The identity sequences
    then continue after the copied ids. Returns the rows copied per table."""
    if source.engine != SQLITE or target.engine != POSTGRES:
        raise CopyError("db copy copies a SQLite database into a PostgreSQL database")
    src = source.conn
    if await applied_versions(src) != await applied_versions(target.conn):
        raise CopyError("the two databases are not at the same schema version: run"
                        " `db migrate` on both with this version of the bot")
    order = await _dependency_order(src)
    copied: dict[str, int] = {}
    async with target.transaction() as conn:
        filled = {t: n for t, n in (await row_counts(conn)).items() if n}
        if filled:
            table, count = next(iter(filled.items()))
            raise CopyError(f"the target database {target.name} is not empty ({table}:"
                            f" {count} rows): copy into a new, empty database")
        for table in order:  # the rows as they are: no trigger makes revisions again
            await conn.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        for table in order:
            copied[table] = await _copy_table(src, conn, table)
        for table in order:
            await conn.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
        for table, column in await conn.execute_fetchall(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'"
        ):
            await conn.execute(
                f'SELECT setval(pg_get_serial_sequence(?, ?),'
                f' COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)',
                (table, column))
    return copied


async def _dependency_order(conn: Connection) -> list[str]:
    """The tables, each after the tables its foreign keys refer to."""
    refers: dict[str, set[str]] = {}
    for table in await tables(conn):
        rows = await conn.execute_fetchall(f'PRAGMA foreign_key_list("{table}")')
        refers[table] = {row["table"] for row in rows} - {table}
    order: list[str] = []
    while refers:
        ready = sorted(t for t, needs in refers.items() if needs <= set(order))
        if not ready:
            raise CopyError(f"foreign keys in a cycle: {', '.join(sorted(refers))}")
        order.extend(ready)
        for table in ready:
            del refers[table]
    return order


async def _copy_table(src: Connection, dst: Connection, table: str) -> int:
    columns = [row["name"] for row in await src.execute_fetchall(f'PRAGMA table_info("{table}")')]
    names = ", ".join(f'"{c}"' for c in columns)
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    rows = [tuple(row) for row in await src.execute_fetchall(f'SELECT {names} FROM "{table}"')]
    for refers, referred in await _self_references(src, table):
        rows = _parents_first(rows, columns.index(refers), columns.index(referred))
    for start in range(0, len(rows), BATCH):
        await dst.executemany(insert, rows[start:start + BATCH])
    return len(rows)


async def _self_references(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(column, referred column) of each foreign key of a table to itself (a supervisor)."""
    rows = await conn.execute_fetchall(f'PRAGMA foreign_key_list("{table}")')
    return [(row["from"], row["to"]) for row in rows if row["table"] == table]


def _parents_first(rows: list[tuple], refers: int, referred: int) -> list[tuple]:
    """The rows, each after the row it refers to (foreign keys are checked at once): column
    `refers` holds the `referred` column's value of another row, or NULL."""
    placed: set[object] = set()
    ordered: list[tuple] = []
    waiting = rows
    while waiting:
        later = []
        for row in waiting:
            if row[refers] is None or row[refers] in placed:
                ordered.append(row)
                placed.add(row[referred])
            else:
                later.append(row)
        if len(later) == len(waiting):  # they refer to no row at all: the database says so
            ordered.extend(later)
            break
        waiting = later
    return ordered
