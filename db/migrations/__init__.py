"""Numbered SQL migrations (`<engine>/NNNN_name.sql`), applied in order and recorded in
`schema_migrations`. Each engine has its own folder of scripts (`sqlite/`, `postgres/`),
numbered and named alike: migration N is the same change of schema on every engine. Each is
applied in one transaction with its record; on PostgreSQL, processes that migrate at once
take turns (an advisory lock), so each migration is applied once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from db.engine import MIGRATION_LOCK, POSTGRES, SQLITE, Connection, dialect

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

# The record of the migrations applied, created before the first one, on each engine.
_RECORD = {
    SQLITE: "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))",
    POSTGRES: "CREATE TABLE IF NOT EXISTS schema_migrations ("
              " version BIGINT PRIMARY KEY, name TEXT NOT NULL,"
              " applied_at TEXT NOT NULL DEFAULT"
              " (to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')))",
}
_BEGIN = {SQLITE: "BEGIN IMMEDIATE", POSTGRES: "BEGIN"}


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations(engine: str = SQLITE) -> list[Migration]:
    found = []
    for entry in resources.files(__package__).joinpath(engine).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations are not numbered 1..n: {versions}")
    return found


async def applied_versions(conn: Connection) -> list[int]:
    await conn.execute(_RECORD[dialect(conn).name])
    async with conn.execute("SELECT version FROM schema_migrations ORDER BY version") as cur:
        return [row[0] async for row in cur]


async def apply_migrations(conn: Connection) -> list[Migration]:
    """Apply every pending migration, each in its own transaction; return those applied."""
    engine = dialect(conn).name
    if engine == POSTGRES:  # another process may be migrating the same database right now
        await conn.execute(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
    try:
        return await _apply_pending(conn, engine)
    finally:
        if engine == POSTGRES:
            await conn.execute(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")


async def _apply_pending(conn: Connection, engine: str) -> list[Migration]:
    done = set(await applied_versions(conn))
    applied = []
    for migration in available_migrations(engine):
        if migration.version in done:
            continue
        script = (
            f"{_BEGIN[engine]};\n"
            f"{migration.sql}\n;"
            f"INSERT INTO schema_migrations (version, name) VALUES ({migration.version}, "
            f"'{migration.name}');\nCOMMIT;"
        )
        try:
            await conn.executescript(script)
        except BaseException:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
        applied.append(migration)
    return applied
