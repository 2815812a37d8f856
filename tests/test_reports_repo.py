"""The report repository: a replacement is saved only over the version the officer saw, a
submission is saved once, and every version is kept."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from db.connection import Database
from db.progress import area_progress, kecamatan_progress
from db.reports import (
    approve_reports,
    get_report,
    review_report,
    save_report,
    submission_saved,
)
from tests.support import at, load_roster

DAY, SLS = date(2022, 10, 17), "1410012006001"


async def test_replacement_only_over_the_version_that_was_confirmed(
    tmp_path: Path, database: Path | str
) -> None:
    await load_roster(database, at(17), tmp_path)
    db = Database(database)
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


async def _revisions(db: Database) -> list[tuple]:
    async with db.conn.execute(
        "SELECT revision, progress_value, telegram_user_id, submission_token, created_at"
        " FROM report_revisions ORDER BY revision"
    ) as cur:
        return [tuple(r) async for r in cur]


async def test_a_submission_is_saved_once_and_every_version_is_kept(
    tmp_path: Path, database: Path | str
) -> None:
    await load_roster(database, at(17), tmp_path)
    db = Database(database)
    await db.open()

    async def save(households: int, token: str, replaces: int | None | object = ...):
        async with db.statement() as conn:
            return await save_report(
                conn, officer_id="P2", report_date=DAY, sls_code=SLS,
                values={"households": households, "families": households, "persons": 40},
                progress_value=households, note=None, late=False, now=at(17, 19, households),
                telegram_user_id=502, submission_token=token,
                **({} if replaces is ... else {"replaces": replaces}))

    try:
        first = await save(10, "502:a", replaces=None)
        assert first is not None and first.report.revision == 1
        # The same draft again (a second press of Kirim): nothing saved, whatever it claims.
        assert await save(10, "502:a", replaces=None) is None
        assert await save(10, "502:a", replaces=1) is None
        assert await save(10, "502:a") is None
        assert await submission_saved(db.conn, "502:a")
        assert not await submission_saved(db.conn, "502:b")

        # A review changes the status of the version, and makes no new version.
        report = await get_report(db.conn, "P2", DAY, SLS)
        assert report is not None
        async with db.transaction() as conn:
            await review_report(conn, report, reviewer_id="M1", action="returned",
                                reason="cek lagi", now=at(17, 20))
        # The correction of a returned report is `corrected`; unchecked saves replace too.
        second = await save(12, "502:b")
        assert second is not None and second.replaced and second.report.revision == 2
        assert second.report.status == "corrected"
        assert await _revisions(db) == [
            (1, 10, 502, "502:a", at(17, 19, 10).isoformat()),
            (2, 12, 502, "502:b", at(17, 19, 12).isoformat()),
        ]
    finally:
        await db.close()


async def test_a_review_only_changes_the_version_seen_while_it_waits(
    tmp_path: Path, database: Path | str
) -> None:
    await load_roster(database, at(17), tmp_path)
    db = Database(database)
    await db.open()

    async def save(households: int) -> None:
        async with db.transaction() as conn:
            await save_report(
                conn, officer_id="P2", report_date=DAY, sls_code=SLS,
                values={"households": households, "families": households, "persons": 40},
                progress_value=households, note=None, late=False, now=at(17))

    async def review(report, action: str, reviewer: str) -> bool:
        async with db.transaction() as conn:
            return await review_report(conn, report, reviewer_id=reviewer, action=action,
                                       reason="cek" if action == "returned" else None,
                                       now=at(17, 20))

    async def state() -> tuple:
        [(status,)] = await db.conn.execute_fetchall("SELECT status FROM reports")
        reviews = await db.conn.execute_fetchall(
            "SELECT reviewer_id || ':' || action FROM report_reviews ORDER BY id")
        return status, ",".join(row[0] for row in reviews)

    try:
        await save(10)
        seen = await get_report(db.conn, "P2", DAY, SLS)  # by Mahmud and by Kartini
        assert seen is not None and seen.status == "submitted"
        assert await review(seen, "returned", "M1") is True
        # Kartini approves what she read before the return: the return stays.
        assert await review(seen, "approved", "K1") is False
        assert await state() == ("returned", "M1:returned")
        assert await review(seen, "returned", "K1") is False  # nor is it returned twice

        await save(12)  # the correction: revision 2
        corrected = await get_report(db.conn, "P2", DAY, SLS)
        assert corrected is not None and corrected.status == "corrected"
        assert await review(seen, "approved", "K1") is False  # revision 1 is not there now
        assert await state() == ("corrected", "M1:returned")
        assert await review(corrected, "approved", "K1") is True
        assert await state() == ("approved", "M1:returned,K1:approved")
        assert await review(corrected, "returned", "M1") is False  # approved already
        assert await state() == ("approved", "M1:returned,K1:approved")
    finally:
        await db.close()


class _FailsAt:
    """The connection of a transaction whose `n`-th statement fails (a disk full, say)."""

    def __init__(self, conn, n: int) -> None:
        self._conn, self._left = conn, n

    def execute(self, *args, **kwargs):
        self._left -= 1
        if self._left == 0:
            raise sqlite3.OperationalError("disk I/O error")
        return self._conn.execute(*args, **kwargs)


async def test_approving_several_reports_is_all_or_nothing(
    tmp_path: Path, database: Path | str
) -> None:
    await load_roster(database, at(17), tmp_path)
    db = Database(database)
    await db.open()
    try:
        seen = []
        for officer_id, sls in (("P1", "1410012005001"), ("P1", "1410012005002"), ("P2", SLS)):
            async with db.transaction() as conn:
                saved = await save_report(
                    conn, officer_id=officer_id, report_date=DAY, sls_code=sls,
                    values={"households": 5, "families": 5, "persons": 20},
                    progress_value=5, note=None, late=False, now=at(17))
            assert saved is not None
            seen.append((saved.report.id, saved.report.revision))

        async def state() -> list[str]:
            rows = await db.conn.execute_fetchall("SELECT status FROM reports ORDER BY id")
            return [row[0] for row in rows]

        # The fourth statement (the second report's review) fails: none is approved.
        with pytest.raises(sqlite3.OperationalError):
            async with db.transaction() as conn:
                await approve_reports(_FailsAt(conn, 4), seen, reviewer_id="M1", now=at(17, 20))
        assert await state() == ["submitted"] * 3
        assert await db.conn.execute_fetchall("SELECT 1 FROM report_reviews") == []

        # One changed since it was seen (a new revision): the others are approved, it is not.
        async with db.transaction() as conn:
            await save_report(conn, officer_id="P2", report_date=DAY, sls_code=SLS,
                              values={"households": 6, "families": 6, "persons": 24},
                              progress_value=6, note=None, late=False, now=at(17, 19))
        async with db.transaction() as conn:
            approved = await approve_reports(conn, seen, reviewer_id="M1", now=at(17, 20))
        assert approved == [seen[0][0], seen[1][0]]
        assert await state() == ["approved", "approved", "submitted"]
        reviews = await db.conn.execute_fetchall(
            "SELECT report_id, revision, reviewer_id, action FROM report_reviews ORDER BY id")
        assert [tuple(r) for r in reviews] == [(i, 1, "M1", "approved") for i, _ in seen[:2]]
    finally:
        await db.close()


async def test_the_progress_per_kecamatan_sums_the_work_areas_in_the_database(
    tmp_path: Path, database: Path | str
) -> None:
    await load_roster(database, at(17), tmp_path)
    db = Database(database)
    await db.open()
    try:
        async with db.transaction() as conn:
            for officer_id, sls, households in [("P2", SLS, 12), ("P4", "1410051001001", 5)]:
                await save_report(
                    conn, officer_id=officer_id, report_date=DAY, sls_code=sls,
                    values={"households": households, "families": households, "persons": 40},
                    progress_value=households, note=None, late=False, now=at(17))
        per_area: dict[str | None, list[int]] = {}
        for area in await area_progress(db.conn):
            sums = per_area.setdefault(area.kecamatan_code, [0, 0])
            sums[0] += area.done
            sums[1] += area.target
        summed = {row.kecamatan_code: [row.done, row.target]
                  for row in await kecamatan_progress(db.conn)}
        assert summed == per_area
        assert summed["14.10.05"][0] == 5 and summed["14.10.01"][0] == 12
    finally:
        await db.close()
