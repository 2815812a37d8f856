"""The sent-log of scheduled messages, days off (izin) and reachability of officers.

A scheduled message is claimed (a row `claimed`, with the run that claimed it, see
db/runs.py) before it is sent, and finished `sent`, `failed` or `unreachable` after. Only
one run can claim a message, so none sends it twice by itself. A claim is taken over
(`reclaim`) only when the message may not have gone out: it `failed`, or it is still
`claimed` by a run that is gone (a crash between the claim and the answer). Whether that is
wanted is the caller's choice: digests and escalations are sent once more, reminders never.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, datetime

from pydantic import BaseModel

from db.engine import Connection

DAY_OFF_REASONS = ("sakit", "cuti", "pelatihan", "lainnya")
CLAIMED = "claimed"
FAILED = "failed"


class Claim(BaseModel):
    """One row of the sent-log."""

    kind: str
    recipient: str
    day: date
    slot: str
    status: str
    claimed_at: datetime
    claimed_by: str | None = None
    attempts: int = 1

    def left_unsent(self, at_work: Callable[[str | None], bool]) -> bool:
        """The message may not have gone out: it failed, or its run ended mid-send."""
        return self.status == FAILED or (self.status == CLAIMED and not at_work(self.claimed_by))


_CLAIM_COLUMNS = "kind, recipient, day, slot, status, claimed_at, claimed_by, attempts"


class DayOff(BaseModel):
    officer_id: str
    day: date
    reason: str
    note: str | None = None


async def claim(
    conn: Connection, kind: str, recipient: str, day: date, slot: str, now: datetime,
    run_id: str | None = None,
) -> bool:
    """Claim one scheduled message for the run `run_id`; False when it was claimed before
    (sent, being sent, or left: see `reclaim`)."""
    cur = await conn.execute(
        "INSERT INTO sent_log (kind, recipient, day, slot, claimed_at, claimed_by)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (kind, recipient, day.isoformat(), slot, now.isoformat(), run_id),
    )
    return cur.rowcount == 1


async def get_claim(
    conn: Connection, kind: str, recipient: str, day: date, slot: str
) -> Claim | None:
    async with conn.execute(
        f"SELECT {_CLAIM_COLUMNS} FROM sent_log WHERE kind = ? AND recipient = ? AND day = ?"
        " AND slot = ?",
        (kind, recipient, day.isoformat(), slot),
    ) as cur:
        row = await cur.fetchone()
    return Claim(**dict(row)) if row else None


async def claims_of(
    conn: Connection, kinds: Collection[str], statuses: Collection[str]
) -> list[Claim]:
    """The claims of these kinds in these statuses, oldest first."""
    kinds, statuses = list(kinds), list(statuses)
    if not kinds or not statuses:
        return []
    async with conn.execute(
        f"SELECT {_CLAIM_COLUMNS} FROM sent_log"
        f" WHERE kind IN ({', '.join('?' * len(kinds))})"
        f" AND status IN ({', '.join('?' * len(statuses))}) ORDER BY claimed_at, kind, recipient",
        [*kinds, *statuses],
    ) as cur:
        return [Claim(**dict(row)) async for row in cur]


async def reclaim(conn: Connection, old: Claim, now: datetime, run_id: str) -> bool:
    """Take over a claim as it was read (`old`), to send its message once more; False when it
    changed meanwhile (another run took it over first, or its own run finished it)."""
    cur = await conn.execute(
        "UPDATE sent_log SET status = 'claimed', claimed_at = ?, claimed_by = ?,"
        " finished_at = NULL, attempts = attempts + 1"
        " WHERE kind = ? AND recipient = ? AND day = ? AND slot = ? AND status = ?"
        " AND attempts = ? AND claimed_by IS NOT DISTINCT FROM ?",
        (now.isoformat(), run_id, old.kind, old.recipient, old.day.isoformat(), old.slot,
         old.status, old.attempts, old.claimed_by),
    )
    return cur.rowcount == 1


async def finish(
    conn: Connection, kind: str, recipient: str, day: date, slot: str, status: str,
    now: datetime,
) -> None:
    await conn.execute(
        "UPDATE sent_log SET status = ?, finished_at = ? WHERE kind = ? AND recipient = ?"
        " AND day = ? AND slot = ?",
        (status, now.isoformat(), kind, recipient, day.isoformat(), slot),
    )


async def sent_count(conn: Connection, kind: str, day: date) -> int:
    async with conn.execute(
        "SELECT COUNT(*) FROM sent_log WHERE kind = ? AND day = ? AND status = 'sent'",
        (kind, day.isoformat()),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def set_day_off(conn: Connection, item: DayOff, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO days_off (officer_id, day, reason, note, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (officer_id, day) DO UPDATE SET reason = excluded.reason,"
        " note = excluded.note",
        (item.officer_id, item.day.isoformat(), item.reason, item.note, now.isoformat()),
    )


async def delete_day_off(conn: Connection, officer_id: str, day: date) -> bool:
    """Take back a declared day off; False when there was none (undone already)."""
    cur = await conn.execute(
        "DELETE FROM days_off WHERE officer_id = ? AND day = ?", (officer_id, day.isoformat())
    )
    return cur.rowcount == 1


async def days_off(
    conn: Connection, *, day: date | None = None, until: date | None = None
) -> list[DayOff]:
    sql = "SELECT officer_id, day, reason, note FROM days_off WHERE 1 = 1"
    params: list[object] = []
    if day is not None:
        sql += " AND day = ?"
        params.append(day.isoformat())
    if until is not None:
        sql += " AND day <= ?"
        params.append(until.isoformat())
    async with conn.execute(sql, params) as cur:
        return [DayOff(**dict(row)) async for row in cur]


async def mark_unreachable(conn: Connection, officer_id: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE officers SET unreachable_at = ? WHERE officer_id = ? AND unreachable_at IS NULL",
        (now.isoformat(), officer_id),
    )


async def mark_reachable(conn: Connection, telegram_user_id: int) -> None:
    await conn.execute(
        "UPDATE officers SET unreachable_at = NULL WHERE telegram_user_id = ?"
        " AND unreachable_at IS NOT NULL",
        (telegram_user_id,),
    )


async def officers_to_remind(conn: Connection, day: date) -> list[str]:
    """Active, reachable, registered PPL with no report and no day off on `day`."""
    async with conn.execute(
        "SELECT o.officer_id FROM officers o"
        " WHERE o.role = 'PPL' AND o.active = 1 AND o.telegram_chat_id IS NOT NULL"
        " AND o.unreachable_at IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.officer_id = o.officer_id"
        "                 AND r.report_date = ?)"
        " AND NOT EXISTS (SELECT 1 FROM days_off d WHERE d.officer_id = o.officer_id"
        "                 AND d.day = ?)"
        " ORDER BY o.officer_id",
        (day.isoformat(), day.isoformat()),
    ) as cur:
        return [row[0] async for row in cur]
