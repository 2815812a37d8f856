"""Inline keyboards: the buttons of a problem alert, the review of reports and the read receipt
of an announcement. The button data are the rules' (`bot.rules`); the labels come from the texts."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.present.review import ReviewItem
from bot.present.texts import Texts
from bot.rules.announcements import READ_PREFIX
from bot.rules.problems import FORWARD, PREFIX, RESOLVE, TAKE, VISITED, has_revisit
from bot.rules.review import APPROVE, RETURN
from db.models import ESCALATED, IN_PROGRESS, RESOLVED, ProblemModel


def status_markup(
    problem: ProblemModel, t: Texts, *, forward: bool = True
) -> InlineKeyboardMarkup | None:
    """Ditangani / Selesai / Teruskan ke KOSEKA, minus the one it already is; None once resolved."""
    if problem.status == RESOLVED:
        return None
    def button(key: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(t(key), callback_data=f"{PREFIX}:{action}:{problem.id}")

    row = [button("btn_problem_take", TAKE)] if problem.status != IN_PROGRESS else []
    row.append(button("btn_problem_resolve", RESOLVE))
    rows = [row]
    if forward and problem.status != ESCALATED:
        rows.append([button("btn_problem_forward", FORWARD)])
    return InlineKeyboardMarkup(rows)


def visited_markup(problems: Sequence[ProblemModel], t: Texts) -> InlineKeyboardMarkup | None:
    """Sudah dikunjungi, for each problem that still has households to revisit (`has_revisit`)."""
    rows = [
        [InlineKeyboardButton(t("btn_problem_visited", id=p.id),
                              callback_data=f"{PREFIX}:{VISITED}:{p.id}")]
        for p in problems
        if has_revisit(p)
    ]
    return InlineKeyboardMarkup(rows) if rows else None


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


def read_markup(t: Texts, recipient_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t("bc_btn_read"), callback_data=f"{READ_PREFIX}:{recipient_id}")]]
    )
