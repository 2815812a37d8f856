"""The engine layer (db/engine.py): placeholders, parameters, masked URLs, the migrations of
both engines, and PostgreSQL's concurrency: migrations from two processes at once, writers on
two connections, the marks of runs."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest

from db.connection import Database, StorageError, again_when_busy
from db.engine import adapt, engine_of, masked, translate
from db.migrations import available_migrations
from db.reports import get_report, revision_count, save_report
from tests.support import PgCluster, at, load_roster, query

DAY, SLS = date(2022, 10, 17), "1410012006001"


def test_placeholders_become_numbered_outside_quotes_comments_and_casts() -> None:
    assert translate("SELECT ? , '?', \"a?\" -- ?\n, ?::text /* ? */ WHERE x = ?") == (
        "SELECT $1 , '?', \"a?\" -- ?\n, $2::text /* ? */ WHERE x = $3", (0, 1, 2))
    assert translate("SELECT 'it''s ?', ?") == ("SELECT 'it''s ?', $1", (0,))
    # A name used twice is one parameter; `::` is a cast, not a name.
    assert translate("VALUES (:a, :b, :a::text, ':c')") == (
        "VALUES ($1, $2, $1::text, ':c')", ("a", "b"))
    with pytest.raises(ValueError):
        translate("SELECT ?, :a")


def test_parameters_are_stored_as_the_sqlite_code_stores_them() -> None:
    assert adapt(date(2022, 10, 17), "text") == "2022-10-17"
    assert adapt(datetime(2022, 10, 17, 18, 0), "text") == "2022-10-17T18:00:00"
    assert adapt(True, "int8") == 1 and adapt(False, "int8") == 0
    assert adapt(5, "text") == "5" and adapt("7", "int8") == 7
    assert adapt(2, "float8") == 2.0 and adapt(None, "int8") is None


def test_a_url_is_shown_without_its_password() -> None:
    url = "postgresql://regsosek:s3cr3t@db.example:5432/regsosek?sslmode=require"
    assert masked(url) == "postgresql://regsosek:***@db.example:5432/regsosek?sslmode=require"
    assert "s3cr3t" not in masked("postgresql://u@/db?host=/run/postgresql&password=s3cr3t")
    assert masked("postgresql://u@/db?host=/run/postgresql") == (
        "postgresql://u@/db?host=/run/postgresql")
    assert masked(Path("data/regsosek.db")) == "data/regsosek.db"
    assert engine_of(url) == "postgres" and engine_of(Path("x.db")) == "sqlite"


def test_both_engines_have_the_same_migrations() -> None:
    sqlite, postgres = available_migrations("sqlite"), available_migrations("postgres")
    assert [(m.version, m.name) for m in postgres] == [(m.version, m.name) for m in sqlite]


async def test_an_unreachable_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    db = Database(f"postgresql://regsosek:s3cr3t@/regsosek?host={tmp_path}")
    with pytest.raises(StorageError) as caught:
        await db.open()
    assert "s3cr3t" not in str(caught.value) and "***" in str(caught.value)
    assert "s3cr3t" not in repr(db)


async def test_the_same_schema_on_both_engines(tmp_path: Path, pg_cluster: PgCluster) -> None:
    lite = tmp_path / "regsosek.db"
    db = Database(lite)
    await db.open()
    await db.close()
    url = await pg_cluster.create()
    try:
        columns = {
            (table, column)
            for (table,) in query(url, "SELECT tablename FROM pg_tables"
                                       " WHERE schemaname = current_schema()")
            for (column,) in query(url, "SELECT column_name FROM information_schema.columns"
                                        " WHERE table_name = ?", table)
        }
        expected = {
            (table, column)
            for (table,) in query(lite, "SELECT name FROM sqlite_master WHERE type = 'table'")
            for (_, column, *_) in query(lite, f"PRAGMA table_info({table})")
        }
        assert columns == expected
    finally:
        await pg_cluster.drop(url)


async def test_two_processes_migrating_at_once_apply_each_migration_once(
    pg_cluster: PgCluster,
) -> None:
    url = await pg_cluster.create("template0")  # empty: nothing migrated yet
    first, second = Database(url), Database(url)
    try:
        await asyncio.gather(first.open(), second.open())
        versions = [row[0] for row in query(url, "SELECT version FROM schema_migrations")]
        assert sorted(versions) == [m.version for m in available_migrations("postgres")]
    finally:
        await first.close()
        await second.close()
        await pg_cluster.drop(url)


@pytest.fixture
def engine() -> str:
    """The races below are PostgreSQL's: on SQLite one connection of one process writes."""
    return "postgres"


