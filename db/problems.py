"""Field problems (kendala): reports, status history, escalations and households to revisit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from db.engine import Connection, Row
from db.models import (
    OPEN,
    PROBLEM_STATUSES,
    Officer,
    ProblemEvent,
    ProblemModel,
)

_SELECT = """
    SELECT p.id, p.officer_id, o.name AS officer_name, o.role AS officer_role, p.category,
           p.sls_code, a.sls_name, p.desa_code, p.description, p.photo_file_id, p.latitude,
           p.longitude, p.urgent, p.revisit_households, p.status, p.created_at, p.updated_at,
           p.resolved_at
    FROM problems p
    JOIN officers o ON o.officer_id = p.officer_id
    LEFT JOIN areas a ON a.sls_code = p.sls_code
"""


def _problem(row: Row) -> ProblemModel:
    return ProblemModel(**dict(row))


async def _add_event(
    conn: Connection, problem_id: int, status: str, actor_id: str | None,
    now: datetime, note: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO problem_events (problem_id, status, actor_id, note, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (problem_id, status, actor_id, note, now.isoformat()),
    )


async def get_problem(conn: Connection, problem_id: int) -> ProblemModel | None:
    async with conn.execute(_SELECT + " WHERE p.id = ?", (problem_id,)) as cur:
        row = await cur.fetchone()
    return _problem(row) if row else None


async def submission_saved(conn: Connection, token: str) -> int | None:
    """The id of the problem saved from this draft, if any."""
    async with conn.execute("SELECT id FROM problems WHERE submission_token = ?", (token,)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else None


async def create_problem(
    conn: Connection,
    *,
    officer_id: str,
    category: str,
    description: str,
    now: datetime,
    sls_code: str | None = None,
    desa_code: str | None = None,
    photo_file_id: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    urgent: bool = False,
    revisit_households: int | None = None,
    submission_token: str | None = None,
) -> ProblemModel:
    """Insert a problem with status `open` and its first history row."""
    stamp = now.isoformat()
    [(problem_id,)] = await conn.execute_fetchall(
        "INSERT INTO problems (officer_id, category, sls_code, desa_code, description,"
        " photo_file_id, latitude, longitude, urgent, revisit_households, status, created_at,"
        " updated_at, submission_token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)"
        " RETURNING id",
        (officer_id, category, sls_code, desa_code, description, photo_file_id, latitude,
         longitude, int(urgent), revisit_households, stamp, stamp, submission_token),
    )
    await _add_event(conn, problem_id, OPEN, officer_id, now)
    problem = await get_problem(conn, problem_id)
    assert problem is not None
    return problem


async def set_status(
    conn: Connection, problem_id: int, status: str, *, actor_id: str | None,
    now: datetime, note: str | None = None,
) -> ProblemModel:
    """Change the status and record who did it and when."""
    if status not in PROBLEM_STATUSES:
        raise ValueError(f"unknown problem status {status!r}")
    stamp = now.isoformat()
    await conn.execute(
        "UPDATE problems SET status = ?, updated_at = ?,"
        " resolved_at = CASE WHEN ? = 'resolved' THEN ? ELSE NULL END WHERE id = ?",
        (status, stamp, status, stamp, problem_id),
    )
    await _add_event(conn, problem_id, status, actor_id, now, note)
    problem = await get_problem(conn, problem_id)
    assert problem is not None
    return problem


async def clear_revisit(conn: Connection, problem_id: int, now: datetime) -> None:
    """The households of this problem have been visited again."""
    await conn.execute(
        "UPDATE problems SET revisit_households = 0, updated_at = ?"
        " WHERE id = ? AND revisit_households IS NOT NULL",
        (now.isoformat(), problem_id),
    )


async def events(conn: Connection, problem_id: int) -> list[ProblemEvent]:
    """The status history of one problem, oldest first."""
    async with conn.execute(
        "SELECT problem_id, status, actor_id, note, created_at FROM problem_events"
        " WHERE problem_id = ? ORDER BY id",
        (problem_id,),
    ) as cur:
        return [ProblemEvent(**dict(row)) async for row in cur]


async def problems_of(
    conn: Connection, officer_id: str, *, limit: int = 10
) -> list[ProblemModel]:
    """The officer's own problems, newest first."""
    async with conn.execute(
        _SELECT + " WHERE p.officer_id = ? ORDER BY p.created_at DESC, p.id DESC LIMIT ?",
        (officer_id, limit),
    ) as cur:
        return [_problem(row) async for row in cur]


async def open_problems(
    conn: Connection, officer_ids: list[str] | None
) -> list[ProblemModel]:
    """Problems not resolved yet, reported by `officer_ids` (None: everyone), oldest first."""
    sql = _SELECT + " WHERE p.status != 'resolved'"
    params: list[object] = []
    if officer_ids is not None:
        if not officer_ids:
            return []
        sql += f" AND p.officer_id IN ({', '.join('?' * len(officer_ids))})"
        params.extend(officer_ids)
    sql += " ORDER BY p.created_at, p.id"
    async with conn.execute(sql, params) as cur:
        return [_problem(row) async for row in cur]


async def revisit_households(conn: Connection, officer_id: str) -> int:
    """Households the officer still has to visit again, over their unresolved problems."""
    async with conn.execute(
        "SELECT COALESCE(SUM(revisit_households), 0) FROM problems"
        " WHERE officer_id = ? AND status != 'resolved' AND revisit_households IS NOT NULL",
        (officer_id,),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def claim_escalation(
    conn: Connection, problem_id: int, level: str, now: datetime, source: str
) -> bool:
    """Record one escalation level; False when it was recorded before."""
    cur = await conn.execute(
        "INSERT INTO problem_escalations (problem_id, level, escalated_at, source)"
        " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (problem_id, level, now.isoformat(), source),
    )
    return cur.rowcount == 1


async def escalation_levels(
    conn: Connection, problem_ids: Iterable[int]
) -> dict[int, set[str]]:
    """The levels already recorded, per problem."""
    ids = list(problem_ids)
    if not ids:
        return {}
    found: dict[int, set[str]] = {i: set() for i in ids}
    async with conn.execute(
        "SELECT problem_id, level FROM problem_escalations"
        f" WHERE problem_id IN ({', '.join('?' * len(ids))})",
        ids,
    ) as cur:
        async for row in cur:
            found[int(row[0])].add(row[1])
    return found


async def supervisor_chain(conn: Connection, officer_id: str) -> list[Officer]:
    """The officer's supervisor, theirs, and so on up the tree (nearest first)."""
    async with conn.execute(
        """
        WITH RECURSIVE up(officer_id, depth) AS (
            SELECT supervisor_id, 1 FROM officers
            WHERE officer_id = ? AND supervisor_id IS NOT NULL
            UNION
            SELECT o.supervisor_id, up.depth + 1 FROM officers o
            JOIN up ON o.officer_id = up.officer_id
            WHERE o.supervisor_id IS NOT NULL AND up.depth < 10
        )
        SELECT o.officer_id, o.name, o.role, o.supervisor_id, o.phone, o.kecamatan_code,
               o.desa_code, o.active, o.telegram_user_id, o.telegram_chat_id, o.unreachable_at
        FROM up JOIN officers o ON o.officer_id = up.officer_id
        ORDER BY up.depth
        """,
        (officer_id,),
    ) as cur:
        return [Officer(**dict(row)) async for row in cur]
