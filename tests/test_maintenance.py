"""Migrations of an old database, online backup and the health check."""

from __future__ import annotations

import errno
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest

from bot.cli import main
from db.connection import Database
from db.maintenance import backup
from db.migrations import available_migrations
from db.reports import save_report
from tests.support import WIB

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
