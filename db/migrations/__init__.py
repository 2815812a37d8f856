"""Numbered SQL migrations (`<engine>/NNNN_name.sql`), applied in order and recorded in
`schema_migrations`. Each engine has its own folder of scripts (`sqlite/`, later `postgres/`),
numbered alike: migration N is the same change of schema on every engine."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import aiosqlite

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations(engine: str = "sqlite") -> list[Migration]:
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


async def applied_versions(conn: aiosqlite.Connection) -> list[int]:
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
    )
    async with conn.execute("SELECT version FROM schema_migrations ORDER BY version") as cur:
        return [row[0] async for row in cur]


async def apply_migrations(conn: aiosqlite.Connection) -> list[Migration]:
    """Apply every pending migration, each in its own transaction; return those applied."""
    done = set(await applied_versions(conn))
    applied = []
    for migration in available_migrations():
        if migration.version in done:
            continue
        script = (
            "BEGIN IMMEDIATE;\n"
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
