"""Which runs (processes that opened the database) are still at work.

Each open `Database` holds an exclusive lock on a mark file of its own, named after a random
run id, in the folder `<database file>-runs` next to the database. The operating system drops
the lock when the process ends, however it ends (a crash, SIGKILL, a power cut), so another
run can tell one that is gone from one still at work: it can take the lock of the first, not
of the second. The sent-log records the run id of each claim (db/schedule.py): a claim whose
run is gone was left by a crash, and its message may not have gone out.

The locks are `flock` locks (Linux, macOS, the BSDs). They belong to the open file, so two
databases opened in one process are two runs, as two processes are. Where there is no flock
(Windows), and for a database in memory, another run always counts as at work: its claims
are never taken over.

On PostgreSQL (`PgRunMark`) the mark is a session-level advisory lock on a key drawn from the
run id, held by the run's connection: the server drops it when that connection ends, however
the process ended, and `pg_locks` tells which runs of this database still hold theirs.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.engine import Connection

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

_RUN_ID = re.compile(r"^[0-9a-f]{16}$")


def runs_folder(database: Path | str) -> Path | None:
    """The folder of the marks of a database file; None for a database in memory."""
    if str(database) == ":memory:":
        return None
    return Path(f"{database}-runs")


class RunMark:
    """This run's mark, locked from `acquire()` until `release()` (or the end of the process)."""

    def __init__(self, database: Path | str) -> None:
        self.run_id = secrets.token_hex(8)
        self._folder = runs_folder(database) if fcntl is not None else None
        self._fd: int | None = None

    async def acquire(self, conn: Connection | None = None) -> None:
        self.lock()

    async def at_work(self, conn: Connection | None = None) -> Callable[[str | None], bool]:
        return self.is_at_work

    def lock(self) -> None:
        if self._folder is None or self._fd is not None:
            return
        self._folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._folder / self.run_id, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Remove the mark: this run's claims count as left from now on."""
        if self._fd is None or self._folder is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self._folder / self.run_id)
        os.close(self._fd)
        self._fd = None

    def is_at_work(self, run_id: str | None) -> bool:
        """Whether the run `run_id` still holds its mark. This run always does; a claim made
        before runs were recorded (None) has no run at work."""
        if run_id == self.run_id:
            return True
        if run_id is None:
            return False
        if self._folder is None:
            return True  # cannot be told: never take over another run's claims
        if not _RUN_ID.match(run_id):
            return False
        path = self._folder / run_id
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return False  # released, or cleared away after its run ended
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # also drops the lock just taken
        with contextlib.suppress(OSError):  # left by a run that ended without releasing it
            os.unlink(path)
        return False


def _key(run_id: str) -> int:
    """The advisory lock key (a signed bigint) of a run id (16 hex digits)."""
    value = int(run_id, 16)
    return value - (1 << 64) if value >= 1 << 63 else value


# The runs of this database that hold their mark: the advisory locks (bigint keys, so
# `objsubid = 1`), the key's upper half in `classid`, its lower half in `objid`.
_HELD = (
    "SELECT lpad(to_hex((classid::bigint << 32) | objid::bigint), 16, '0') FROM pg_locks"
    " WHERE locktype = 'advisory' AND objsubid = 1 AND granted"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


class PgRunMark:
    """This run's mark on PostgreSQL: held by the connection from `acquire(conn)` until the
    connection closes."""

    def __init__(self) -> None:
        self.run_id = secrets.token_hex(8)

    async def acquire(self, conn: Connection | None = None) -> None:
        assert conn is not None
        await conn.execute(f"SELECT pg_advisory_lock({_key(self.run_id)})")

    def release(self) -> None:
        """Nothing to do: closing the connection drops the lock."""

    async def at_work(self, conn: Connection | None = None) -> Callable[[str | None], bool]:
        assert conn is not None
        held = {row[0] for row in await conn.execute_fetchall(_HELD)}
        mine = self.run_id

        def is_at_work(run_id: str | None) -> bool:
            if run_id == mine:
                return True
            return run_id is not None and _RUN_ID.match(run_id) is not None and run_id in held

        return is_at_work
