"""Supervisor review of reports: who may review whom, and the Setujui / Kembalikan buttons."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import aiosqlite
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import formatting as fmt
from bot.texts import Texts
from db import areas, reports
from db.models import Officer, Role

APPROVE = "rv:ok"
RETURN = "rv:back"


@dataclass(frozen=True)
class ReviewItem:
    """A report of today still waiting for the PML; `label` is plain text for a button."""

    report_id: int
    label: str


def may_review(reviewer: Officer, reporter: Officer, reporter_pml: Officer | None) -> bool:
    """The reporter's own PML, the KOSEKA above that PML, or an admin."""
    if reviewer.role == Role.ADMIN:
        return True
    if reviewer.role == Role.PML:
        return reporter.supervisor_id == reviewer.officer_id
    if reviewer.role == Role.KOSEKA:
        return reporter_pml is not None and reporter_pml.supervisor_id == reviewer.officer_id
    return False


def review_markup(items: Sequence[ReviewItem], t: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"✅ {item.label}", callback_data=f"{APPROVE}:{item.report_id}"
                ),
                InlineKeyboardButton(t("btn_return"), callback_data=f"{RETURN}:{item.report_id}"),
            ]
            for item in items
        ]
    )


def without_report(
    markup: InlineKeyboardMarkup | None, report_id: int
) -> InlineKeyboardMarkup | None:
    """The same keyboard minus the row of one report (None when nothing is left)."""
    if markup is None:
        return None
    suffix = f":{report_id}"
    rows = [
        row for row in markup.inline_keyboard
        if not any((b.callback_data or "").endswith(suffix) for b in row)
    ]
    return InlineKeyboardMarkup(rows) if rows else None


async def review_items(
    conn: aiosqlite.Connection, team: Sequence[Officer], day: date, t: Texts, unit: str
) -> list[ReviewItem]:
    """The team's reports of `day` that still wait for a review, as button labels."""
    names = {o.officer_id: o.name for o in team}
    todays = await reports.list_reports(conn, officer_ids=list(names), date_from=day, date_to=day)
    items = []
    for report in todays:
        if report.status not in reports.REVIEWABLE:
            continue
        area = next((a for a in await areas.areas_of(conn, report.officer_id)
                     if a.sls_code == report.sls_code), None)
        label = html.unescape(t(  # a button label is plain text, not HTML
            "digest_review_label", name=names[report.officer_id],
            sls=area.sls_name if area else report.sls_code,
            count=fmt.number(report.progress_value, t.language), unit=unit,
        ))
        items.append(ReviewItem(report_id=report.id, label=label))
    return items
