"""The shared outbox: messages one bot's process leaves for an officer another bot serves (a
problem alert or an escalation across scopes, see db/bots.py).

One row per message. The bot that serves the officer drains the rows in id order: it claims a
row (`pending` -> `sending`, with its name and a token, committed before the request; only a
pending row can be claimed, so a row is sent once even when several processes look at once),
then records the answer (`sent` / `failed` / `unreachable`). A row still `sending` when its
bot starts again was interrupted mid-request and becomes `failed` (`interrupted`), never sent
twice.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from db.bots import Scope
from db.broadcasts import utc_text
from db.engine import Connection
from db.engine import Row as DbRow
from db.models import INTERRUPTED
from db.notify import notify

_COLUMNS = ("id, officer_id, kind, text, reply_markup, photo, latitude, longitude, status,"
            " claim_token")


@dataclass(frozen=True)
class Message:
    """What one row sends: a text, a photo (bytes) with the text as caption, or a location."""

    text: str | None = None
    reply_markup: str | None = None  # Bot API JSON of an inline keyboard
    photo: bytes | None = None
    location: tuple[float, float] | None = None


@dataclass(frozen=True)
class Row:
    id: int
    officer_id: str
    kind: str
    message: Message
    status: str
    claim_token: str | None


def _row(row: DbRow) -> Row:
    location = None
    if row["latitude"] is not None and row["longitude"] is not None:
        location = (float(row["latitude"]), float(row["longitude"]))
    photo = bytes(row["photo"]) if row["photo"] is not None else None
    return Row(row["id"], row["officer_id"], row["kind"],
               Message(row["text"], row["reply_markup"], photo, location),
               row["status"], row["claim_token"])


async def put(
    conn: Connection, officer_id: str, kind: str, messages: list[Message],
    now: datetime,
) -> None:
    """Leave the messages, in this order, for the bot that serves the officer."""
    await conn.executemany(
        "INSERT INTO outbox (officer_id, kind, text, reply_markup, photo, latitude, longitude,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(officer_id, kind, m.text, m.reply_markup, m.photo,
          m.location[0] if m.location else None, m.location[1] if m.location else None,
          utc_text(now)) for m in messages],
    )
    await notify(conn)


async def pending_for(conn: Connection, scope: Scope, *, limit: int) -> list[Row]:
    """Pending rows of the officers this bot serves, oldest first."""
    where, params = scope.where()
    cols = ", ".join(f"x.{c.strip()}" for c in _COLUMNS.split(","))
    async with conn.execute(
        f"SELECT {cols} FROM outbox x JOIN officers o ON o.officer_id = x.officer_id"
        f" WHERE x.status = 'pending' AND {where} ORDER BY x.id LIMIT ?", (*params, limit),
    ) as cur:
        return [_row(row) async for row in cur]


async def claim(
    conn: Connection, row_id: int, bot: str, now: datetime
) -> tuple[Row, int] | None:
    """Take a pending row for sending: the row and its officer's chat now; None when it was
    taken, or its officer is no longer active or linked (then it is failed, `not_linked`)."""
    token = secrets.token_hex(8)
    cur = await conn.execute(
        "UPDATE outbox SET status = 'sending', claim_token = ?, claimed_by = ?, claimed_at = ?"
        " WHERE id = ? AND status = 'pending'", (token, bot, utc_text(now), row_id))
    if cur.rowcount != 1:
        return None
    async with conn.execute(
        f"SELECT {', '.join('x.' + c.strip() for c in _COLUMNS.split(','))},"
        " o.telegram_chat_id AS chat_id, o.active AS officer_active FROM outbox x"
        " JOIN officers o ON o.officer_id = x.officer_id WHERE x.id = ?", (row_id,)
    ) as cur:
        found = await cur.fetchone()
    assert found is not None
    row = _row(found)
    if found["chat_id"] is None or not found["officer_active"]:
        await finish(conn, row, "failed", now, error="not_linked")
        return None
    return row, int(found["chat_id"])


async def finish(
    conn: Connection, row: Row, status: str, now: datetime, *, error: str | None = None
) -> bool:
    """Record the answer for a row this caller claimed; False when the claim is not theirs."""
    if status not in ("sent", "failed", "unreachable"):
        raise ValueError(f"not a final status: {status!r}")
    cur = await conn.execute(
        "UPDATE outbox SET status = ?, error = ?,"
        " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END"
        " WHERE id = ? AND status = 'sending' AND claim_token = ?",
        (status, error, status, utc_text(now), row.id, row.claim_token),
    )
    return cur.rowcount == 1


async def recover_interrupted(conn: Connection, bot: str) -> int:
    """This bot's rows left `sending` by a crash become `failed` (`interrupted`)."""
    cur = await conn.execute(
        "UPDATE outbox SET status = 'failed', error = ? WHERE status = 'sending'"
        " AND claimed_by = ?", (INTERRUPTED, bot))
    return cur.rowcount
