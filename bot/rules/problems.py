"""Field problems (kendala): who is alerted, who may change a status, when a problem escalates,
what a description and a revisit count must be. How a problem reads is `bot.present.problems`;
its buttons are `bot.messaging.keyboards`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from db.models import (
    ADMIN_LEVEL,
    ESCALATED,
    IN_PROGRESS,
    KOSEKA_LEVEL,
    RESOLVED,
    REVISIT_CATEGORY,
    Officer,
    ProblemModel,
    Role,
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


def has_revisit(problem: ProblemModel) -> bool:
    """A not-at-home problem, not resolved, with households still to visit again: the only
    kind that has a Sudah dikunjungi button."""
    return (problem.category == REVISIT_CATEGORY and problem.is_open
            and (problem.revisit_households or 0) > 0)


def visited_refusal(actor: Officer, problem: ProblemModel) -> str | None:
    """Sudah dikunjungi, checked whatever message it came from: the text key of a refusal, or
    None when `actor` may mark the households of `problem` visited (its reporter, and only
    while `has_revisit`)."""
    if problem.officer_id != actor.officer_id or problem.category != REVISIT_CATEGORY:
        return "not_allowed"
    if not has_revisit(problem):
        return "stale_button"
    return None


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




def parse_callback(data: str) -> tuple[str, int] | None:
    """(action, problem id) from a status button, or None when it is not one."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != PREFIX or parts[1] not in ACTIONS:
        return None
    if not re.fullmatch(r"[0-9]{1,18}", parts[2]):  # an id SQLite can hold
        return None
    return parts[1], int(parts[2])
