"""Announcements and their outbox: one row per recipient, claimed before it is sent.

A recipient row goes `pending` -> `sending` (claimed with a token, committed before the
request) -> `sent` / `failed` / `unreachable` (recorded after the answer). Only a `pending`
row can be claimed, so no row is ever sent twice. The rows stored with the announcement are
the audience when it was written; when it goes out, `set_audience` puts the audience of that
moment in their place (pending rows only), and a row is claimed only while its officer is
still active and linked to Telegram (to the chat it then has): an officer deactivated or
unlinked meanwhile never gets it, their row is dropped. A row still `sending` when the bot starts
was interrupted mid-request: nobody knows whether it arrived, so `recover_interrupted` makes
it `failed` (error `interrupted`) instead of sending it again. A request that went out and
got no answer in time is recorded the same way (`failed`, error `unanswered`). A "Sudah
dibaca" press on either later proves it arrived and makes it `sent`.

Times are stored in UTC with microseconds so that they compare correctly as text.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import UTC, datetime

from db.engine import Connection
from db.models import INTERRUPTED, UNANSWERED, Broadcast, Counts, Officer, Recipient, Unread

_BROADCAST_COLUMNS = (
    "id, sender_id, sender_name, sender_role, sender_chat_id, audience, text, photo_id,"
    " document_id, send_at, created_at, unlinked_count, report_message_id, finished_at"
)
_RECIPIENT_COLUMNS = (
    "id, broadcast_id, officer_id, chat_id, status, attempts, claim_token, claimed_at,"
    " message_id, sent_at, read_at, error"
)


def utc_text(moment: datetime) -> str:
    """The stored form of a moment: UTC, always with microseconds (text order = time order)."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


async def create_broadcast(
    conn: Connection,
    *,
    sender: Officer,
    sender_chat_id: int,
    audience: str,
    text: str,
    photo_id: str | None,
    document_id: str | None,
    send_at: datetime,
    recipients: Collection[Officer],
    unlinked_count: int,
    now: datetime,
    draft_token: str | None = None,
) -> Broadcast | None:
    """Store the announcement and one pending outbox row per recipient.

    None when `draft_token` was used before (a second press of the same Kirim button).
    """
    if draft_token is not None:
        async with conn.execute(
            "SELECT 1 FROM broadcasts WHERE draft_token = ?", (draft_token,)
        ) as cur:
            if await cur.fetchone() is not None:
                return None
    [(broadcast_id,)] = await conn.execute_fetchall(
        "INSERT INTO broadcasts (sender_id, sender_name, sender_role, sender_chat_id, audience,"
        " text, photo_id, document_id, send_at, created_at, unlinked_count, draft_token)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (sender.officer_id, sender.name, sender.role.value, sender_chat_id, audience, text,
         photo_id, document_id, utc_text(send_at), utc_text(now), unlinked_count, draft_token),
    )
    rows = [(broadcast_id, o.officer_id, o.telegram_chat_id) for o in recipients
            if o.telegram_chat_id is not None]
    await conn.executemany(
        "INSERT INTO broadcast_recipients (broadcast_id, officer_id, chat_id) VALUES (?, ?, ?)",
        rows,
    )
    broadcast = await get_broadcast(conn, broadcast_id)
    assert broadcast is not None
    return broadcast


async def get_broadcast(conn: Connection, broadcast_id: int) -> Broadcast | None:
    async with conn.execute(
        f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE id = ?", (broadcast_id,)
    ) as cur:
        row = await cur.fetchone()
    return Broadcast(**dict(row)) if row else None


async def set_report_message(
    conn: Connection, broadcast_id: int, message_id: int
) -> None:
    await conn.execute(
        "UPDATE broadcasts SET report_message_id = ? WHERE id = ?", (message_id, broadcast_id)
    )


async def recent_broadcasts(
    conn: Connection, *, sender_id: str | None, limit: int = 5
) -> list[Broadcast]:
    """The newest announcements first: of one sender, or everyone's when `sender_id` is None."""
    sql = f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts"
    params: list[object] = []
    if sender_id is not None:
        sql += " WHERE sender_id = ?"
        params.append(sender_id)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    async with conn.execute(sql, params) as cur:
        return [Broadcast(**dict(row)) async for row in cur]


