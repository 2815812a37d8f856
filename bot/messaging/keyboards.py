"""Inline keyboards: the buttons of a problem alert, the review of reports and the read receipt
of an announcement. The button data are the rules' (`bot.rules`); the labels come from the texts."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.present.review import ReviewPage
from bot.present.texts import Texts
from bot.rules.announcements import READ_PREFIX
from bot.rules.problems import FORWARD, PREFIX, RESOLVE, TAKE, VISITED, has_revisit
from bot.rules.review import (
    APPROVE,
    APPROVE_ALL,
    CANCEL_ALL,
    CONFIRM_ALL,
    RETURN,
    button_data,
    review_target,
)
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


def review_markup(page: ReviewPage, t: Texts) -> InlineKeyboardMarkup:
    """ "✅ Setujui N" / "↩️ N" per report of the message, then "✅ Setujui semua" when there
    are several."""
    rows = [
        [
            InlineKeyboardButton(t("btn_approve_n", number=number),
                                 callback_data=button_data(APPROVE, item.report_id, item.revision)),
            InlineKeyboardButton(t("btn_return_n", number=number),
                                 callback_data=button_data(RETURN, item.report_id, item.revision)),
        ]
        for number, item in page.numbered
    ]
    return InlineKeyboardMarkup(_with_approve_all(rows, t))


def _row_report(row: Sequence[InlineKeyboardButton]) -> tuple[int, int | None] | None:
    """The report (id, revision shown) a row of a review keyboard is about, if any."""
    for button in row:
        if isinstance(button.callback_data, str):
            target = review_target(button.callback_data)
            if target is not None:
                return target
    return None


def _report_rows(markup: InlineKeyboardMarkup | None) -> list[list[InlineKeyboardButton]]:
    """The rows of a review keyboard that belong to a report (not "Setujui semua" or its
    confirmation)."""
    if markup is None:
        return []
    return [list(row) for row in markup.inline_keyboard if _row_report(row) is not None]


def _with_approve_all(
    rows: list[list[InlineKeyboardButton]], t: Texts
) -> list[list[InlineKeyboardButton]]:
    if len(rows) < 2:
        return rows
    return [*rows, [InlineKeyboardButton(t("btn_approve_all"), callback_data=APPROVE_ALL)]]


def reviewed_in(markup: InlineKeyboardMarkup | None) -> list[tuple[int, int | None]]:
    """The reports (id, revision shown) whose rows are still in a review keyboard."""
    return [target for row in _report_rows(markup) if (target := _row_report(row))]


def without_reports(
    markup: InlineKeyboardMarkup | None, report_ids: Collection[int], t: Texts
) -> InlineKeyboardMarkup | None:
    """The same review keyboard minus the rows of `report_ids`, with "Setujui semua" again in
    place of a confirmation (None when no report is left)."""
    rows = [row for row in _report_rows(markup)
            if (target := _row_report(row)) and target[0] not in report_ids]
    return InlineKeyboardMarkup(_with_approve_all(rows, t)) if rows else None


def confirm_all_markup(markup: InlineKeyboardMarkup | None, t: Texts) -> InlineKeyboardMarkup:
    """The review keyboard with "Ya, setujui N laporan" / "Batal" in place of "Setujui semua"."""
    rows = _report_rows(markup)
    return InlineKeyboardMarkup([*rows, [
        InlineKeyboardButton(t("btn_approve_all_yes", count=len(rows)), callback_data=CONFIRM_ALL),
        InlineKeyboardButton(t("btn_approve_all_cancel"), callback_data=CANCEL_ALL),
    ]])


def read_markup(t: Texts, recipient_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t("bc_btn_read"), callback_data=f"{READ_PREFIX}:{recipient_id}")]]
    )
