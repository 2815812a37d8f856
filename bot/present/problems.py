"""How a field problem reads in a message: labels, the body of an alert or a summary, and the
open problems of a digest.

Urgent problems come first wherever several are listed (`urgent_first`); an alert or a list
item puts the description right under its headline (`item`). Households to visit again are
counted in the unit of the form's progress field (`revisit_unit`), never a hard-coded "ruta".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from bot.present import formatting as fmt
from bot.present.texts import Raw, Texts
from bot.rules.forms import FormDefinition
from db.models import ProblemModel


def hours_text(hours: float, language: str) -> str:
    """24 -> '24', 1.5 -> '1,5' (id) or '1.5' (en)."""
    if hours == int(hours):
        return fmt.number(int(hours), language)
    text = f"{hours:g}"
    return text.replace(".", ",") if language == "id" else text


def revisit_unit(form: FormDefinition, language: str) -> str:
    """What a revisit count counts: the unit of the form's progress field ('ruta')."""
    return form.field(form.progress_field).unit(language)


def capitalized(text: str) -> str:
    """'ruta' -> 'Ruta' (only the first letter; 'KK' stays 'KK')."""
    return text[:1].upper() + text[1:]


def urgent_first(problems: Sequence[ProblemModel]) -> list[ProblemModel]:
    """Urgent problems before the others; each group keeps its order (oldest first)."""
    return sorted(problems, key=lambda p: not p.urgent)


def status_label(status: str, t: Texts) -> str:
    return t(f"problem_status_{status}")


def category_label(category: str, t: Texts) -> str:
    return t(f"problem_cat_{category}")


def when(moment: datetime, language: str, tz: tzinfo | None = None) -> str:
    """'Sen, 17 Okt pukul 17.05 WIB': in `tz` (the deployment's zone), with the zone."""
    return fmt.day_time(moment, tz, language, short=True)


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


def description_line(problem: ProblemModel, t: Texts) -> str:
    return t("problem_line_description", value=problem.description)


def details(
    problem: ProblemModel, t: Texts, *, unit: str, with_reporter: bool = False,
    preview: bool = False, description: bool = True, tz: tzinfo | None = None,
) -> Raw:
    """The body of an alert or a summary (`preview`: not saved yet; `description`: with the
    description as its last line); `unit` counts the households to visit again. User strings
    are escaped. Times are shown in `tz` with its zone."""
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
        lines.append(t("problem_line_revisit", unit=capitalized(unit),
                       value=fmt.number(problem.revisit_households, lang)))
    lines += [
        t("problem_line_urgency",
          value=t("problem_urgency_urgent" if problem.urgent else "problem_urgency_normal")),
        t("problem_line_attachments", value=attachments(problem, t)),
    ]
    if not preview:
        lines += [
            t("problem_line_reported", value=when(problem.created_at, lang, tz)),
            t("problem_line_status", value=status_label(problem.status, t)),
        ]
    if description:
        lines.append(description_line(problem, t))
    return Raw("\n".join(lines))


def item(
    problem: ProblemModel, t: Texts, headline: str, *, unit: str, tz: tzinfo | None = None
) -> str:
    """An alert or a list item: the headline, the description on the second line, then the
    details (with the reporter)."""
    return "\n".join([
        headline,
        description_line(problem, t),
        details(problem, t, unit=unit, with_reporter=True, description=False, tz=tz),
    ])


def alert_headline(problem: ProblemModel, t: Texts) -> str:
    """🔔 for a new problem, 🚨 only for an urgent one."""
    key = "problem_alert_new_urgent" if problem.urgent else "problem_alert_new"
    return t(key, id=problem.id)


def problems_section(problems: Sequence[ProblemModel], texts: Texts, language: str) -> str:
    """Open problems for a digest: a header and one escaped line each (urgent first, then
    oldest first)."""
    if not problems:
        return texts("problems_section_none")
    lines = [texts("problems_section_header", count=fmt.number(len(problems), language))]
    for p in urgent_first(problems):
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
