"""A confirmed report is a committed report: failed commits, cancelled writers, an open
transaction and a file system without WAL, on the real database and through the real bot."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.connection import Database, StorageError, TransactionOpen
from tests.support import Harness, eventually, no_wal


@pytest.fixture
def engine() -> str:
    """SQLite only: failed COMMITs made by SQLite's temporary triggers and deferred
    constraints, WAL, sqlite3 errors (tests/test_engine.py has PostgreSQL's transactions)."""
    return "sqlite"


INSERT = "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, '2022-10-17')"


class FailingCommits:
    """While armed, the COMMIT of a write to `table` fails, as a full disk or an I/O error
    would make it fail: a temporary trigger breaks a deferred constraint, which SQLite checks
    at COMMIT (an explicit one, or the implicit one of a statement in autocommit mode). A
    failed explicit COMMIT leaves the transaction open: SQLite's worst case. TEMP objects:
    only this connection has them, nothing reaches the database file."""

    def __init__(self, db: Database, table: str) -> None:
        self.db = db
        self.table = table

    async def arm(self) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS commit_fault_parent (id INTEGER PRIMARY KEY)"
            )
            await conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS commit_fault (armed INTEGER NOT NULL,"
                " parent INTEGER REFERENCES commit_fault_parent (id)"
                " DEFERRABLE INITIALLY DEFERRED)"
            )
            await conn.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS commit_fault_{self.table}"
                f" AFTER INSERT ON main.{self.table}"
                " WHEN EXISTS (SELECT 1 FROM commit_fault WHERE armed)"
                " BEGIN INSERT INTO commit_fault (armed, parent) VALUES (0, -1); END"
            )
            await conn.execute("INSERT INTO commit_fault (armed) VALUES (1)")

    async def disarm(self) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM commit_fault")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "regsosek.db")
    await database.open()
    yield database
    await database.close()


async def insert(db: Database, update_id: int) -> list[int]:
    """One statement under `Database.statement()`; the ids it inserted."""
    rows = await db.write_fetchall(f"{INSERT} RETURNING update_id", (update_id,))
    return [row[0] for row in rows]


async def stored(db: Database) -> list[int]:
    rows = await db.conn.execute_fetchall("SELECT update_id FROM processed_updates ORDER BY 1")
    return [row[0] for row in rows]


async def test_a_commit_that_fails_is_rolled_back_and_the_next_write_is_stored(
    db: Database,
) -> None:
    faults = FailingCommits(db, "processed_updates")
    await faults.arm()
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(INSERT, (1,))
    assert not db.conn.in_transaction
    with pytest.raises(sqlite3.IntegrityError):  # one statement: its own implicit COMMIT
        await insert(db, 2)
    assert not db.conn.in_transaction
    assert await stored(db) == []

    await faults.disarm()
    async with db.transaction() as conn:
        await conn.execute(INSERT, (3,))
    assert await insert(db, 4) == [4]
    assert await stored(db) == [3, 4]
    assert not db.conn.in_transaction


async def test_a_cancelled_writer_leaves_no_transaction_open(db: Database) -> None:
    # Cancelled between BEGIN and COMMIT: rolled back.
    inside = asyncio.Event()

    async def write_and_wait() -> None:
        async with db.transaction() as conn:
            await conn.execute(INSERT, (1,))
            inside.set()
            await asyncio.Event().wait()  # until cancelled

    task = asyncio.create_task(write_and_wait())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not db.conn.in_transaction
    assert await stored(db) == []

    # Cancelled while its BEGIN waits for the write lock another process holds: the BEGIN
    # runs to its end, then the transaction is rolled back and the cancellation raised.
    other = sqlite3.connect(db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    beginning = asyncio.Event()

    async def write() -> None:
        beginning.set()  # nothing awaited from here to the BEGIN
        async with db.transaction() as conn:
            await conn.execute(INSERT, (2,))

    task = asyncio.create_task(write())
    await beginning.wait()
    task.cancel()
    other.rollback()
    other.close()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not db.conn.in_transaction

    async with db.transaction() as conn:  # the next writer is not inside anybody's BEGIN
        await conn.execute(INSERT, (3,))
    assert await stored(db) == [3]
    assert not db.conn.in_transaction


async def test_a_write_refuses_to_join_an_open_transaction(db: Database) -> None:
    await db.conn.execute("BEGIN")  # begun outside Database.transaction()
    with pytest.raises(TransactionOpen, match="already open"):
        await insert(db, 1)
    with pytest.raises(TransactionOpen, match="already open"):
        async with db.transaction() as conn:
            await conn.execute(INSERT, (2,))
    await db.conn.execute("ROLLBACK")

    with pytest.raises(TransactionOpen, match="left a transaction open"):
        async with db.statement() as conn:
            await conn.execute("BEGIN")
            await conn.execute(INSERT, (3,))
    assert not db.conn.in_transaction
    assert await stored(db) == []
    assert await insert(db, 4) == [4]


async def test_every_commit_is_synced_to_disk(db: Database) -> None:
    async with db.conn.execute("PRAGMA synchronous") as cur:
        assert (await cur.fetchone())[0] == 2  # FULL: a confirmed report survives a power cut
    async with db.conn.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"


async def test_a_file_system_without_wal_is_refused_in_one_line(tmp_path: Path) -> None:
    db = Database(tmp_path / "regsosek.db", opener=no_wal)
    with pytest.raises(StorageError) as refused:
        await db.open()
    message = str(refused.value)
    assert "WAL" in message and str(tmp_path / "regsosek.db") in message
    assert "\n" not in message
    assert not db.is_open


def text_of(message) -> str:
    return message.text or ""


async def test_a_report_whose_commit_fails_is_not_confirmed_and_kirim_stores_it_again(
    harness: Harness,
) -> None:
    panji = await harness.register("P2", 502)
    await panji.send("/lapor 12 14 51")
    summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    faults = FailingCommits(harness.db, "reports")
    await faults.arm()

    await panji.press(summary, "Kirim")
    failed = await panji.wait_for(lambda m: "belum tersimpan" in text_of(m))
    assert "Mohon maaf" in failed.text and "tekan Kirim sekali lagi" in failed.text
    assert not any("Laporan tersimpan" in text_of(m) for m in panji.inbox)
    assert await harness.scalar("SELECT COUNT(*) FROM reports") == 0
    # The failed transaction is not left open (another writer, the conversation state or the
    # update log, may hold one for a moment: it ends).
    await eventually(lambda: not harness.db.conn.in_transaction)
    live = harness.api.message(summary.chat_id, summary.message_id)
    assert "Kirim" in [b.text for b in live.buttons()]  # the draft is kept: press again

    await faults.disarm()  # the disk has room again
    await panji.press(summary, "Kirim")
    saved = await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    assert "12 dari 120 ruta" in saved.text
    assert await harness.scalar("SELECT COUNT(*) FROM reports") == 1
    assert await harness.scalar("SELECT COUNT(*) FROM report_revisions") == 1

    prabu = await harness.register("P3", 503)  # the next report is stored as usual
    await prabu.send("/lapor 5 6 20")
    summary = await prabu.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    await prabu.press(summary, "Kirim")
    await prabu.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    assert await harness.scalar("SELECT COUNT(*) FROM reports") == 2
    await eventually(lambda: not harness.db.conn.in_transaction)
