"""Waking the other bots' processes at once when rows are left for them (several bots on one
database, db/bots.py): on PostgreSQL, `notify` in the transaction that writes the rows sends a
NOTIFY at its commit, and each process's `Listener` (LISTEN on a connection of its own) hears
it. SQLite has no such thing: there the processes poll (OUTBOX_POLL_SECONDS), and so do they
on PostgreSQL when the listening connection is lost."""

from __future__ import annotations

import logging
from collections.abc import Callable

import asyncpg

from db.engine import POSTGRES, Connection, dialect

log = logging.getLogger(__name__)

CHANNEL = "regsosek_outbox"


async def notify(conn: Connection) -> None:
    """New rows for the outboxes (delivered at commit); nothing on SQLite."""
    if dialect(conn).name == POSTGRES:
        await conn.execute("SELECT pg_notify(?, '')", (CHANNEL,))


class Listener:
    """LISTEN on a dedicated PostgreSQL connection: `on_notify()` for each NOTIFY."""

    def __init__(self, url: str, on_notify: Callable[[], None]) -> None:
        self._url = url
        self._on_notify = on_notify
        self._conn: asyncpg.Connection | None = None

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def start(self) -> bool:
        """Listen; False (polling only) when the connection cannot be made."""
        try:
            conn = await asyncpg.connect(self._url)
            await conn.add_listener(CHANNEL, self._heard)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("no LISTEN connection (%s): the outbox polls only", type(exc).__name__)
            return False
        conn.add_termination_listener(self._lost)
        self._conn = conn
        return True

    def _heard(self, *_args: object) -> None:
        self._on_notify()

    def _lost(self, *_args: object) -> None:
        log.warning("the LISTEN connection was lost: the outbox polls only")

    async def stop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            await conn.close()
