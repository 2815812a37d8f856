"""Shared fixtures: an injected clock, the local Bot API, the database on each engine and the
real bot on the test roster. The helpers behind them are in tests/support.py.

Engines: every test that takes the `database` fixture (directly, or through `harness`) runs
on SQLite and on PostgreSQL (`engine`). The PostgreSQL server is started once per test
session (per xdist worker) from the pip package `pgserver`, on a unix socket in a temporary
folder, in the background as soon as the tests are collected, and stopped at the end; each
test gets its own database, a copy of a template with the migrations applied (made ahead:
`tests.support.PgCluster`).

On both engines: the repositories' tests (reports, roster, wilayah, problems, schedules,
broadcasts, digests, the update log, resend), the end-to-end tests that run distinct SQL
(reports by polling, problems, review, registration, digests on demand, announcements,
operations and /healthz), the real `python -m bot run` process (test_process), the engine's
own tests and PostgreSQL's maintenance (backup, check, copy). SQLite only, each module saying
why in its `engine` fixture: SQLite's own facts (test_storage_safety: failed COMMITs, WAL,
sqlite3 errors; test_maintenance's file backup and old-schema upgrade; test_crash: SIGKILL
of a process writing a file), and Telegram
behaviour that no SQL differs in (test_flows, test_interactions, test_gate,
test_e2e_field_texts, test_e2e_floods, the webhook variant of test_e2e_report, and the
modules with a harness of their own: test_access, test_properties, test_faults,
test_webhook), and two long scenarios whose SQL the others already run on PostgreSQL
(test_week, the 300-recipient announcement in test_e2e_broadcast).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.localapi import LocalBotApi
from tests.support import BotProcess, Harness, PgCluster, at, build_template, running_harness

ENGINES = ["sqlite", "postgres"]
# A RAM disk for the tests' files and servers, when there is one with room: a test then never
# waits on a disk that other work keeps busy (SQLite syncs each commit).
RAM_DISK = Path("/dev/shm")
RAM_DISK_ROOM = 4 * 1024**3


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_DEBUG_TEMPROOT") or not os.access(RAM_DISK, os.W_OK):
        return
    if shutil.disk_usage(RAM_DISK).free > RAM_DISK_ROOM:
        tempfile.tempdir = str(RAM_DISK)


@pytest.fixture(scope="session", autouse=True)
def database_template() -> None:
    """The SQLite template every test database is copied from, built before the first test:
    no test's injected clock runs while it is built."""
    asyncio.run(build_template())


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at(17))  # Monday 17 Oct 2022, 18:00 WIB


@pytest.fixture
async def api(clock: ManualClock) -> AsyncIterator[LocalBotApi]:
    """The local Bot API, dating messages by the test's clock (the bot's clock too)."""
    async with LocalBotApi(clock=clock) as server:
        yield server


# The longest tests (5 to 20 s each), run first so that the workers finish together instead of
# one of them starting a long test while the other has nothing left; the first ones run on
# SQLite only, while each worker's PostgreSQL server starts.
LONGEST_FIRST = (
    "tests/test_crash.py",
    "tests/test_week.py",
    "tests/test_e2e_broadcast.py::test_300_recipients",
    "tests/test_e2e_floods.py::test_a_stranger_flooding",
    "tests/test_faults.py",
    "tests/test_process.py",
    "tests/test_resend.py",
    "tests/test_multibot.py::test_two_bot_processes",
    "tests/test_wilayah.py::test_the_national_list",
    "tests/test_maintenance.py",
    "tests/test_schedules.py",
    "tests/test_cli.py",
)


def _rank(item: pytest.Item) -> int:
    return next((rank for rank, prefix in enumerate(LONGEST_FIRST)
                 if item.nodeid.startswith(prefix)), len(LONGEST_FIRST))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest tests first (`LONGEST_FIRST`). When tests on PostgreSQL are to run, the
    server is started at once, in a thread: it starts (and its template is migrated) while
    the first tests run on SQLite."""
    items.sort(key=_rank)
    if hasattr(config, "workerinput") or not config.getoption("numprocesses", None):
        if any("postgres" in item.name for item in items):
            PG_START.begin()


class PgStart:
    """The session's PostgreSQL server, started in a thread of its own (`begin`) or on first
    use (`cluster`), stopped and its folder removed at the end of the session (`end`)."""

    def __init__(self) -> None:
        self.pool: ThreadPoolExecutor | None = None
        self.future: Future[PgCluster] | None = None
        self.folder: Path | None = None

    def begin(self) -> None:
        if self.future is None:
            self.folder = Path(tempfile.mkdtemp(prefix="regsosek-pg-"))
            self.pool = ThreadPoolExecutor(1, thread_name_prefix="pg-start")
            self.future = self.pool.submit(PgCluster, self.folder)

    def cluster(self) -> PgCluster:
        self.begin()
        assert self.future is not None
        return self.future.result()

    def end(self) -> None:
        if self.future is None:
            return
        try:
            if self.future.exception() is None:
                self.future.result().stop()
        finally:
            assert self.pool is not None and self.folder is not None
            self.pool.shutdown()
            shutil.rmtree(self.folder, ignore_errors=True)
            self.future = None


PG_START = PgStart()


def pytest_sessionfinish(session: pytest.Session) -> None:
    PG_START.end()


@pytest.fixture(scope="session")
def pg_cluster() -> PgCluster:
    """The session's PostgreSQL server (started early in the background, or on first use;
    stopped and removed at the end), in a temporary folder of its own."""
    return PG_START.cluster()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The database engine of the test; a module overrides it to run on one engine only."""
    return request.param


@pytest.fixture
async def database(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Path | str]:
    """Where the test's data is: a SQLite file in `tmp_path`, or the URL of a PostgreSQL
    database of its own with the migrations applied (dropped after the test)."""
    if engine == "sqlite":
        yield tmp_path / "regsosek.db"
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    url = await cluster.create()
    try:
        yield url
    finally:
        await cluster.drop(url)


@pytest.fixture
async def processes() -> AsyncIterator[list[BotProcess]]:
    """Every bot process a test starts; all are killed at the end, whatever happened."""
    started: list[BotProcess] = []
    try:
        yield started
    finally:
        for process in started:
            await process.kill()


@pytest.fixture
def mode() -> str:
    """How the harness's bot gets its updates; a module overrides this fixture with
    `params=["polling", "webhook"]` to run its tests both ways."""
    return "polling"


@pytest.fixture
async def harness(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock, mode: str, database: Path | str
) -> AsyncIterator[Harness]:
    async with running_harness(api, tmp_path, clock, mode=mode, database=database) as h:
        yield h
    if mode == "webhook":  # the updates really came by the webhook
        assert api.webhook_deliveries and not api.calls("getUpdates")
