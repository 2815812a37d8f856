"""Online backup and health check of the database, safe while the bot is running."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from db.engine import Connection
from db.migrations import applied_versions, available_migrations


class CheckResult(BaseModel):
    integrity: list[str]
    applied: list[int]
    pending: list[int]

    @property
    def ok(self) -> bool:
        return self.integrity == ["ok"] and not self.pending


class BackupError(Exception):
    """The copy was not written: the reason is one line for the operator."""


# Called after each step of the copy with (status, pages remaining, pages in all).
Progress = Callable[[int, int, int], object]


async def backup(conn: Connection, target: Path, *, progress: Progress | None = None,
                 pages: int = 256) -> None:
    """A consistent copy through SQLite's online backup API (readers and the writer go on).

    The copy is written to a temporary file in the target's folder, checked (`PRAGMA
    integrity_check`), synced, then renamed into place: `target` is a whole checked copy or
    does not exist. A failed backup leaves no partial file. `progress` follows the copy, each
    `pages` pages (called in the database's thread); whatever it raises stops the backup."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise FileExistsError(f"{target} already exists")
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                    dir=target.parent)
    os.close(handle)
    partial = Path(name)
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
    async with conn.execute("PRAGMA integrity_check") as cur:
        integrity = [row[0] async for row in cur]
    applied = await applied_versions(conn)
    pending = [m.version for m in available_migrations() if m.version not in set(applied)]
    return CheckResult(integrity=integrity, applied=applied, pending=pending)
