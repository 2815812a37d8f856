"""Shared fixtures: a small roster, an injected clock, the local Bot API and the real bot."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_application, services_of, start_application, stop_application
from bot.clock import ManualClock
from bot.localapi import LocalBotApi, SimUser
from bot.settings import Settings
from db.connection import Database
from db.registration import codes_for_unlinked
from db.roster import import_roster
from db.wilayah import ensure_default_wilayah

WIB = ZoneInfo("Asia/Jakarta")
ADMIN_TELEGRAM_ID = 9001

OFFICERS_CSV = """officer_id,name,role,supervisor_id,phone,kecamatan_code,desa_code
A1,Admin Kabupaten,ADMIN,,081200000001,,
K1,Kartini Koseka,KOSEKA,,081200000002,14.10.01,
M1,Mahmud PML,PML,K1,081200000003,14.10.01,
M2,Maryam PML,PML,K1,081200000004,14.10.01,
P1,Putri PPL,PPL,M1,081200000005,14.10.01,14.10.01.2005
P2,Panji PPL,PPL,M1,081200000006,14.10.01,14.10.01.2006
P3,Prabu PPL,PPL,M2,081200000007,14.10.01,14.10.01.2008
"""

AREAS_CSV = """officer_id,sls_code,sls_name,desa_code,target_households
P1,1410012005001,RT 001 Banglas,14.10.01.2005,100
P1,1410012005002,RT 002 Banglas,14.10.01.2005,80
P2,1410012006001,RT 001 Alah Air,14.10.01.2006,120
P3,1410012008001,RT 001 Sesap,14.10.01.2008,90
"""


def at(day: int, hour: int = 18, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2022, month, day, hour, minute, tzinfo=WIB)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at(17))  # Monday 17 Oct 2022, 18:00 WIB


def make_settings(tmp_path: Path, api: LocalBotApi | None = None, **overrides: object) -> Settings:
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
    }
    if api is not None:
        values["telegram_api_base_url"] = api.base_url
        values["telegram_api_base_file_url"] = api.base_file_url
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


async def load_roster(db_path: Path, now: datetime, tmp_path: Path) -> dict[str, str]:
    """Import the test roster; returns officer_id -> registration code."""
    officers_file = tmp_path / "officers.csv"
    areas_file = tmp_path / "areas.csv"
    officers_file.write_text(OFFICERS_CSV, encoding="utf-8")
    areas_file.write_text(AREAS_CSV, encoding="utf-8")
    db = Database(db_path)
    await db.open()
    try:
        await ensure_default_wilayah(db)
        await import_roster(db, officers_file, areas_file, now=now)
        async with db.transaction() as conn:
            codes = await codes_for_unlinked(conn, now)
    finally:
        await db.close()
    return {c.officer_id: c.code for c in codes}


class Harness:
    """The real application against the local Bot API; can be restarted on the same database."""

    def __init__(
        self, api: LocalBotApi, settings: Settings, clock: ManualClock, codes: dict[str, str]
    ):
        self.api = api
        self.settings = settings
        self.clock = clock
        self.codes = codes
        self.app = None

    async def start(self) -> None:
        self.app = build_application(self.settings, clock=self.clock)
        await start_application(self.app, poll_timeout=1)

    async def stop(self) -> None:
        if self.app is not None:
            await stop_application(self.app)
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


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi() as server:
        yield server


@asynccontextmanager
async def running_harness(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock, **overrides: object
) -> AsyncIterator[Harness]:
    """The test roster loaded and the real bot started, with settings `overrides`."""
    settings = make_settings(tmp_path, api, **overrides)
    codes = await load_roster(settings.database_path, clock.now(), tmp_path)
    h = Harness(api, settings, clock, codes)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


@pytest.fixture
async def harness(api: LocalBotApi, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(api, tmp_path, clock) as h:
        yield h


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
