"""The report repository: a replacement is saved only over the version the officer saw."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from db.connection import Database
from db.reports import save_report
from tests.conftest import at, load_roster


async def test_replacement_only_over_the_version_that_was_confirmed(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    await load_roster(path, at(17), tmp_path)
    db = Database(path)
    await db.open()

    async def save(households: int, replaces: int | None):
        async with db.transaction() as conn:
            return await save_report(
                conn, officer_id="P2", report_date=date(2022, 10, 17), sls_code="1410012006001",
                values={"households": households, "families": households, "persons": 40},
                progress_value=households, note=None, late=False, now=at(17),
                replaces=replaces)

    try:
        first = await save(10, replaces=None)
        assert first is not None and not first.replaced and first.report.revision == 1
        # Someone confirmed over "no report yet", but one was saved meanwhile: nothing saved.
        assert await save(11, replaces=None) is None
        second = await save(12, replaces=1)
        assert second is not None and second.replaced and second.report.revision == 2
        assert await save(13, replaces=1) is None  # revision 2 is there now
        async with db.conn.execute("SELECT progress_value, revision FROM reports") as cur:
            assert [tuple(r) async for r in cur] == [(12, 2)]
    finally:
        await db.close()
