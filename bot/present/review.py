"""The reports a supervisor still has to review, as plain-text button labels."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.present import formatting as fmt
from bot.present.texts import Texts
from db import areas, reports
from db.engine import Connection
from db.models import Officer


@dataclass(frozen=True)
class ReviewItem:
    """A report of today still waiting for the PML; `label` is plain text for a button."""

    report_id: int
    label: str



async def review_items(
    conn: Connection, team: Sequence[Officer], day: date, t: Texts, unit: str
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
