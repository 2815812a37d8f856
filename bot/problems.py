"""Field problems (kendala): who is alerted, who may change a status, when a problem escalates,
and how a problem reads in a message. Plain functions, tested without Telegram."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import formatting as fmt
from bot.texts import Raw, Texts
from db.models import Officer, Role
from db.problems import (
    ADMIN_LEVEL,
    ESCALATED,
    IN_PROGRESS,
    KOSEKA_LEVEL,
    RESOLVED,
    ProblemModel,
)

DESCRIPTION_MIN_CHARS = 3
DESCRIPTION_MAX_CHARS = 1000
REVISIT_MAX = 200

# Status buttons: `kd:<action>:<problem id>`.
PREFIX = "kd"
TAKE = "take"  # Ditangani
RESOLVE = "done"  # Selesai
FORWARD = "fwd"  # Teruskan ke KOSEKA
VISITED = "visit"  # Sudah dikunjungi (the reporter, from /kendala_saya)
ACTIONS = (TAKE, RESOLVE, FORWARD, VISITED)
_COUNT = re.compile(r"[0-9]{1,4}")


# --- who -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chain:
    """The supervisors above a reporter that matter for a problem."""

    pml: Officer | None
    koseka: Officer | None


def chain_from(supervisors: Sequence[Officer]) -> Chain:
    """From the supervisors nearest first: the direct PML (if it is one) and the KOSEKA above."""
    pml = supervisors[0] if supervisors and supervisors[0].role == Role.PML else None
    koseka = next((o for o in supervisors if o.role == Role.KOSEKA), None)
    return Chain(pml=pml, koseka=koseka)


def may_change_status(actor: Officer, chain: Chain) -> bool:
    """The reporter's own PML, the KOSEKA above, or an admin (mirrors `may_review`)."""
    if actor.role == Role.ADMIN:
        return True
    return any(
        o is not None and o.officer_id == actor.officer_id for o in (chain.pml, chain.koseka)
    )


def may_press(actor: Officer, chain: Chain, action: str) -> bool:
    """A status button: `may_change_status`, and Teruskan ke KOSEKA only for the PML (the
    KOSEKA and the admins are above it already; the button is shown to the PML only)."""
    if action == FORWARD and actor.role != Role.PML:
        return False
    return may_change_status(actor, chain)


def _unique(officers: Iterable[Officer], exclude: Officer | None = None) -> list[Officer]:
    seen: set[str] = set()
    if exclude is not None:
        seen.add(exclude.officer_id)
    out = []
    for officer in officers:
        if officer.officer_id not in seen:
            seen.add(officer.officer_id)
            out.append(officer)
    return out


def alert_recipients(
    reporter: Officer, chain: Chain, admins: Sequence[Officer], *, urgent: bool
) -> list[Officer]:
    """The reporter's PML (the KOSEKA, then the admins, when there is none above); the KOSEKA
    too when it is urgent. Never the reporter."""
    first = chain.pml or chain.koseka
    recipients = [first] if first is not None else list(admins)
    if urgent and chain.koseka is not None:
        recipients.append(chain.koseka)
    return _unique(recipients, exclude=reporter)


def forward_recipients(actor: Officer, chain: Chain, admins: Sequence[Officer]) -> list[Officer]:
    """Teruskan ke KOSEKA: the KOSEKA above, or the admins when there is none (not the actor)."""
    recipients = [chain.koseka] if chain.koseka is not None else list(admins)
    return _unique(recipients, exclude=actor)


def escalation_recipients(level: str, chain: Chain, admins: Sequence[Officer]) -> list[Officer]:
    if level == KOSEKA_LEVEL:
        return [chain.koseka] if chain.koseka is not None else []
    return _unique(admins)


# --- what ----------------------------------------------------------------------------------


def next_status(current: str, action: str) -> str | None:
    """The status a button leads to; None when the problem already has it (nothing to do)."""
    target = {TAKE: IN_PROGRESS, RESOLVE: RESOLVED, FORWARD: ESCALATED, VISITED: RESOLVED}[action]
    return None if target == current else target


def level_hours(level: str, hours: float) -> float:
    """KOSEKA after `hours`, the admins after twice that."""
    return hours if level == KOSEKA_LEVEL else 2 * hours


def escalation_due(created_at: datetime, level: str, hours: float) -> datetime:
    return created_at + timedelta(hours=level_hours(level, hours))


def hours_text(hours: float, language: str) -> str:
    """24 -> '24', 1.5 -> '1,5' (id) or '1.5' (en)."""
    if hours == int(hours):
        return fmt.number(int(hours), language)
    text = f"{hours:g}"
    return text.replace(".", ",") if language == "id" else text


def due_levels(
    problem: ProblemModel, now: datetime, hours: float, done: set[str]
) -> list[str]:
    """Escalation levels that are due and not recorded yet, lowest first."""
    if not problem.is_open:
        return []
    return [
        level for level in (KOSEKA_LEVEL, ADMIN_LEVEL)
        if level not in done and now >= escalation_due(problem.created_at, level, hours)
    ]


def check_description(text: str) -> tuple[str, dict[str, int]] | None:
    """The text key (and values) of a refused description, or None when it is fine."""
    length = len(text.strip())
    if length < DESCRIPTION_MIN_CHARS:
        return "problem_description_short", {"min": DESCRIPTION_MIN_CHARS}
    if length > DESCRIPTION_MAX_CHARS:
        return "problem_description_long", {"max": DESCRIPTION_MAX_CHARS}
    return None


def parse_revisit(text: str) -> int | None:
    """A household count 0..REVISIT_MAX, or None when it is not one."""
    text = text.strip()
    if not _COUNT.fullmatch(text):
        return None
    value = int(text)
    return value if value <= REVISIT_MAX else None


# --- how it reads ----------------------------------------------------------------------------


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
    """Sudah dikunjungi, for each unresolved problem that still has households to revisit."""
    rows = [
        [InlineKeyboardButton(t("btn_problem_visited", id=p.id),
                              callback_data=f"{PREFIX}:{VISITED}:{p.id}")]
        for p in problems
        if p.is_open and (p.revisit_households or 0) > 0
    ]
    return InlineKeyboardMarkup(rows) if rows else None


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


def parse_callback(data: str) -> tuple[str, int] | None:
    """(action, problem id) from a status button, or None when it is not one."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != PREFIX or parts[1] not in ACTIONS:
        return None
    if not re.fullmatch(r"[0-9]{1,18}", parts[2]):  # an id SQLite can hold
        return None
    return parts[1], int(parts[2])
