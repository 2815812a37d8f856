"""The two engines behind one connection API: SQLite (aiosqlite) and PostgreSQL (asyncpg).

The repositories (db/*.py) take a `Connection` and use the API of aiosqlite's connection:
`await conn.execute(sql, params)` or `async with conn.execute(...) as cur`, `execute_fetchall`,
`executemany`, `cur.fetchone()/fetchall()`, `async for row in cur`, `cur.rowcount`, rows as
`row["name"]` and `row[0]`, `?` (or `:name`) placeholders. An aiosqlite connection is one;
`PgConnection` is the other, over one asyncpg connection. Everything that differs between the
engines is here, once per concept:

- placeholders: `translate` turns `?` and `:name` into PostgreSQL's `$n` (quotes, comments
  and `::` casts left alone);
- parameters: `adapt` stores dates, times and booleans as the SQLite code does (ISO text,
  0/1), and fits a value to the type PostgreSQL infers for its parameter (so the PostgreSQL
  schema keeps SQLite's column types: TEXT dates, integer flags);
- results: PostgreSQL's `numeric` (SUM, AVG) comes back as int or float, as from SQLite;
- `Dialect`: the few fragments of SQL that no portable form covers.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

import aiosqlite
import asyncpg

SQLITE = "sqlite"
POSTGRES = "postgres"

_URL_SCHEMES = ("postgresql", "postgres")


def is_postgres_url(target: object) -> bool:
    """Whether a database target names a PostgreSQL database (a libpq URI)."""
    return isinstance(target, str) and urlsplit(target).scheme in _URL_SCHEMES


def engine_of(target: object) -> str:
    return POSTGRES if is_postgres_url(target) else SQLITE


def masked(target: object) -> str:
    """The target as it may be shown (logs, errors, status): a URL's password as `***`."""
    text = str(target)
    if not is_postgres_url(text):
        return text
    parts = urlsplit(text)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}:***@{netloc.rpartition('@')[2]}"
    query = re.sub(r"(?i)(^|&)password=[^&]*", r"\1password=***", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


# A row of a result: `row["name"]`, `row[0]`, `dict(row)` (aiosqlite.Row or asyncpg.Record).
Row = Any


def without_password(url: str) -> tuple[str, str | None]:
    """The URL without its password (in the user part or as `password=`), and the password:
    for a child process (pg_dump), which gets it through its environment instead."""
    parts = urlsplit(url)
    password = parts.password
    netloc = parts.netloc
    if password is not None:
        user = parts.username or ""
        netloc = f"{user}@{netloc.rpartition('@')[2]}" if user else netloc.rpartition("@")[2]
    kept = []
    for item in parts.query.split("&") if parts.query else []:
        name, _, value = item.partition("=")
        if name.lower() == "password":
            password = value
        else:
            kept.append(item)
    stripped = urlunsplit(parts._replace(netloc=netloc, query="&".join(kept)))
    return stripped, None if password is None else unquote(password)


class Cursor(Protocol):
    rowcount: int

    async def fetchone(self) -> Any: ...

    async def fetchall(self) -> Iterable[Any]: ...

    def __aiter__(self) -> AsyncIterator[Any]: ...


class Connection(Protocol):
    """What the repositories use of a connection; aiosqlite's and `PgConnection` both are."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, parameters: Any = None) -> Any: ...

    async def execute_fetchall(self, sql: str, parameters: Any = None) -> Iterable[Any]: ...

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Any: ...

    async def executescript(self, sql: str) -> Any: ...

    async def close(self) -> None: ...


# --- SQL that differs ---------------------------------------------------------------------


# PostgreSQL advisory lock keys (bigint) of the project: the one writing transaction at a
# time, and the migrations. A run's mark (db/runs.py) is a key drawn at random.
WRITE_LOCK = 0x7265_6773_6F73_0001
MIGRATION_LOCK = 0x7265_6773_6F73_0002


@dataclass(frozen=True)
class Dialect:
    name: str
    # What opens a writing transaction: one writer at a time (see Database.transaction).
    begin: tuple[str, ...]
    # A subquery of the text values of a JSON array given as one parameter (`?`).
    json_texts: str
    # The names of the tables of the schema.
    tables: str
    # A column the planner should read without its index (format with the column's name).
    unindexed: str


DIALECTS = {
    SQLITE: Dialect(
        SQLITE, ("BEGIN IMMEDIATE",), "SELECT value FROM json_each(?)",
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name", "+{}",
    ),
    POSTGRES: Dialect(
        POSTGRES, ("BEGIN", f"SELECT pg_advisory_xact_lock({WRITE_LOCK})"),
        "SELECT value FROM json_array_elements_text(CAST(? AS json))",
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1", "{}",
    ),
}


def dialect(conn: Connection) -> Dialect:
    return DIALECTS[POSTGRES if isinstance(conn, PgConnection) else SQLITE]


# --- placeholders and parameters --------------------------------------------------------------

_NAME_START = re.compile(r"[A-Za-z_]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@lru_cache(maxsize=2048)
def translate(sql: str) -> tuple[str, tuple[int | str, ...]]:
    """`?` and `:name` placeholders as `$1`, `$2`, ...; with, for each `$n`, the index (for
    `?`) or the name (for `:name`) of its parameter. A name used twice is one `$n`. Text in
    quotes, comments and `::` casts are left as they are."""
    out: list[str] = []
    order: list[int | str] = []
    names: dict[str, int] = {}
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            end = sql.find(ch, i + 1)
            while end != -1 and end + 1 < n and sql[end + 1] == ch:  # '' inside quotes
                end = sql.find(ch, end + 2)
            end = n if end == -1 else end + 1
            out.append(sql[i:end])
            i = end
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end == -1 else end
            out.append(sql[i:end])
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end == -1 else end + 2
            out.append(sql[i:end])
            i = end
        elif ch == "?":
            order.append(len(order))
            out.append(f"${len(order)}")
            i += 1
        elif ch == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
        elif ch == ":" and i + 1 < n and _NAME_START.match(sql[i + 1]):
            name = _NAME.match(sql, i + 1)[0]  # type: ignore[index]
            if name not in names:
                order.append(name)
                names[name] = len(order)
            out.append(f"${names[name]}")
            i += 1 + len(name)
        else:
            out.append(ch)
            i += 1
    if any(isinstance(o, str) for o in order) and any(isinstance(o, int) for o in order):
        raise ValueError("a statement mixes ? and :name placeholders")
    return "".join(out), tuple(order)


_TEXT_TYPES = {"text", "varchar", "bpchar", "name", "unknown", "json", "jsonb"}
_INT_TYPES = {"int2", "int4", "int8", "oid"}
_FLOAT_TYPES = {"float4", "float8"}


def adapt(value: object, type_name: str) -> object:
    """A parameter as the SQLite code stores it, of the type PostgreSQL expects there."""
    if value is None:
        return None
    if isinstance(value, bool):
        value = int(value)
    elif isinstance(value, datetime | date | time):
        value = value.isoformat()
    if type_name in _TEXT_TYPES:
        return value if isinstance(value, str) else str(value)
    if type_name in _INT_TYPES and isinstance(value, str | float | Decimal):
        return int(value)
    if type_name in _FLOAT_TYPES and isinstance(value, str | int | Decimal):
        return float(value)
    if type_name == "numeric" and isinstance(value, str | float):
        return Decimal(str(value))
    return value


def _arguments(order: tuple[int | str, ...], parameters: Any, types: Sequence[str]) -> list:
    if parameters is None:
        parameters = ()
    if isinstance(parameters, Mapping):
        values = [parameters[name] for name in order]
    else:
        parameters = tuple(parameters)
        if len(parameters) != len(order):
            raise ValueError(f"the statement has {len(order)} placeholders,"
                             f" {len(parameters)} parameters were given")
        values = list(parameters)
    return [adapt(v, t) for v, t in zip(values, types, strict=True)]


def _numeric(text: str) -> int | float:
    """`numeric` results (SUM and AVG of integers) as SQLite gives them: int or float."""
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


_COUNT = re.compile(r"^(?:INSERT \d+|UPDATE|DELETE|SELECT|MERGE|COPY|FETCH|MOVE) ?(\d+)$")


def _rowcount(status: str | None) -> int:
    match = _COUNT.match(status or "")
    return int(match[1]) if match else -1


# --- PostgreSQL -----------------------------------------------------------------------------


class PgCursor:
    """The rows of one statement (all fetched), as an aiosqlite cursor offers them."""

    lastrowid = None  # PostgreSQL has none: the repositories use RETURNING

    def __init__(self, rows: list[asyncpg.Record], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    async def fetchone(self) -> asyncpg.Record | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list[asyncpg.Record]:
        rows, self._next = self._rows[self._next:], len(self._rows)
        return rows

    async def fetchmany(self, size: int = 1) -> list[asyncpg.Record]:
        rows = self._rows[self._next:self._next + size]
        self._next += len(rows)
        return rows

    async def close(self) -> None:
        return None

    async def __aiter__(self) -> AsyncIterator[asyncpg.Record]:
        while (row := await self.fetchone()) is not None:
            yield row


class _Pending:
    """What `PgConnection.execute` returns: awaitable, and an async context manager, like
    aiosqlite's."""

    def __init__(self, run: Any) -> None:
        self._run = run

    def __await__(self):
        return self._run.__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run

    async def __aexit__(self, *exc: object) -> None:
        return None


STATEMENTS = 1024  # statements kept prepared, and shapes known, per connection


@dataclass(frozen=True)
class _Shape:
    """What a statement needs before it runs: its text with `$n`, where each parameter comes
    from, the type PostgreSQL infers for each, and whether it returns rows."""
    text: str
    order: tuple[int | str, ...]
    types: tuple[str, ...]
    returns_rows: bool


class PgConnection:
    """One asyncpg connection with aiosqlite's API (see the module's docstring).

    One statement at a time (asyncpg allows no more): tasks that share it take turns, as they
    do on aiosqlite's thread. Statements run through asyncpg's own statement cache (prepared
    once per connection, and prepared again when another process changed the schema); the
    shape of each (`_Shape`) is learnt once."""

    engine = POSTGRES

    def __init__(self, raw: asyncpg.Connection) -> None:
        self.raw = raw
        self._lock = asyncio.Lock()
        self._shapes: dict[str, _Shape] = {}

    @property
    def in_transaction(self) -> bool:
        return self.raw.is_in_transaction()

    async def _shape(self, sql: str) -> _Shape:
        shape = self._shapes.get(sql)
        if shape is None:
            text, order = translate(sql)
            stmt = await self.raw.prepare(text)
            shape = _Shape(text, order, tuple(t.name for t in stmt.get_parameters()),
                           bool(stmt.get_attributes()))
            if len(self._shapes) >= STATEMENTS:  # SQL built with a varying number of `?`
                self._shapes.pop(next(iter(self._shapes)))
            self._shapes[sql] = shape
        return shape

    async def _run(self, sql: str, parameters: Any) -> PgCursor:
        async with self._lock:
            shape = await self._shape(sql)
            arguments = _arguments(shape.order, parameters, shape.types)
            if shape.returns_rows:
                rows = await self.raw.fetch(shape.text, *arguments)
                return PgCursor(rows, len(rows))
            status = await self.raw.execute(shape.text, *arguments)
            return PgCursor([], _rowcount(status))

    def execute(self, sql: str, parameters: Any = None) -> _Pending:
        return _Pending(self._run(sql, parameters))

    async def execute_fetchall(self, sql: str, parameters: Any = None) -> list[asyncpg.Record]:
        return (await self._run(sql, parameters))._rows

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> PgCursor:
        async with self._lock:
            shape = await self._shape(sql)
            rows = [_arguments(shape.order, p, shape.types) for p in parameters]
            if rows:
                await self.raw.executemany(shape.text, rows)
            return PgCursor([], -1)

    async def executescript(self, sql: str) -> None:
        """Several statements without parameters (a migration), as they are."""
        async with self._lock:
            self._shapes.clear()  # the schema may change under the statements
            await self.raw.execute(sql)

    async def close(self) -> None:
        await self.raw.close()


async def connect_postgres(url: str) -> PgConnection:
    raw = await asyncpg.connect(url, statement_cache_size=STATEMENTS)
    try:
        await raw.set_type_codec("numeric", schema="pg_catalog", encoder=str, decoder=_numeric,
                                 format="text")
    except BaseException:
        await raw.close()
        raise
    return PgConnection(raw)


# What a failed statement raises on each engine.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    aiosqlite.Error, asyncpg.PostgresError, asyncpg.InterfaceError,
)