async def due_recipients(
    conn: Connection, now: datetime, *, limit: int, exclude: Collection[int] = ()
) -> list[Recipient]:
    """Pending rows of announcements whose time has come, oldest announcement first."""
    skip = list(exclude)
    sql = (
        f"SELECT {', '.join('r.' + c.strip() for c in _RECIPIENT_COLUMNS.split(','))}"
        " FROM broadcast_recipients r JOIN broadcasts b ON b.id = r.broadcast_id"
        " WHERE r.status = 'pending' AND b.send_at <= ?"
    )
    if skip:
        sql += f" AND r.id NOT IN ({','.join('?' * len(skip))})"
    sql += " ORDER BY b.send_at, b.id, r.id LIMIT ?"
    async with conn.execute(sql, [utc_text(now), *skip, limit]) as cur:
        return [Recipient(**dict(row)) async for row in cur]


async def get_recipient(conn: Connection, recipient_id: int) -> Recipient | None:
    async with conn.execute(
        f"SELECT {_RECIPIENT_COLUMNS} FROM broadcast_recipients WHERE id = ?", (recipient_id,)
    ) as cur:
        row = await cur.fetchone()
    return Recipient(**dict(row)) if row else None


async def set_audience(
    conn: Connection, broadcast_id: int, recipients: Collection[Officer],
    unlinked_count: int,
) -> tuple[int, int]:
    """The audience computed again as the announcement goes out: pending rows of officers no
    longer in it are dropped, pending rows follow a changed chat, officers new to it get a
    pending row; rows sent or being sent stay as they are. Returns (added, dropped)."""
    wanted = {o.officer_id: o.telegram_chat_id for o in recipients
              if o.telegram_chat_id is not None}
    async with conn.execute(
        "SELECT officer_id, chat_id, status FROM broadcast_recipients WHERE broadcast_id = ?",
        (broadcast_id,),
    ) as cur:
        rows = {row[0]: (row[1], row[2]) async for row in cur}
    gone = [oid for oid, (_, status) in rows.items() if status == "pending" and oid not in wanted]
    moved = [(chat, broadcast_id, oid) for oid, chat in wanted.items()
             if oid in rows and rows[oid][1] == "pending" and rows[oid][0] != chat]
    new = [(broadcast_id, oid, chat) for oid, chat in wanted.items() if oid not in rows]
    await conn.executemany(
        "DELETE FROM broadcast_recipients WHERE broadcast_id = ? AND officer_id = ?"
        " AND status = 'pending'", [(broadcast_id, oid) for oid in gone])
    await conn.executemany(
        "UPDATE broadcast_recipients SET chat_id = ? WHERE broadcast_id = ? AND officer_id = ?"
        " AND status = 'pending'", moved)
    await conn.executemany(
        "INSERT INTO broadcast_recipients (broadcast_id, officer_id, chat_id) VALUES (?, ?, ?)",
        new)
    await conn.execute("UPDATE broadcasts SET unlinked_count = ? WHERE id = ?",
                       (unlinked_count, broadcast_id))
    return len(new), len(gone)


async def claim(
    conn: Connection, recipient_id: int, now: datetime
) -> Recipient | None:
    """Take a pending row for sending, to its officer's chat of now; None when it is not
    pending (taken, or done), or dropped now because its officer is no longer active or
    linked to Telegram."""
    await conn.execute(
        "DELETE FROM broadcast_recipients WHERE id = ? AND status = 'pending' AND NOT EXISTS"
        " (SELECT 1 FROM officers o WHERE o.officer_id = broadcast_recipients.officer_id"
        "  AND o.active = 1 AND o.telegram_chat_id IS NOT NULL)",
        (recipient_id,),
    )
    token = secrets.token_hex(8)
    cur = await conn.execute(
        "UPDATE broadcast_recipients SET status = 'sending', claim_token = ?, claimed_at = ?,"
        " attempts = attempts + 1, chat_id = (SELECT o.telegram_chat_id FROM officers o"
        "  WHERE o.officer_id = broadcast_recipients.officer_id)"
        " WHERE id = ? AND status = 'pending'",
        (token, utc_text(now), recipient_id),
    )
    if cur.rowcount != 1:
        return None
    return await get_recipient(conn, recipient_id)


