"""Several bots on one database: which bot serves which officer.

A bot serves the officers whose kecamatan code starts with one of its scope's prefixes
(BOT_SCOPE: `14` a province, `14.10` a kabupaten); an ADMIN, who has no kecamatan, is served
by the bot their account was linked through. An empty scope serves everyone (one bot for the
whole database, as a single regency runs it). Every bot records itself in `bots` at start, so
that another bot can name it to an officer who wrote to the wrong one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from db.engine import Connection
from db.models import Officer, Role


def _covers(prefixes: Sequence[str], code: str | None) -> bool:
    return code is not None and any(code == p or code.startswith(p + ".") for p in prefixes)


@dataclass(frozen=True)
class Scope:
    """This bot (`bot`: its username, '' when unknown) and the prefixes it serves."""

    bot: str = ""
    prefixes: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return not self.prefixes

    def covers(self, kecamatan_code: str | None) -> bool:
        """Whether an officer of that kecamatan is this bot's (an ADMIN: see `serves`)."""
        return self.everything or _covers(self.prefixes, kecamatan_code)

    def serves(self, officer: Officer, linked_bot: str | None) -> bool:
        if self.everything:
            return True
        if officer.role is Role.ADMIN:
            return linked_bot == self.bot
        return _covers(self.prefixes, officer.kecamatan_code)

    def where(self, alias: str = "o") -> tuple[str, list[object]]:
        """An SQL condition on the officers row `alias`: this bot serves that officer."""
        if self.everything:
            return "1 = 1", []
        tests = []
        params: list[object] = []
        for prefix in self.prefixes:
            tests.append(f"{alias}.kecamatan_code = ? OR {alias}.kecamatan_code LIKE ?")
            params += [prefix, prefix + ".%"]
        sql = (f"(({alias}.role <> 'ADMIN' AND ({' OR '.join(tests)}))"
               f" OR ({alias}.role = 'ADMIN' AND {alias}.linked_bot = ?))")
        return sql, [*params, self.bot]


@dataclass(frozen=True)
class BotRecord:
    username: str
    prefixes: tuple[str, ...]
    started_at: str


def _prefixes(text: str) -> tuple[str, ...]:
    return tuple(p for p in text.split(",") if p)


async def record(conn: Connection, scope: Scope, now: datetime) -> list[BotRecord]:
    """This bot and its scope, as of this start; returns the other bots whose scope overlaps
    it (two bots serving one officer is a configuration mistake)."""
    await conn.execute(
        "INSERT INTO bots (username, scope, started_at) VALUES (?, ?, ?)"
        " ON CONFLICT (username) DO UPDATE SET scope = excluded.scope,"
        " started_at = excluded.started_at",
        (scope.bot, ",".join(scope.prefixes), now.isoformat()),
    )
    overlapping = []
    for other in await list_bots(conn):
        if other.username == scope.bot:
            continue
        if (scope.everything or not other.prefixes
                or any(_covers(other.prefixes, p) for p in scope.prefixes)
                or any(_covers(scope.prefixes, p) for p in other.prefixes)):
            overlapping.append(other)
    return overlapping


async def list_bots(conn: Connection) -> list[BotRecord]:
    async with conn.execute(
        "SELECT username, scope, started_at FROM bots ORDER BY username"
    ) as cur:
        return [BotRecord(row[0], _prefixes(row[1]), row[2]) async for row in cur]


async def bot_for(conn: Connection, kecamatan_code: str | None) -> str | None:
    """The username of the bot that serves that kecamatan (the most specific scope), if any
    bot recorded one."""
    best: tuple[int, str] | None = None
    for other in await list_bots(conn):
        for prefix in other.prefixes:
            if _covers([prefix], kecamatan_code) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), other.username)
    return best[1] if best else None


async def linked_bot(conn: Connection, officer_id: str) -> str | None:
    async with conn.execute(
        "SELECT linked_bot FROM officers WHERE officer_id = ?", (officer_id,)
    ) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def set_linked_bot(conn: Connection, officer_id: str, bot: str | None) -> None:
    await conn.execute("UPDATE officers SET linked_bot = ? WHERE officer_id = ?", (bot, officer_id))


async def serves(conn: Connection, scope: Scope, officer_id: str) -> bool:
    """Whether this bot serves the officer (one on the roster)."""
    if scope.everything:
        return True
    where, params = scope.where()
    async with conn.execute(
        f"SELECT 1 FROM officers o WHERE o.officer_id = ? AND {where}", (officer_id, *params)
    ) as cur:
        return await cur.fetchone() is not None


async def served_ids(conn: Connection, scope: Scope) -> set[str] | None:
    """The officers this bot serves; None: everyone."""
    if scope.everything:
        return None
    where, params = scope.where()
    async with conn.execute(f"SELECT o.officer_id FROM officers o WHERE {where}", params) as cur:
        return {row[0] async for row in cur}
