"""Migrations of an old database, online backup and the health check."""

from __future__ import annotations

import asyncio
import errno
import re
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest

from bot.cli import main
from db.connection import Database
from db.maintenance import backup, copy_database, row_counts
from db.migrations import available_migrations
from db.reports import save_report
from tests.support import (
    WIB,
    PgCluster,
    add_problem,
    at,
    clear_settings_env,
    link_officers,
    load_roster,
    query,
    with_password,
)

FIXTURE = Path(__file__).parent / "fixtures" / "schema_v1.sql"


def make_v1_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(FIXTURE.read_text(encoding="utf-8"))
    conn.close()


async def test_version_1_database_is_migrated_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    make_v1_database(path)
    db = Database(path)
    await db.open()
    try:
        async with db.conn.execute("SELECT MAX(version) FROM schema_migrations") as cur:
            assert (await cur.fetchone())[0] == len(available_migrations())
        async with db.conn.execute(
            "SELECT officer_id, telegram_user_id FROM officers ORDER BY officer_id"
        ) as cur:
            assert [tuple(r) async for r in cur] == [("K1", None), ("M1", 601), ("P1", 501)]
        async with db.conn.execute(
            "SELECT progress_value, revision, status FROM reports WHERE id = 1"
        ) as cur:
            assert tuple(await cur.fetchone()) == (12, 2, "submitted")
        async with db.conn.execute("SELECT COUNT(*) FROM report_revisions") as cur:
            assert (await cur.fetchone())[0] == 2
        # The report row now carries the submission of its current version (migration 6).
        async with db.conn.execute(
            "SELECT telegram_user_id, submission_token FROM reports WHERE id = 1"
        ) as cur:
            assert tuple(await cur.fetchone()) == (501, "501:bbbb")
        async with db.statement() as conn:  # the next version is kept as revision 3
            saved = await save_report(
                conn, officer_id="P1", report_date=date(2022, 10, 15), sls_code="1410012005001",
                values={"families": 15, "households": 13, "persons": 52}, progress_value=13,
                note=None, late=False, now=datetime(2022, 10, 16, 8, tzinfo=WIB),
                telegram_user_id=501, submission_token="501:cccc", replaces=2)
        assert saved is not None and saved.report.revision == 3
        async with db.conn.execute(
            "SELECT revision, progress_value, submission_token FROM report_revisions"
            " ORDER BY revision"
        ) as cur:
            assert [tuple(r) async for r in cur] == [
                (1, 10, "501:aaaa"), (2, 12, "501:bbbb"), (3, 13, "501:cccc")]
        async with db.conn.execute("SELECT data FROM bot_persistence") as cur:
            assert (await cur.fetchone())[0] == '"ask_value"'
        async with db.conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
    finally:
        await db.close()


def test_backup_and_check_from_the_command_line(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "live.db"
    make_v1_database(path)
    monkeypatch.setenv("DATABASE_PATH", str(path))
    assert main(["db", "check"]) == 1  # version 1: migrations pending
    assert "pending migrations: 2" in capsys.readouterr().out
    assert main(["db", "migrate"]) == 0
    assert main(["db", "check"]) == 0
    assert "integrity: ok" in capsys.readouterr().out

    # A reader holds the database open (as the running bot would) during the backup.
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM reports").fetchone()
    assert main(["db", "backup", str(tmp_path / "copy.db")]) == 0
    reader.rollback()
    reader.close()
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("SELECT progress_value FROM reports").fetchall() == [(12,)]
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    copy.close()
    assert main(["db", "backup", str(tmp_path / "copy.db")]) == 1  # never overwrites


async def test_a_backup_appears_only_whole_and_checked_and_a_failed_one_leaves_nothing(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "live.db")
    await db.open()
    try:
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
                [(n, "2022-10-17T18:00:00+07:00") for n in range(3000)],
            )
        folder = tmp_path / "cadangan"
        target = folder / "regsosek.db"
        during: list[tuple[bool, list[str]]] = []

        def watch(_status: int, _remaining: int, _total: int) -> None:
            during.append((target.exists(), sorted(p.name for p in folder.iterdir())))

        await backup(db.conn, target, progress=watch, pages=4)
        assert len(during) > 2  # copied in steps, the bot's writes going on between them
        for target_there, names in during:  # only a temporary file, in the target's folder
            assert not target_there
            assert names and all(n.startswith(".regsosek.db.") and ".partial" in n
                                 for n in names), names
        assert sorted(p.name for p in folder.iterdir()) == ["regsosek.db"]
        copy = sqlite3.connect(target)
        assert copy.execute("SELECT COUNT(*) FROM processed_updates").fetchone() == (3000,)
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        copy.close()

        def disk_fills_up(_status: int, remaining: int, total: int) -> None:
            if remaining < total // 2:
                raise OSError(errno.ENOSPC, "No space left on device")

        failed = folder / "gagal.db"
        with pytest.raises(OSError, match="No space left"):
            await backup(db.conn, failed, progress=disk_fills_up, pages=4)
        assert sorted(p.name for p in folder.iterdir()) == ["regsosek.db"]  # no partial file
    finally:
        await db.close()


# --- PostgreSQL -------------------------------------------------------------------------------


def pg_env(monkeypatch: pytest.MonkeyPatch, cwd: Path, url: str) -> None:
    clear_settings_env(monkeypatch, cwd)
    monkeypatch.setenv("DATABASE_URL", url)


