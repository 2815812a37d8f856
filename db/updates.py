"""Which Telegram updates were already handled (keyed on update_id)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from db.connection import Database
from db.engine import Connection

KEEP = timedelta(days=3)
# Rows of one statement: two parameters each, well under SQLite's 32,766 variables.
MAX_BATCH = 500
# While the bot runs, the log forgets what is older than KEEP after each PRUNE_EVERY updates.
PRUNE_EVERY = 1000

log = logging.getLogger(__name__)


class UpdateLog:
    """Records each update once, committed before it is handled.

    Updates handled at the same moment (a burst, up to CONCURRENT_UPDATES of them) share one
    INSERT and one commit instead of one each: `first_time` joins the batch being gathered and
    returns when that batch is committed.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._batch: dict[int, tuple[str, asyncio.Future[bool]]] = {}
        self._writer: asyncio.Task[None] | None = None
        self._since_pruned = 0

    async def first_time(self, update_id: int, now: datetime) -> bool:
        """Record the update; False when it was recorded before (by this or an earlier run)."""
        if update_id in self._batch:  # delivered twice within one batch
            await asyncio.shield(self._batch[update_id][1])
            return False
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._batch[update_id] = (now.isoformat(), future)
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
            self._writer.add_done_callback(self._stopped)
        return await future

    async def _write(self) -> None:
        batch: dict[int, tuple[str, asyncio.Future[bool]]] = {}
        try:
            await asyncio.sleep(0)  # one turn of the loop: the updates started with this join
            while self._batch:
                ids = list(self._batch)[:MAX_BATCH]
                batch = {update_id: self._batch.pop(update_id) for update_id in ids}
                try:
                    inserted = await _record(self._db, {k: v[0] for k, v in batch.items()})
                except Exception as exc:  # every update of the batch gets the error
                    for _, future in batch.values():
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for update_id, (_, future) in batch.items():
                    if not future.done():
                        future.set_result(update_id in inserted)
                self._since_pruned += len(inserted)
                if self._since_pruned >= PRUNE_EVERY:
                    self._since_pruned = 0
                    await _prune(self._db, max(stamp for stamp, _ in batch.values()))
        finally:
            self._writer = None
            # Cancelled (the bot is stopping): nobody may wait for a batch that never comes.
            self._release(batch)

    def cancel_writer(self) -> bool:
        """Cancel the task that writes the batches, as the event loop does with every task when
        the bot stops (the updates waiting for it are cancelled too); False when none runs."""
        if self._writer is None:
            return False
        self._writer.cancel()
        return True

    def _stopped(self, task: asyncio.Task[None]) -> None:
        if self._writer is task:  # cancelled before it ran, so its `finally` did not either
            self._writer = None
            self._release({})

    def _release(self, batch: dict[int, tuple[str, asyncio.Future[bool]]]) -> None:
        for _, future in [*batch.values(), *self._batch.values()]:
            future.cancel()  # nothing for the futures already answered
        self._batch.clear()


async def _record(db: Database, stamps: dict[int, str]) -> set[int]:
    """Insert the ids not recorded yet (one statement, committed); the ones inserted."""
    values = ", ".join("(?, ?)" for _ in stamps)
    params = tuple(item for pair in stamps.items() for item in pair)
    rows = await db.write_fetchall(
        f"INSERT INTO processed_updates (update_id, processed_at) VALUES {values}"
        " ON CONFLICT DO NOTHING RETURNING update_id",
        params,
    )
    return {row[0] for row in rows}


async def _prune(db: Database, newest: str) -> None:
    """Forget the updates older than KEEP before the newest one recorded (the injected clock's
    time, not the wall clock's). A failure waits for the next turn."""
    try:
        async with db.statement() as conn:
            await forget_old(conn, datetime.fromisoformat(newest))
    except Exception:
        log.warning("could not prune the log of handled updates", exc_info=True)


async def forget_old(conn: Connection, now: datetime) -> None:
    await conn.execute(
        "DELETE FROM processed_updates WHERE processed_at < ?", ((now - KEEP).isoformat(),)
    )
