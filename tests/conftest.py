"""Shared fixtures: an injected clock, the local Bot API and the real bot on the test roster.
The helpers behind them are in tests/support.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.localapi import LocalBotApi
from tests.support import Harness, at, build_template, running_harness


@pytest.fixture(scope="session", autouse=True)
def database_template() -> None:
    """The template every test database is copied from, built before the first test: no
    test's injected clock runs while it is built."""
    asyncio.run(build_template())


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at(17))  # Monday 17 Oct 2022, 18:00 WIB


@pytest.fixture
async def api(clock: ManualClock) -> AsyncIterator[LocalBotApi]:
    """The local Bot API, dating messages by the test's clock (the bot's clock too)."""
    async with LocalBotApi(clock=clock) as server:
        yield server


@pytest.fixture
def mode() -> str:
    """How the harness's bot gets its updates; a module overrides this fixture with
    `params=["polling", "webhook"]` to run its tests both ways."""
    return "polling"


@pytest.fixture
async def harness(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock, mode: str
) -> AsyncIterator[Harness]:
    async with running_harness(api, tmp_path, clock, mode=mode) as h:
        yield h
    if mode == "webhook":  # the updates really came by the webhook
        assert api.webhook_deliveries and not api.calls("getUpdates")
