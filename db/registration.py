"""One-time registration codes that link a Telegram account to a roster officer."""

from __future__ import annotations

import secrets
from datetime import datetime

from pydantic import BaseModel

from db.engine import Connection

# No 0/O, 1/I/L: codes are sometimes typed by hand from a printed list.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


class RegistrationCode(BaseModel):
    code: str
    officer_id: str
    used_at: str | None = None
    used_by_telegram_id: int | None = None


def new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


async def get_code(conn: Connection, code: str) -> RegistrationCode | None:
    async with conn.execute(
        "SELECT code, officer_id, used_at, used_by_telegram_id FROM registration_codes"
        " WHERE code = ?",
        (code.strip().upper(),),
    ) as cur:
        row = await cur.fetchone()
    return RegistrationCode(**dict(row)) if row else None


async def mark_used(
    conn: Connection, code: str, telegram_user_id: int, now: datetime
) -> None:
    await conn.execute(
        "UPDATE registration_codes SET used_at = ?, used_by_telegram_id = ? WHERE code = ?",
        (now.isoformat(), telegram_user_id, code),
    )


async def codes_for_unlinked(conn: Connection, now: datetime) -> list[RegistrationCode]:
    """An unused code for every active officer without a Telegram link (existing ones reused)."""
    async with conn.execute(
        "SELECT o.officer_id, (SELECT code FROM registration_codes c"
        "   WHERE c.officer_id = o.officer_id AND c.used_at IS NULL ORDER BY c.created_at LIMIT 1)"
        " FROM officers o WHERE o.active = 1 AND o.telegram_user_id IS NULL ORDER BY o.officer_id"
    ) as cur:
        rows = [(row[0], row[1]) async for row in cur]
    result = []
    for officer_id, code in rows:
        if code is None:
            code = new_code()
            await conn.execute(
                "INSERT INTO registration_codes (code, officer_id, created_at) VALUES (?, ?, ?)",
                (code, officer_id, now.isoformat()),
            )
        result.append(RegistrationCode(code=code, officer_id=officer_id))
    return result


async def replace_codes(
    conn: Connection, officer_id: str, now: datetime
) -> RegistrationCode:
    """A new code for the officer; the unused codes issued before stop working."""
    await conn.execute(
        "DELETE FROM registration_codes WHERE officer_id = ? AND used_at IS NULL", (officer_id,)
    )
    code = new_code()
    await conn.execute(
        "INSERT INTO registration_codes (code, officer_id, created_at) VALUES (?, ?, ?)",
        (code, officer_id, now.isoformat()),
    )
    return RegistrationCode(code=code, officer_id=officer_id)
