"""The reports a supervisor still has to review, and the review messages that show them.

A review message lists each report with its number, the PPL, the SLS, every field of the form
and the note; its keyboard (`bot.messaging.keyboards.review_markup`) has "✅ Setujui N" and
"↩️ N" per report and "✅ Setujui semua".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.present.form_text import values_text
from bot.present.texts import Raw, Texts
from bot.rules.forms import FormDefinition
from db import areas, reports
from db.engine import Connection
from db.models import Officer

PAGE_SIZE = 10
"""Reports per review message: with their numbers and notes, well within a message's length,
and a keyboard one can still scroll on a phone."""


@dataclass(frozen=True)
class ReviewItem:
    """A report of the day still waiting for the PML, in the revision that is shown."""

    report_id: int
    revision: int
    name: str
    sls: str
    values: Mapping[str, int]
    note: str | None = None


@dataclass(frozen=True)
class ReviewPage:
    """One review message: its HTML text and its reports, each with its number."""

    text: str
    numbered: list[tuple[int, ReviewItem]]


def review_pages(items: Sequence[ReviewItem], t: Texts, form: FormDefinition) -> list[ReviewPage]:
    """The review messages of `items`, numbered 1, 2, ... across them, `PAGE_SIZE` a message."""
    lang = t.language
    pages = []
    for start in range(0, len(items), PAGE_SIZE):
        numbered = list(enumerate(items[start:start + PAGE_SIZE], start=start + 1))
        lines = [t("review_prompt", count=len(items))]
        for number, item in numbered:
            note = t("review_item_note", note=item.note) if item.note else ""
            lines.append(t("review_item", number=number, name=item.name, sls=item.sls,
                           values=Raw(values_text(form, item.values, lang)), note=Raw(note)))
        lines.append(t("review_hint"))
        pages.append(ReviewPage(text="\n\n".join(lines), numbered=numbered))
    return pages


async def review_items(
    conn: Connection, team: Sequence[Officer], day: date
) -> list[ReviewItem]:
    """The team's reports of `day` that still wait for a review."""
    names = {o.officer_id: o.name for o in team}
    todays = await reports.list_reports(conn, officer_ids=list(names), date_from=day, date_to=day)
    items = []
    for report in todays:
        if report.status not in reports.REVIEWABLE:
            continue
        area = next((a for a in await areas.areas_of(conn, report.officer_id)
                     if a.sls_code == report.sls_code), None)
        items.append(ReviewItem(
            report_id=report.id, revision=report.revision, name=names[report.officer_id],
            sls=area.sls_name if area else report.sls_code, values=report.values,
            note=report.note,
        ))
    return items
