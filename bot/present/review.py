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
from bot.present.splitting import TELEGRAM_LIMIT
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
    """The review messages of `items`, numbered 1, 2, ... across them: at most `PAGE_SIZE`
    reports a message, and each message within Telegram's length (long notes)."""
    lang = t.language
    header, hint = t("review_prompt", count=len(items)), t("review_hint")
    pages: list[ReviewPage] = []
    lines: list[str] = []
    numbered: list[tuple[int, ReviewItem]] = []

    def close() -> None:
        pages.append(ReviewPage(text="\n\n".join([header, *lines, hint]), numbered=numbered))

    for number, item in enumerate(items, start=1):
        note = t("review_item_note", note=item.note) if item.note else ""
        line = t("review_item", number=number, name=item.name, sls=item.sls,
                 values=Raw(values_text(form, item.values, lang)), note=Raw(note))
        size = len(header) + len(hint) + sum(len(x) + 2 for x in [*lines, line]) + 2
        if numbered and (len(numbered) == PAGE_SIZE or size > TELEGRAM_LIMIT):
            close()
            lines, numbered = [], []
        lines.append(line)
        numbered.append((number, item))
    if numbered:
        close()
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