async def test_writers_on_two_connections_lose_no_update(
    tmp_path: Path, database: str
) -> None:
    """Transactions that read, then write what they read plus one, on two connections at
    once: each one's increment survives (one writing transaction at a time)."""
    await load_roster(database, at(17), tmp_path)
    first, second = Database(database), Database(database)
    await first.open()
    await second.open()

    async def increment(db: Database) -> None:
        async with db.transaction() as conn:
            [(value,)] = await conn.execute_fetchall(
                "SELECT target_households FROM areas WHERE sls_code = ?", (SLS,))
            await asyncio.sleep(0)  # the other connection's turn, were it not locked out
            await conn.execute("UPDATE areas SET target_households = ? WHERE sls_code = ?",
                               (value + 1, SLS))

    try:
        await asyncio.gather(*(increment(db) for _ in range(20) for db in (first, second)))
        assert query(database, "SELECT target_households FROM areas WHERE sls_code = ?",
                     SLS) == [(120 + 40,)]
    finally:
        await first.close()
        await second.close()


async def test_replacements_racing_on_two_connections_make_one_version_each(
    tmp_path: Path, database: str
) -> None:
    """Two processes replace the same version of one report at once, many times: each
    version is replaced once, and the revisions run 1..n without a gap or a double."""
    await load_roster(database, at(17), tmp_path)
    first, second = Database(database), Database(database)
    await first.open()
    await second.open()

    async def save(db: Database, households: int, replaces: int | None) -> bool:
        async with db.statement() as conn:
            saved = await save_report(
                conn, officer_id="P2", report_date=DAY, sls_code=SLS,
                values={"households": households}, progress_value=households, note=None,
                late=False, now=at(17), replaces=replaces)
        return saved is not None

    try:
        won = await asyncio.gather(save(first, 1, None), save(second, 2, None))
        assert sorted(won) == [False, True]
        for revision in range(1, 11):
            won = await asyncio.gather(save(first, 10 + revision, revision),
                                       save(second, 20 + revision, revision))
            assert sorted(won) == [False, True]
        report = await get_report(first.conn, "P2", DAY, SLS)
        assert report is not None and report.revision == 11
        assert await revision_count(first.conn, report.id) == 11
        assert query(database, "SELECT revision FROM report_revisions ORDER BY revision") == [
            (n,) for n in range(1, 12)]
    finally:
        await first.close()
        await second.close()


async def test_a_run_is_at_work_while_its_connection_lives(database: str) -> None:
    first, second = Database(database), Database(database)
    await first.open()
    await second.open()
    try:
        at_work = await first.at_work()
        assert at_work(first.run_id) and at_work(second.run_id)
        assert not at_work(None) and not at_work("0123456789abcdef")
        gone = second.run_id
        await second.close()
        assert not (await first.at_work())(gone)
    finally:
        await first.close()
        await second.close()


def test_database_url_is_a_secret_setting(tmp_path: Path) -> None:
    from bot.settings import SettingsError, load_settings

    url = "postgresql://regsosek:s3cr3t@/regsosek?host=/run/postgresql"
    settings = load_settings(_env_file=None, database_url=url, database_path=tmp_path / "x.db")
    assert settings.database == url
    assert settings.database_name == "postgresql://regsosek:***@/regsosek?host=/run/postgresql"
    assert "s3cr3t" not in repr(settings) and "s3cr3t" not in str(settings.model_dump())
    assert load_settings(_env_file=None, database_url="", database_path=tmp_path / "x.db"
                         ).database == tmp_path / "x.db"
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, database_url="mysql://u:s3cr3t@h/db")
    assert "DATABASE_URL" in str(caught.value) and "s3cr3t" not in str(caught.value)


async def test_a_statement_prepared_before_another_process_migrates_is_prepared_again(
    database: str,
) -> None:
    bot, migrating = Database(database), Database(database)
    await bot.open()
    await migrating.open()
    try:
        sql = "SELECT update_id, processed_at FROM processed_updates"
        await bot.conn.execute_fetchall(sql)  # prepared: (bigint, text)
        async with migrating.transaction() as conn:  # a column added, another's type changed
            await conn.execute("ALTER TABLE processed_updates ADD COLUMN handled_by TEXT")
            await conn.execute("ALTER TABLE processed_updates ALTER COLUMN update_id TYPE numeric")
            await conn.execute("INSERT INTO processed_updates VALUES (1, 'x', 'y')")
        assert [tuple(row) for row in await bot.conn.execute_fetchall(sql)] == [(1, "x")]
    finally:
        await bot.close()
        await migrating.close()


async def test_a_write_refused_as_busy_at_once_is_tried_again(tmp_path: Path) -> None:
    """A connection that still reads (a cursor of another task) cannot take the write lock
    while another process holds it: SQLite answers SQLITE_BUSY at once, without waiting
    busy_timeout. The write is tried again, and goes through once the other is done."""
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    probe = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        holder.execute("CREATE TABLE t (x)")
        holder.execute("BEGIN IMMEDIATE")  # another process writes
        tries = 0

        async def begin() -> int:
            nonlocal tries
            tries += 1
            if tries == 1:
                try:
                    probe.execute("BEGIN IMMEDIATE")  # SQLITE_BUSY: the lock is taken
                finally:
                    holder.execute("COMMIT")  # ... and given back
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return tries

        assert await again_when_busy(begin) == 2
    finally:
        probe.close()
        holder.close()
