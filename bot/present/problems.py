"""How a field problem reads in a message: labels, the body of an alert or a summary, and the
open problems of a digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.present import formatting as fmt
from bot.present.texts import Raw, Texts
from db.models import ProblemModel


def hours_text(hours: float, language: str) -> str:
    """24 -> '24', 1.5 -> '1,5' (id) or '1.5' (en)."""
    if hours == int(hours):
        return fmt.number(int(hours), language)
    text = f"{hours:g}"
    return text.replace(".", ",") if language == "id" else text


def status_label(status: str, t: Texts) -> str:
    return t(f"problem_status_{status}")


def category_label(category: str, t: Texts) -> str:
    return t(f"problem_cat_{category}")


def when(moment: datetime, language: str) -> str:
    return f"{fmt.short_day(moment.date(), language)} {moment:%H:%M}"


def place(problem: ProblemModel, t: Texts) -> str:
    """Plain text (not escaped): the SLS, or 'umum'."""
    if problem.sls_code is None:
        return t("problem_general")
    return f"{problem.sls_name or problem.sls_code} ({problem.sls_code})"


def attachments(problem: ProblemModel, t: Texts) -> str:
    items = []
    if problem.photo_file_id:
        items.append(t("problem_item_photo"))
    if problem.latitude is not None and problem.longitude is not None:
        items.append(t("problem_item_location"))
    return ", ".join(items) or "-"


def details(
    problem: ProblemModel, t: Texts, *, with_reporter: bool = False, preview: bool = False
) -> Raw:
    """The body of an alert or a summary (`preview`: not saved yet): user strings escaped."""
    lang = t.language
    lines = []
    if with_reporter:
        lines.append(t("problem_line_reporter", name=problem.officer_name,
                       role=problem.officer_role))
    lines += [
        t("problem_line_category", value=category_label(problem.category, t)),
        t("problem_line_place", value=place(problem, t)),
    ]
    if problem.revisit_households is not None:
        lines.append(t("problem_line_revisit", value=fmt.number(problem.revisit_households, lang)))
    lines += [
        t("problem_line_urgency",
          value=t("problem_urgency_urgent" if problem.urgent else "problem_urgency_normal")),
        t("problem_line_attachments", value=attachments(problem, t)),
    ]
    if not preview:
        lines += [
            t("problem_line_reported", value=when(problem.created_at, lang)),
            t("problem_line_status", value=status_label(problem.status, t)),
        ]
    lines.append(t("problem_line_description", value=problem.description))
    return Raw("\n".join(lines))


def problems_section(problems: Sequence[ProblemModel], texts: Texts, language: str) -> str:
    """Open problems for a digest: a header and one escaped line each (oldest first)."""
    if not problems:
        return texts("problems_section_none")
    lines = [texts("problems_section_header", count=fmt.number(len(problems), language))]
    for p in problems:
        lines.append(texts(
            "problems_section_line",
            id=p.id,
            day=fmt.short_day(p.created_at.date(), language),
            name=p.officer_name,
            category=category_label(p.category, texts),
            place=place(p, texts),
            status=status_label(p.status, texts),
            urgent=Raw(texts("problem_urgent_flag") if p.urgent else ""),
        ))
    return "\n".join(lines)