async def finish(
    conn: Connection,
    claimed: Recipient,
    status: str,
    now: datetime,
    *,
    message_id: int | None = None,
    error: str | None = None,
) -> bool:
    """Record the answer for a row this caller claimed; False when the claim is not theirs."""
    if status not in ("sent", "failed", "unreachable"):
        raise ValueError(f"not a final status: {status!r}")
    cur = await conn.execute(
        "UPDATE broadcast_recipients SET status = ?, message_id = ?, error = ?,"
        " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END"
        " WHERE id = ? AND status = 'sending' AND claim_token = ?",
        (status, message_id, error, status, utc_text(now), claimed.id, claimed.claim_token),
    )
    return cur.rowcount == 1


async def recover_interrupted(conn: Connection) -> list[int]:
    """Rows left `sending` by a crash become `failed` (`interrupted`): never resent blindly.

    Returns the announcements concerned, whose delivery reports need an update.
    """
    async with conn.execute(
        "SELECT DISTINCT broadcast_id FROM broadcast_recipients WHERE status = 'sending'"
        " ORDER BY broadcast_id"
    ) as cur:
        affected = [row[0] async for row in cur]
    await conn.execute(
        "UPDATE broadcast_recipients SET status = 'failed', error = ? WHERE status = 'sending'",
        (INTERRUPTED,),
    )
    return affected


async def mark_read(conn: Connection, recipient_id: int, now: datetime) -> bool:
    """Record the first "Sudah dibaca"; an interrupted or unanswered row is thereby known to
    have arrived."""
    cur = await conn.execute(
        "UPDATE broadcast_recipients SET read_at = ?,"
        " status = CASE WHEN status = 'failed' AND error IN (?, ?) THEN 'sent' ELSE status END"
        " WHERE id = ? AND read_at IS NULL",
        (utc_text(now), INTERRUPTED, UNANSWERED, recipient_id),
    )
    return cur.rowcount == 1


async def counts(conn: Connection, broadcast_id: int) -> Counts:
    async with conn.execute(
        "SELECT COUNT(*), COUNT(CASE WHEN status = 'sent' THEN 1 END),"
        " COUNT(CASE WHEN status = 'failed' THEN 1 END),"
        " COUNT(CASE WHEN status = 'unreachable' THEN 1 END),"
        " COUNT(CASE WHEN status IN ('pending', 'sending') THEN 1 END), COUNT(read_at)"
        " FROM broadcast_recipients WHERE broadcast_id = ?",
        (broadcast_id,),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    total, sent, failed, unreachable, pending, read = (int(v or 0) for v in row)
    return Counts(total=total, sent=sent, failed=failed, unreachable=unreachable,
                  pending=pending, read=read)


async def mark_finished(conn: Connection, broadcast_id: int, now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE broadcasts SET finished_at = ? WHERE id = ? AND finished_at IS NULL",
        (utc_text(now), broadcast_id),
    )
    return cur.rowcount == 1


async def unfinished_broadcasts(conn: Connection) -> list[int]:
    async with conn.execute(
        "SELECT id FROM broadcasts WHERE finished_at IS NULL ORDER BY id"
    ) as cur:
        return [row[0] async for row in cur]


async def unread(conn: Connection, broadcast_id: int) -> list[Unread]:
    """Recipients who have not pressed "Sudah dibaca", by name, with their delivery status."""
    async with conn.execute(
        "SELECT r.officer_id, o.name, r.status FROM broadcast_recipients r"
        " JOIN officers o ON o.officer_id = r.officer_id"
        " WHERE r.broadcast_id = ? AND r.read_at IS NULL ORDER BY o.name, r.officer_id",
        (broadcast_id,),
    ) as cur:
        return [Unread(**dict(row)) async for row in cur]
