"""Helpers shared by the test modules: the test roster, settings, the harness around the real
bot, the real bot process, and the steps of a few flows. Fixtures are in conftest.py."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import inspect
import os
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiosqlite
import asyncpg
import pytest

from bot.app import build_application, services_of
from bot.clock import Clock
from bot.localapi import LocalBotApi, SentMessage, SimUser
from bot.settings import Settings
from bot.web import BotRunner
from db import problems as problems_repo
from db.connection import Database
from db.engine import connect_postgres, is_postgres_url
from db.registration import codes_for_unlinked
from db.roster import import_roster
from db.wilayah import ensure_default_wilayah

WIB = ZoneInfo("Asia/Jakarta")
ADMIN_TELEGRAM_ID = 9001
WEBHOOK_SECRET = "test-webhook-secret_1"

# Two kecamatan: Tebing Tinggi (KOSEKA K1; PML M1 with PPL P1 and P2, PML M2 with P3) and
# Merbau (KOSEKA K2; PML M3 with PPL P4).
OFFICERS_CSV = """officer_id,name,role,supervisor_id,phone,kecamatan_code,desa_code
A1,Admin Kabupaten,ADMIN,,081200000001,,
K1,Kartini Koseka,KOSEKA,,081200000002,14.10.01,
M1,Mahmud PML,PML,K1,081200000003,14.10.01,
M2,Maryam PML,PML,K1,081200000004,14.10.01,
P1,Putri PPL,PPL,M1,081200000005,14.10.01,14.10.01.2005
P2,Panji PPL,PPL,M1,081200000006,14.10.01,14.10.01.2006
P3,Prabu PPL,PPL,M2,081200000007,14.10.01,14.10.01.2008
K2,Kurnia Koseka,KOSEKA,,081200000012,14.10.05,
M3,Melati PML,PML,K2,081200000013,14.10.05,
P4,Pandu PPL,PPL,M3,081200000014,14.10.05,14.10.05.1001
"""

AREAS_CSV = """officer_id,sls_code,sls_name,desa_code,target_households
P1,1410012005001,RT 001 Banglas,14.10.01.2005,100
P1,1410012005002,RT 002 Banglas,14.10.01.2005,80
P2,1410012006001,RT 001 Alah Air,14.10.01.2006,120
P3,1410012008001,RT 001 Sesap,14.10.01.2008,90
P4,1410051001001,RT 001 Teluk Belitung,14.10.05.1001,70
"""


def at(day: int, hour: int = 18, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2022, month, day, hour, minute, tzinfo=WIB)


def text_of(message: SentMessage) -> str:
    return message.text or ""


def free_port() -> int:
    """A port nobody listens on right now (the bot's webhook listener takes it next)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_overrides(port: int | None = None) -> dict[str, object]:
    """Settings of webhook mode: the local Bot API delivers to the bot on 127.0.0.1."""
    port = port or free_port()
    return {
        "webhook_url": f"http://127.0.0.1:{port}/telegram/webhook",
        "webhook_secret": WEBHOOK_SECRET,
        "webhook_listen": f"127.0.0.1:{port}",
    }


def make_settings(
    tmp_path: Path, api: LocalBotApi | None = None, *, database: Path | str | None = None,
    **overrides: object,
) -> Settings:
    """The test's settings; `database` (the `database` fixture: a SQLite file or a PostgreSQL
    URL) is where its data is, by default a SQLite file in `tmp_path`."""
    values: dict[str, object] = {
        "telegram_bot_token": api.token if api else "123456:TEST-TOKEN",
        "database_path": tmp_path / "regsosek.db",
        "admin_telegram_ids": [ADMIN_TELEGRAM_ID],
        "persistence_flush_seconds": 0.05,
        "chat_message_interval": 0,
        # The injected clock stands still, so a test's updates all arrive in the same second:
        # no flood limit, except in the tests of it (tests/test_e2e_floods.py).
        "chat_updates_per_second": 0,
        # Jobs fire on the real clock; tests run them through the injected clock instead.
        "schedule_jobs": False,
        # The local Bot API shares the test's event loop, which a loaded machine may keep
        # waiting for seconds: no request times out by accident (tests of timeouts set theirs).
        "telegram_read_timeout": 30.0,
    }
    # Never the DATABASE_URL of the shell the tests run in.
    values["database_url"] = database if is_postgres_url(database) else None
    if database is not None and not is_postgres_url(database):
        values["database_path"] = database
    if api is not None:
        values["telegram_api_base_url"] = api.base_url
        values["telegram_api_base_file_url"] = api.base_file_url
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


_template: list[Path] = []  # the SQLite database every test database starts from, once built


async def build_template() -> Path:
    """The SQLite database every test database starts from: the migrations and the national
    wilayah list (loading 83,762 desa takes over a second: once per test process; on
    PostgreSQL, `PgCluster`'s template database holds them)."""
    if not _template:
        folder = Path(tempfile.mkdtemp(prefix="regsosek-template-"))
        atexit.register(shutil.rmtree, folder, True)
        template = Database(folder / "template.db")
        await template.open()
        try:
            await ensure_default_wilayah(template)
        finally:
            await template.close()
        _template.append(folder / "template.db")
    return _template[0]


async def seeded_database(target: Path | str) -> Database:
    """A database at `target` (not open): a SQLite file is copied from the template when
    there is none yet; a PostgreSQL URL is a copy of the cluster's template already."""
    if not is_postgres_url(target) and not Path(target).exists():
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(await build_template(), target)
    return Database(target)


# (officers, areas, moment of the import, on PostgreSQL) -> the SQLite file it made (or the
# URL of a copy of the PostgreSQL database it made), and its codes
_rostered: dict[tuple[str, str, str, bool], tuple[Path | str, dict[str, str]]] = {}


async def load_roster(
    db_path: Path | str, now: datetime, tmp_path: Path, officers: str = OFFICERS_CSV,
    areas: str = AREAS_CSV,
) -> dict[str, str]:
    """Import the test roster (or `officers` and `areas`) into a database (a SQLite file or a
    PostgreSQL URL); returns officer_id -> registration code."""
    officers_file = tmp_path / "officers.csv"
    areas_file = tmp_path / "areas.csv"
    officers_file.write_text(officers, encoding="utf-8")
    areas_file.write_text(areas, encoding="utf-8")
    # A new database gets a copy of the one this roster was imported into before (the import
    # reads the national list to check the codes: a third of a second each time): a new
    # SQLite file, or a PostgreSQL database as the cluster made it (`PgCluster.untouched`).
    cluster = PgCluster.untouched.pop(str(db_path), None)
    key = (officers, areas, now.isoformat(), cluster is not None)
    fresh = cluster is not None or (
        not is_postgres_url(db_path) and not Path(db_path).exists())
    if fresh and key in _rostered:
        made, codes = _rostered[key]
        if cluster is not None:
            await cluster.replace(str(db_path), str(made))
        else:
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(made, db_path)
        return dict(codes)
    db = await seeded_database(db_path)
    await db.open()
    try:
        await ensure_default_wilayah(db)
        await import_roster(db, officers_file, areas_file, now=now)
        async with db.transaction() as conn:
            found = await codes_for_unlinked(conn, now)
    finally:
        await db.close()
    codes = {c.officer_id: c.code for c in found}
    if cluster is not None:
        made = await cluster.keep(str(db_path))
        if made is not None:
            _rostered[key] = (made, dict(codes))
    elif fresh and not Path(f"{db_path}-wal").exists():  # all of it in the one file
        made = (await build_template()).with_name(f"roster-{len(_rostered)}.db")
        shutil.copyfile(db_path, made)
        _rostered[key] = (made, dict(codes))
    return codes


async def link_officers(db_path: Path | str, chats: dict[str, int]) -> None:
    """Link officers to Telegram accounts (chat id == user id) without the bot."""
    db = Database(db_path)
    await db.open()
    try:
        async with db.transaction() as conn:
            for officer_id, chat in chats.items():
                await conn.execute(
                    "UPDATE officers SET telegram_user_id = ?, telegram_chat_id = ?"
                    " WHERE officer_id = ?", (chat, chat, officer_id))
    finally:
        await db.close()


class Harness:
    """The real application against the local Bot API; can be restarted on the same database
    (with other settings or another clock: set them before `restart`).

    Started as `python -m bot run` starts it (`bot.web.BotRunner`): polling, or a webhook
    the local Bot API delivers to when the settings have `webhook_url`."""

    def __init__(
        self, api: LocalBotApi, settings: Settings, clock: Clock, codes: dict[str, str],
        **build: Any,
    ):
        self.api = api
        self.settings = settings
        self.clock = clock
        self.codes = codes
        self.build = build
        self.app = None
        self.runner: BotRunner | None = None

    async def start(self) -> None:
        self.app = build_application(self.settings, clock=self.clock, **self.build)
        self.runner = BotRunner(self.app, self.settings, poll_timeout=1)
        await self.runner.start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.stop()
            self.runner = None
            self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    @property
    def db(self) -> Database:
        assert self.app is not None
        return services_of(self.app).db

    async def register(self, officer_id: str, user_id: int) -> SimUser:
        user = self.api.user(user_id, first_name=officer_id)
        await user.send(f"/start {self.codes[officer_id]}")
        await user.wait_for(lambda m: "Selamat datang" in (m.text or ""))
        return user

    async def scalar(self, sql: str, *params: object) -> object:
        async with self.db.conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def column(self, sql: str, *params: object) -> list[object]:
        """The first value of each row."""
        return [row[0] for row in await self.db.conn.execute_fetchall(sql, params)]


@asynccontextmanager
async def running_harness(
    api: LocalBotApi, tmp_path: Path, clock: Clock, *, mode: str = "polling",
    database: Path | str | None = None, roster: tuple[str, str] = (OFFICERS_CSV, AREAS_CSV),
    **overrides: object,
) -> AsyncIterator[Harness]:
    """The test roster (or `roster`: officers and areas CSV) loaded and the real bot started,
    with settings `overrides`, getting its updates in `mode` (polling or webhook), on
    `database` (see `make_settings`)."""
    if mode == "webhook":
        overrides = {**webhook_overrides(), **overrides}
    settings = make_settings(tmp_path, api, database=database, **overrides)
    codes = await load_roster(settings.database, clock.now(), tmp_path, *roster)
    h = Harness(api, settings, clock, codes)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


async def eventually(probe: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll `probe` (plain or async) until it is truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached before the deadline")
        await asyncio.sleep(0.005)


# --- settings from the environment ----------------------------------------------------------

SETTING_NAMES = [name.upper() for name in Settings.model_fields]


def database_env(settings: Settings) -> dict[str, str]:
    """The environment that names the settings' database to another process (the command
    line, a child): DATABASE_PATH, and DATABASE_URL on PostgreSQL."""
    env = {"DATABASE_PATH": str(settings.database_path)}
    if settings.database_url is not None:
        env["DATABASE_URL"] = settings.database_url.get_secret_value()
    return env


def cli_env(harness: Harness, monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    """The environment of a command line run beside the harness's bot: its local API, its
    database, no pause between messages, and `extra` settings; run in the database's folder."""
    monkeypatch.chdir(harness.settings.database_path.parent)
    for name, value in {
        "TELEGRAM_BOT_TOKEN": harness.api.token,
        "TELEGRAM_API_BASE_URL": harness.api.base_url,
        "TELEGRAM_API_BASE_FILE_URL": harness.api.base_file_url,
        **database_env(harness.settings),
        "CHAT_MESSAGE_INTERVAL": "0",
        **extra,
    }.items():
        monkeypatch.setenv(name, value)


def clear_settings_env(monkeypatch: pytest.MonkeyPatch, cwd: Path) -> None:
    """No setting from the outer environment, and no `.env` but the one a test writes in cwd."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(cwd)


async def no_wal(path: str) -> aiosqlite.Connection:
    """SQLite's unix-dotfile VFS has no shared memory, like some network and shared folders:
    SQLite cannot keep a WAL there."""
    return await aiosqlite.connect(f"file:{path}?vfs=unix-dotfile", uri=True,
                                   isolation_level=None)


# --- the real bot process -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 60.0  # interpreter start and imports, on a slow machine
REPLY_TIMEOUT = 15.0
EXIT_TIMEOUT = 30.0
# What the interpreter runs: the same as the Docker image's entry point and the systemd unit
# (tests/test_deploy.py checks both).
RUN_ARGS = ("-m", "bot", "run")
PROCESS_START = datetime(2022, 10, 17, 10, 0, tzinfo=WIB)  # Monday of the fieldwork, 10:00 WIB


class BotProcess:
    """One `python -m bot run` child; output goes to files so a full pipe never blocks it."""

    def __init__(self, env: dict[str, str], cwd: Path, name: str) -> None:
        self.env = env
        self.cwd = cwd
        self.stdout_path = cwd / f"{name}.stdout"
        self.stderr_path = cwd / f"{name}.stderr"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, *RUN_ARGS,
                cwd=self.cwd, env=self.env, stdin=asyncio.subprocess.DEVNULL,
                stdout=out, stderr=err,
            )

    def output(self) -> str:
        return "".join(
            p.read_text(encoding="utf-8", errors="replace")
            for p in (self.stdout_path, self.stderr_path) if p.exists()
        )

    async def expect(
        self, user: SimUser, predicate: Callable[[SentMessage], bool],
        timeout: float = REPLY_TIMEOUT,
    ) -> SentMessage:
        """The user's next matching message; fails at once, with the log, if the bot exits."""
        assert self.proc is not None
        waiting = asyncio.ensure_future(user.wait_for(predicate, timeout))
        exited = asyncio.ensure_future(self.proc.wait())
        try:
            await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            exited.cancel()
        if not waiting.done():
            waiting.cancel()
            raise AssertionError(
                f"bot exited with {self.proc.returncode} while waiting:\n{self.output()}"
            )
        return waiting.result()

    async def terminate(self) -> int:
        """SIGTERM, then the exit code once it has stopped (failing after EXIT_TIMEOUT)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), EXIT_TIMEOUT)
        except TimeoutError:
            raise AssertionError(
                f"bot did not stop within {EXIT_TIMEOUT}s of SIGTERM:\n{self.output()}"
            ) from None

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


def bot_env(api: LocalBotApi, db_path: Path | str, **extra: str) -> dict[str, str]:
    """The parent's environment without any bot setting, plus the settings of the test; the
    database a SQLite file or a PostgreSQL URL."""
    names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    if is_postgres_url(db_path):
        env["DATABASE_URL"] = str(db_path)
    else:
        env["DATABASE_PATH"] = str(db_path)
    env.update(
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_BASE_URL=api.base_url,
        TELEGRAM_API_BASE_FILE_URL=api.base_file_url,
        # The bot's clock starts at a fixed moment of the period, whatever the real time is.
        REHEARSAL_START=PROCESS_START.isoformat(),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        **extra,
    )
    return env


def query(db_path: Path | str, sql: str, *params: object) -> list[tuple]:
    """The rows of one statement, on a connection of its own (`?` placeholders), in a SQLite
    file or a PostgreSQL database (URL)."""
    if is_postgres_url(db_path):
        return run_apart(_pg_query(str(db_path), sql, params))
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def with_password(url: str, password: str = "s3cr3t") -> str:
    """A test server's URL with a password: the server trusts every local connection and
    ignores it; a test shows that it is never printed."""
    return url.replace("postgres:@", f"postgres:{password}@")


def run_apart(coroutine: Any) -> Any:
    """Run a coroutine to its end in a thread with an event loop of its own: callable from
    plain code that a test's running event loop called."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def _pg_query(url: str, sql: str, params: tuple[object, ...]) -> list[tuple]:
    conn = await connect_postgres(url)
    try:
        return [tuple(row) for row in await conn.execute_fetchall(sql, params)]
    finally:
        await conn.close()


# --- PostgreSQL for the tests ---------------------------------------------------------------

TEMPLATE_DATABASE = "regsosek_template"


class PgCluster:
    """The test session's PostgreSQL server (the pip package `pgserver`, on a unix socket in a
    temporary folder), with a template database migrated once; each test gets a copy.

    Copies of the template are made ahead, and dropped after, by a thread of its own (with its
    own event loop and connection): the server does that work while the tests run."""

    AHEAD = 2  # copies of the template kept ready
    # The URLs of the copies handed out that nothing has used yet (`load_roster` takes them)
    untouched: dict[str, PgCluster] = {}

    def __init__(self, folder: Path) -> None:
        import pgserver

        self.server = pgserver.get_server(folder, cleanup_mode="stop")
        self._made = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._ready: asyncio.Queue[str] | None = None
        self._conn: asyncpg.Connection | None = None
        self._filler: asyncio.Task | None = None
        self._in_thread(self._prepare()).result()

    @property
    def bin_folder(self) -> Path:
        """The server's programs, pg_dump among them: the folder of its running postmaster."""
        return Path(self.server.get_postmaster_info().process.exe()).parent

    def url(self, database: str = "postgres") -> str:
        return self.server.get_uri(database)

    def _in_thread(self, coroutine: Any) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def _prepare(self) -> None:
        conn = self._conn = await asyncpg.connect(self.url())
        # A throwaway server: no syncs to disk, as fast as it goes.
        for statement in ("ALTER SYSTEM SET fsync = off",
                          "ALTER SYSTEM SET synchronous_commit = off",
                          "ALTER SYSTEM SET full_page_writes = off",
                          "SELECT pg_reload_conf()",
                          f"DROP DATABASE IF EXISTS {TEMPLATE_DATABASE}",
                          f"CREATE DATABASE {TEMPLATE_DATABASE}"):
            await conn.execute(statement)
        db = Database(self.url(TEMPLATE_DATABASE))
        await db.open()
        try:
            await ensure_default_wilayah(db)  # the national list, copied with the template
        finally:
            await db.close()
        self._ready = asyncio.Queue(self.AHEAD)
        self._turn = asyncio.Lock()  # one statement at a time on the connection
        self._filler = asyncio.create_task(self._fill())

    async def _copy(self, template: str) -> str:
        assert self._conn is not None
        self._made += 1
        name = f"t_{os.getpid()}_{self._made}"
        async with self._turn:
            await self._conn.execute(
                f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY WAL_LOG")
        return self.url(name)

    async def _fill(self) -> None:
        assert self._ready is not None
        while True:
            await self._ready.put(await self._copy(TEMPLATE_DATABASE))

    async def _take(self, template: str) -> str:
        if template != TEMPLATE_DATABASE:
            return await self._copy(template)
        assert self._ready is not None
        return await self._ready.get()

    async def create(self, template: str = TEMPLATE_DATABASE) -> str:
        """A new database, a copy of the migrated template (`template0`: empty); its URL."""
        url = await asyncio.wrap_future(self._in_thread(self._take(template)))
        if template == TEMPLATE_DATABASE:
            PgCluster.untouched[url] = self
        return url

    async def _keep(self, name: str) -> str | None:
        self._made += 1
        kept = f"r_{os.getpid()}_{self._made}"
        assert self._conn is not None
        for _ in range(50):  # the last session on it may still be closing
            try:
                async with self._turn:
                    await self._conn.execute(
                        f"CREATE DATABASE {kept} TEMPLATE {name} STRATEGY WAL_LOG")
                return self.url(kept)
            except asyncpg.ObjectInUseError:
                await asyncio.sleep(0.01)
        return None

    async def keep(self, url: str) -> str | None:
        """A copy of the database at `url`, kept to the end (None if it stayed in use)."""
        return await asyncio.wrap_future(
            self._in_thread(self._keep(urlsplit(url).path.lstrip("/"))))

    async def _replace(self, name: str, source: str) -> None:
        assert self._conn is not None
        async with self._turn:
            await self._conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await self._conn.execute(
                f"CREATE DATABASE {name} TEMPLATE {source} STRATEGY WAL_LOG")

    async def replace(self, url: str, source_url: str) -> None:
        """The database at `url` made anew as a copy of the one at `source_url`."""
        await asyncio.wrap_future(self._in_thread(self._replace(
            urlsplit(url).path.lstrip("/"), urlsplit(source_url).path.lstrip("/"))))

    async def _drop(self, name: str) -> None:
        assert self._conn is not None
        async with self._turn:
            await self._conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    async def drop(self, url: str) -> None:
        """Drop a test's database, in the cluster's thread: the test does not wait for it."""
        PgCluster.untouched.pop(url, None)
        self._in_thread(self._drop(urlsplit(url).path.lstrip("/")))

    async def _close(self) -> None:
        if self._filler is not None:
            self._filler.cancel()
        if self._conn is not None:
            async with self._turn:  # the drops asked for before are done
                await self._conn.close()

    def stop(self) -> None:
        self._in_thread(self._close()).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self.server.cleanup()


# --- steps of the flows ---------------------------------------------------------------------


async def report_today(user: SimUser, numbers: str = "10 10 40") -> None:
    """`/lapor` with the numbers, the first SLS if asked, Kirim, until it is saved."""
    await user.send(f"/lapor {numbers}")
    message = await user.wait_for(lambda m: "Pilih SLS" in text_of(m) or "Ringkasan" in text_of(m))
    if "Pilih SLS" in text_of(message):
        await user.press(message, message.buttons()[0].callback_data)
        message = await user.wait_for(lambda m: "Ringkasan" in text_of(m))
    await user.press(message, "Kirim")
    await user.wait_for(lambda m: "Laporan tersimpan" in text_of(m))


async def report_problem(
    user: SimUser, category: str, description: str, *, sls: str | None = None,
    urgent: bool = False, revisit: str | None = None, photo: bool = False,
    location: tuple[float, float] | None = None,
) -> SentMessage:
    """Walk through /kendala; returns the summary message (not sent yet)."""
    await user.send("/kendala")
    await user.press(await user.wait_for(lambda m: "Pilih kategori" in text_of(m)), category)
    if sls is not None:
        await user.press(await user.wait_for(lambda m: "terkait SLS" in text_of(m)), sls)
    await user.wait_for(lambda m: "uraian singkat" in text_of(m))
    await user.send(description)
    ask = await user.wait_for(lambda m: "foto dan/atau lokasi" in text_of(m))
    if photo:
        await user.send_photo()
        ask = await user.wait_for(lambda m: "Diterima: foto" in text_of(m))
    if location is not None:
        await user.send_location(*location)
    if not (photo and location is not None):
        if location is not None:
            ask = await user.wait_for(lambda m: "Diterima: lokasi" in text_of(m))
        await user.press(ask, "Lanjut" if (photo or location) else "Lewati")
    await user.press(await user.wait_for(lambda m: "Seberapa mendesak" in text_of(m)),
                     "Mendesak" if urgent else "Biasa")
    if revisit is not None:
        await user.wait_for(lambda m: "dikunjungi ulang" in text_of(m))
        await user.send(revisit)
    return await user.wait_for(lambda m: "Ringkasan kendala" in text_of(m))


def live(harness: Harness, message: SentMessage) -> SentMessage:
    """The message as it is now (edits included)."""
    return harness.api.message(message.chat_id, message.message_id)


async def report_says(harness: Harness, report: SentMessage, *parts: str) -> SentMessage:
    """Wait until the delivery report (edited in place) contains every part."""
    await eventually(lambda: all(p in text_of(live(harness, report)) for p in parts))
    return live(harness, report)


async def write_announcement(user: SimUser, text: str) -> SentMessage:
    """From the text question to the preview (Kirim sekarang / Jadwalkan)."""
    await user.send(text)
    return await user.wait_for(lambda m: "Pratinjau pengumuman" in text_of(m))


FIRST_CHAT = 880_000


async def add_team(harness: Harness, count: int) -> list[int]:
    """`count` more linked PPL under M1, each with a chat the local API knows."""
    chats = [FIRST_CHAT + n for n in range(count)]
    async with harness.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO officers (officer_id, name, role, supervisor_id, kecamatan_code,"
            " desa_code, telegram_user_id, telegram_chat_id, linked_at, created_at, updated_at)"
            " VALUES (?, ?, 'PPL', 'M1', '14.10.01', '14.10.01.2005', ?, ?, '', '', '')",
            [(f"X{n:03d}", f"Petugas {n:03d}", chat, chat) for n, chat in enumerate(chats)],
        )
    for chat in chats:
        harness.api.user(chat, f"Petugas {chat}")
    return chats


# --- field problems and the roster -----------------------------------------------------


async def add_problem(database: Database, officer_id: str = "P1", *, hours: float = 0, **values):
    values.setdefault("category", "not_home")
    values.setdefault("description", "Rumah kosong")
    async with database.transaction() as conn:
        return await problems_repo.create_problem(conn, officer_id=officer_id,
                                         now=at(17) + timedelta(hours=hours), **values)


def escalations_to(harness: Harness, chat_id: int) -> list:
    return [
        m for m in harness.api.messages_to(chat_id) if "belum selesai setelah" in (m.text or "")
    ]


async def reimport_without(harness: Harness, *officer_ids: str) -> None:
    """The roster imported again without these officers: they are deactivated."""
    lines = [line for line in OFFICERS_CSV.splitlines()
             if line.split(",")[0] not in officer_ids]
    path = harness.settings.database_path.parent / "officers-new.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = await import_roster(harness.db, path, None, now=harness.clock.now())
    assert result.officers_deactivated == len(officer_ids)
