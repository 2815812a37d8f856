"""Supervisor review of reports: who may review whom, and the Setujui / Kembalikan buttons."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.texts import Texts
from db.models import Officer, Role

APPROVE = "rv:ok"
RETURN = "rv:back"


class Reviewable(Protocol):
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


def review_markup(items: Sequence[Reviewable], t: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(f"✅ {item.label}", callback_data=f"{APPROVE}:{item.report_id}"),
                InlineKeyboardButton(t("btn_return"), callback_data=f"{RETURN}:{item.report_id}"),
            ]
            for item in items
        ]
    )


def without_report(markup: InlineKeyboardMarkup | None, report_id: int) -> InlineKeyboardMarkup | None:
    """The same keyboard minus the row of one report (None when nothing is left)."""
    if markup is None:
        return None
    suffix = f":{report_id}"
    rows = [
        row for row in markup.inline_keyboard
        if not any((b.callback_data or "").endswith(suffix) for b in row)
    ]
    return InlineKeyboardMarkup(rows) if rows else None