async def test_migrate_check_and_status_on_postgresql(
    tmp_path: Path, monkeypatch, capsys, pg_cluster: PgCluster
) -> None:
    url = with_password(await pg_cluster.create("template0"), "s3cr3t")
    try:
        pg_env(monkeypatch, tmp_path, url)
        assert await asyncio.to_thread(main, ["db", "migrate"]) == 0
        assert await asyncio.to_thread(main, ["db", "check"]) == 0
        assert await asyncio.to_thread(main, ["status"]) == 1  # no bot to ask
        out = capsys.readouterr().out
        assert f"is at schema version {len(available_migrations('postgres'))}" in out
        assert "integrity: ok" in out and "pending migrations: none" in out
        # `db migrate` loads the default wilayah list; no roster yet.
        assert re.search(r"rows: .*wilayah_kecamatan [1-9]", out) and "officers 0" in out
        assert "database: reachable, schema version" in out
        assert "postgres:***@" in out and "s3cr3t" not in out
    finally:
        await pg_cluster.drop(url)


async def test_backup_of_postgresql_through_pg_dump(
    tmp_path: Path, monkeypatch, capsys, database: str, pg_cluster: PgCluster
) -> None:
    await load_roster(database, at(17), tmp_path)
    pg_env(monkeypatch, tmp_path, with_password(database, "s3cr3t"))
    # Without pg_dump on PATH: how to make one, nothing written.
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert await asyncio.to_thread(main, ["db", "backup", "dump.pg"]) == 1
    assert "pg_dump is not on PATH" in capsys.readouterr().err
    assert not (tmp_path / "dump.pg").exists()
    # With the server's own pg_dump (a client of the server's major version).
    monkeypatch.setenv("PATH", str(pg_cluster.bin_folder))
    assert await asyncio.to_thread(main, ["db", "backup", "dump.pg"]) == 0
    out = capsys.readouterr().out
    assert "written to dump.pg" in out and "s3cr3t" not in out
    assert (tmp_path / "dump.pg").read_bytes().startswith(b"PGDMP")
    assert [p.name for p in tmp_path.iterdir() if ".partial" in p.name] == []
    assert await asyncio.to_thread(main, ["db", "backup", "dump.pg"]) == 1  # never overwrites


@pytest.fixture
def engine() -> str:
    """The backup and copy tests above and below run on PostgreSQL; the others are about
    SQLite's files."""
    return "postgres"


async def test_copy_a_regency_into_postgresql_with_ids_kept(
    tmp_path: Path, monkeypatch, capsys, pg_cluster: PgCluster
) -> None:
    lite = tmp_path / "regsosek.db"
    await load_roster(lite, at(17), tmp_path)
    await link_officers(lite, {"P1": 501, "M1": 601})
    db = Database(lite)
    await db.open()
    try:
        for households, replaces in [(10, None), (12, 1)]:  # two versions of one report
            async with db.statement() as conn:
                await save_report(
                    conn, officer_id="P1", report_date=date(2022, 10, 17),
                    sls_code="1410012005001", values={"households": households},
                    progress_value=households, note=None, late=False, now=at(17),
                    telegram_user_id=501, submission_token=f"t{households}", replaces=replaces)
        await add_problem(db, latitude=1.25, longitude=102.5)
        expected = await row_counts(db.conn)
    finally:
        await db.close()
    url = await pg_cluster.create("template0")
    try:
        clear_settings_env(monkeypatch, tmp_path)
        monkeypatch.setenv("DATABASE_PATH", str(lite))
        assert await asyncio.to_thread(main, ["db", "copy", "--to", url]) == 0
        assert f"copied {sum(expected.values())} rows" in capsys.readouterr().out
        target = Database(url)
        await target.open()
        try:
            assert await row_counts(target.conn) == expected
            assert query(url, "SELECT id, revision, progress_value FROM report_revisions"
                              " ORDER BY id") == [(1, 1, 10), (2, 2, 12)]
            assert query(url, "SELECT telegram_user_id FROM officers WHERE officer_id = 'P1'"
                         ) == [(501,)]
            assert query(url, "SELECT latitude, longitude FROM problems") == [(1.25, 102.5)]
            # The sequences go on after the copied ids; the trigger makes revisions again.
            problem = await add_problem(target)
            assert problem.id == 2
            async with target.statement() as conn:
                saved = await save_report(
                    conn, officer_id="P1", report_date=date(2022, 10, 17),
                    sls_code="1410012005001", values={"households": 14}, progress_value=14,
                    note=None, late=False, now=at(17), replaces=2)
            assert saved is not None and saved.report.revision == 3
            assert query(url, "SELECT MAX(id), COUNT(*) FROM report_revisions") == [(3, 3)]
        finally:
            await target.close()
        # A database with data is never copied into.
        assert await asyncio.to_thread(main, ["db", "copy", "--to", url]) == 1
        assert "is not empty" in capsys.readouterr().err
    finally:
        await pg_cluster.drop(url)


async def test_a_copy_that_fails_midway_leaves_the_target_empty(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    lite = tmp_path / "regsosek.db"
    await load_roster(lite, at(17), tmp_path)
    # SQLite keeps a text in an INTEGER column; PostgreSQL refuses it, after officers.
    conn = sqlite3.connect(lite)
    conn.execute("UPDATE areas SET target_households = 'banyak' WHERE sls_code = ?",
                 ("1410012005001",))
    conn.commit()
    conn.close()
    url = await pg_cluster.create("template0")
    source, target = Database(lite), Database(url)
    await source.open()
    await target.open()
    try:
        with pytest.raises(ValueError):
            await copy_database(source, target)
        assert all(count == 0 for count in (await row_counts(target.conn)).values())
    finally:
        await source.close()
        await target.close()
        await pg_cluster.drop(url)
