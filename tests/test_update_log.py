"""The record of handled updates: each update_id once, committed before it is handled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from db.connection import Database
from db.updates import KEEP, MAX_BATCH, PRUNE_EVERY, UpdateLog
from tests.support import at, eventually


class CountingDatabase(Database):
    """Counts the statements (each its own commit) that record updates."""

    def __init__(self, path: Path | str, *, broken: bool = False) -> None:
        super().__init__(path)
        self.statements = 0
        self.broken = broken

    async def write_fetchall(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
        self.statements += 1
        if self.broken:
            raise OSError("disk I/O error")
        return await super().write_fetchall(sql, params)


@pytest.fixture
async def db(database: Path | str) -> AsyncIterator[CountingDatabase]:
    opened = CountingDatabase(database)
    await opened.open()
    yield opened
    await opened.close()


async def recorded(db: Database) -> list[int]:
    rows = await db.conn.execute_fetchall("SELECT update_id FROM processed_updates ORDER BY 1")
    return [row[0] for row in rows]


async def test_updates_handled_together_share_one_commit(db: CountingDatabase) -> None:
    log = UpdateLog(db)
    firsts = await asyncio.gather(*(log.first_time(1000 + n, at(17)) for n in range(32)))
    assert firsts == [True] * 32
    assert db.statements == 1
    assert await recorded(db) == [1000 + n for n in range(32)]


async def test_an_update_delivered_twice_is_first_only_once(db: CountingDatabase) -> None:
    log = UpdateLog(db)
    # Twice in the same batch, then once more after it was committed.
    firsts = await asyncio.gather(log.first_time(7, at(17)), log.first_time(7, at(17)))
    assert sorted(firsts) == [False, True]
    assert await log.first_time(7, at(17)) is False
    assert await recorded(db) == [7]


async def test_an_update_recorded_before_a_restart_is_not_first(db: CountingDatabase) -> None:
    assert await UpdateLog(db).first_time(42, at(17)) is True
    after_restart = UpdateLog(db)
    firsts = await asyncio.gather(after_restart.first_time(42, at(17)),
                                  after_restart.first_time(43, at(17)))
    assert firsts == [False, True]


async def test_a_failed_write_fails_every_update_of_the_batch_and_the_next_batch_works(
    db: CountingDatabase,
) -> None:
    log = UpdateLog(db)
    db.broken = True
    outcomes = await asyncio.gather(*(log.first_time(n, at(17)) for n in (1, 2, 3)),
                                    return_exceptions=True)
    assert all(isinstance(outcome, OSError) for outcome in outcomes)
    assert await recorded(db) == []
    db.broken = False
    assert await log.first_time(1, at(17)) is True  # not recorded by the failed batch
    assert await recorded(db) == [1]


async def test_a_large_burst_is_split_into_statements_sqlite_accepts(db: CountingDatabase) -> None:
    log = UpdateLog(db)
    count = MAX_BATCH + 100
    firsts = await asyncio.gather(*(log.first_time(n, at(17)) for n in range(count)))
    assert firsts == [True] * count
    assert db.statements == 2
    assert len(await recorded(db)) == count


async def test_a_stopped_writer_leaves_nobody_waiting(db: CountingDatabase) -> None:
    log = UpdateLog(db)
    waiting = asyncio.ensure_future(log.first_time(1, at(17)))
    await asyncio.sleep(0)  # first_time has queued the update and started the writer
    assert log.cancel_writer()  # there was a writer, and it is cancelled
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await log.first_time(2, at(17)) is True  # a new writer takes the next update


async def test_the_log_forgets_old_updates_while_the_bot_runs(db: CountingDatabase) -> None:
    clock = ManualClock(at(17))
    log = UpdateLog(db)
    assert await log.first_time(1, clock.now()) is True
    clock.advance(KEEP - timedelta(hours=1))
    assert await log.first_time(2, clock.now()) is True
    clock.advance(timedelta(hours=2))  # update 1 is now older than KEEP, update 2 is not
    firsts = await asyncio.gather(*(log.first_time(100 + n, clock.now())
                                    for n in range(PRUNE_EVERY)))
    assert firsts == [True] * PRUNE_EVERY

    async def forgotten() -> bool:
        return 1 not in await recorded(db)

    await eventually(forgotten)  # no restart: the running log itself prunes
    kept = await recorded(db)
    assert kept[0] == 2 and len(kept) == PRUNE_EVERY + 1
